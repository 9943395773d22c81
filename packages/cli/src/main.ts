/**
 * `osp` — the command line. Commands: serve, check-config, demo (docs/operations.md "Running").
 * Returns the process exit code; never calls process.exit itself so tests can drive it.
 */
import { createRequire } from "node:module";
import { ConfigError, loadConfigFile } from "@osp/config";
import type { LogLevel } from "@osp/log";
import { optionValue } from "./options.js";

export const HELP = `osp — an S3-compatible gateway

Usage:
  osp serve --config FILE     run the gateway: a primary process and its workers (S3 listener on
                              port 6190, admin listener with /metrics /healthz /readyz on 127.0.0.1:9090)
  osp check-config FILE       validate a config file; prints every problem, exits 1 if any
  osp demo [--port N]         start a local S3 upstream and the gateway in front of it, show a client
                              using it, and keep running until interrupted
  osp --help                  this text

Signals (serve): SIGTERM/SIGINT stop accepting, finish in-flight requests (up to shutdown.drainTimeout,
  default 30 s) and exit 0. SIGHUP reloads the config file: a config with problems is refused (each problem
  logged) and the running one keeps serving.
Environment (serve): OSP_LOG_LEVEL overrides logging.level (fatal error warn info debug trace silent).
Config reference: deploy/config/osp.example.yaml
`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case "--help":
    case "-h":
    case "help":
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    case "serve":
      return serve(rest);
    case "check-config":
      return checkConfig(rest);
    case "credentials": {
      const { runCredentials } = await import("./credentials.js");
      return runCredentials(rest);
    }
    case "demo": {
      const { runDemo } = await import("./demo.js");
      return runDemo(rest);
    }
    default:
      process.stderr.write(`osp: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

async function checkConfig(args: readonly string[]): Promise<number> {
  const file = args.find((a) => !a.startsWith("-")) ?? optionValue(args, "--config");
  if (file === null || file === undefined) {
    process.stderr.write("usage: osp check-config FILE\n");
    return 2;
  }
  try {
    const config = loadConfigFile(file);
    process.stdout.write(
      `${file}: ok (${Object.keys(config.endpoints).length} endpoints, ${Object.keys(config.buckets).length} buckets, ${config.credentials.length} credentials)\n`,
    );
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function serve(args: readonly string[]): Promise<number> {
  const file = optionValue(args, "--config");
  if (file === null) {
    process.stderr.write("usage: osp serve --config FILE\n");
    return 2;
  }
  const level = process.env.OSP_LOG_LEVEL;
  if (level !== undefined && level !== "" && !LOG_LEVELS.includes(level as LogLevel)) {
    process.stderr.write(`osp: OSP_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${level}"\n`);
    return 2;
  }
  const { runPrimary } = await import("@osp/server");
  const version = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;
  return runPrimary(file, {
    logLevel: level === undefined || level === "" ? null : (level as LogLevel),
    version,
  });
}

const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
