# osp — build, test and run. `make test` works from a fresh clone on Debian 12 with Node 20.
SHELL := /bin/bash
PNPM_VERSION := 9.15.9
# corepack's signature check fails on Node 20.20, so pnpm is fetched from the npm registry by npx.
PNPM ?= npx --yes pnpm@$(PNPM_VERSION)

.PHONY: all system-deps install build lint test test-only fuzz bench bench-micro bench-proxy bench-quick bench-scaling bench-identity bench-upstream-client clean demo

all: build

node_modules/.modules.yaml: package.json pnpm-lock.yaml $(wildcard packages/*/package.json) bench/package.json test/package.json
	$(PNPM) install --frozen-lockfile
	@touch $@

# Debian packages the tests, the demo and the bench need (scripts/install-system-deps.sh); installs only what is missing.
system-deps:
	bash scripts/install-system-deps.sh

install: system-deps node_modules/.modules.yaml

build: install
	$(PNPM) exec tsc -b

lint: install
	$(PNPM) exec biome check .

test: build lint test-only

# Builds first: the tests run from dist/, so a stale build would test old code (run-tests.mjs skips compiled
# tests whose source is gone, and bounds every file with OSP_TEST_FILE_TIMEOUT_MS, 5 minutes by default).
test-only: build
	node scripts/run-tests.mjs

# Long fuzz run (CI runs a shorter one inside `make test`).
fuzz: build
	OSP_FUZZ_CASES=$${OSP_FUZZ_CASES:-2000000} node --test packages/sigv4/dist/test/fuzz-auth.test.js packages/sigv4/dist/test/fuzz-chunked.test.js \
		packages/upstream/dist/test/response-parser-differential.test.js

bench-micro: build
	node bench/dist/micro/run.js

# The suite of bench/README.md: every scenario against the upstream, nginx proxy_pass and osp (wrk), peak RSS
# streaming 1 GiB; writes bench/results/<date>-<commit>.json and rebuilds bench/RESULTS.md. BENCH_ARGS="--workers 2".
bench-proxy: build
	node bench/dist/proxy/run.js $(BENCH_ARGS)

# Smoke mode: every scenario ~1 s, one round, no results file (CI runs a shorter one in bench/test/quick.test.ts).
bench-quick: build
	node bench/dist/proxy/run.js --quick $(BENCH_ARGS)

# osp and nginx at 1, 2, 4, 8, 16 workers (for many-core machines); writes <date>-<commit>-scaling.json.
bench-scaling: build
	node bench/dist/proxy/run.js --scaling $${BENCH_WORKERS:-1,2,4,8,16} $(BENCH_ARGS)

# What identity and authorization add per request, warm and cold, against a local redis-server.
bench-identity: build
	node bench/dist/identity/run.js

# osp's HTTP/1.1 upstream client against undici, each in a fresh process: CPU per 1 KiB GET, RSS streaming 1 GiB.
bench-upstream-client: build
	node bench/dist/upstream-client/run.js

bench: bench-micro bench-identity bench-upstream-client bench-proxy

clean:
	rm -rf node_modules packages/*/node_modules packages/*/dist bench/dist test/dist bench/node_modules test/node_modules

demo: build
	node packages/cli/bin/osp.js demo
