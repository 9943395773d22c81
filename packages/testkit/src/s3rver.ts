/**
 * A local S3 upstream for tests and the demo: s3rver (npm) in a child process. It checks the access
 * key of what osp re-signs (S3RVER/S3RVER) but, as seen in tests, not the signature itself: radosgw does. On Node 20 its
 * listing continuation tokens need `--openssl-legacy-provider`, hence the child.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
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
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
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
