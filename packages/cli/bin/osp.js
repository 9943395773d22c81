#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `make build`); this file only forwards to it.
import { main } from "../dist/src/main.js";

process.exitCode = await main(process.argv.slice(2));
