/**
 * A local S3 upstream for tests and the demo: s3rver (npm) in a child process. It checks the access
 * key of what osp re-signs (S3RVER/S3RVER) but, as seen in tests, not the signature itself: radosgw does. On Node 20 its
 * listing continuation tokens need `--openssl-legacy-provider`, hence the child.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface S3rverUpstream {
  readonly url: string;
  readonly port: number;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly directory: string;
  close(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1 with the given buckets created. */
export async function startS3rver(
  options: { buckets?: readonly string[]; silent?: boolean } = {},
): Promise<S3rverUpstream> {
  const require = createRequire(import.meta.url);
  const bin = join(require.resolve("s3rver/package.json"), "..", "bin", "s3rver.js");
  const directory = mkdtempSync(join(tmpdir(), "osp-s3rver-"));
  const port = await freePort();
  const args = ["--openssl-legacy-provider", bin, "-d", directory, "-a", "127.0.0.1", "-p", String(port)];
  if (options.silent !== false) args.push("--silent");
  for (const b of options.buckets ?? []) args.push("--configure-bucket", b);
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitForPort(port, 15_000, () => (child.exitCode !== null ? `s3rver exited: ${stderr}` : null));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    directory,
    async close() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
/**
 * A port nothing listens on, for a server a test starts next. Chosen below the kernel's ephemeral range
 * (`ip_local_port_range`, from 32768 by default): a port that `listen(0)` hands out comes from that range,
 * where the test's own outgoing connections also take their local ports, so one of them could hold it by
 * the time the server binds (seen: a gateway worker crash-looping on "cannot listen").
 */
export async function freePort(): Promise<number> {
  const below = ephemeralStart();
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (below - 10_000));
    if ((await listenOnce(port)) !== null) return port;
  }
  const port = await listenOnce(0);
  if (port === null) throw new Error("freePort: no port to listen on");
  return port;
}

function ephemeralStart(): number {
  try {
    const first = Number(
      readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0],
    );
    return Number.isInteger(first) && first > 11_000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

/** Listens on `port` of 127.0.0.1 and closes again: the port, or null when it is taken. */
function listenOnce(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(null));
    srv.listen(port, "127.0.0.1", () => {
      const address = srv.address();
      const bound = typeof address === "object" && address !== null ? address.port : null;
      srv.close(() => resolve(bound));
    });
  });
}

/** Resolves once something accepts TCP connections on the port; `failed()` returning text aborts. */
export async function waitForPort(
  port: number,
  timeoutMs: number,
  failed: () => string | null = () => null,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const problem = failed();
    if (problem !== null) throw new Error(problem);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
