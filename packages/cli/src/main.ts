/**
 * `osp` — the command line. Commands: serve, check-config, demo (DESIGN.md "Interfaces").
 * Returns the process exit code; never calls process.exit itself so tests can drive it.
 */
import { ConfigError, loadConfigFile } from "@osp/config";
import { startWorker } from "@osp/gateway";
import { createLogger } from "@osp/log";

export const HELP = `osp — an S3-compatible gateway

Usage:
  osp serve --config FILE     run the gateway (S3 listener, default port 6190)
  osp check-config FILE       validate a config file; prints every problem, exits 1 if any
  osp demo [--port N]         start a local S3 upstream and the gateway in front of it, show a client
                              using it, and keep running until interrupted
  osp --help                  this text

Signals (serve): SIGTERM/SIGINT drain in-flight requests (up to 30 s) and exit 0.
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

function optionValue(args: readonly string[], name: string): string | null {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1] ?? null;
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline === undefined ? null : inline.slice(name.length + 1);
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
  let config: ReturnType<typeof loadConfigFile>;
  try {
    config = loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const log = createLogger({ level: config.logging.level, name: "osp" });
  const worker = await startWorker(config, { log });
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal, inFlight: worker.core.inFlight }, "draining");
      void worker.close(30_000).then(() => {
        log.info("stopped");
        resolve(0);
      });
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
