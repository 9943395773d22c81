/**
 * The processes a bench run starts (nginx, osp, the bearer upstream): each in its own process group so that
 * stopping the group also stops nginx's workers and osp's cluster workers; all of them are killed when the
 * bench exits, however it exits.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { join } from "node:path";

export const HOST = "127.0.0.1";
export const repoRoot = join(import.meta.dirname, "..", "..", "..");

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** The last 8 KB of its stdout and stderr together (stderr only when stdout goes to a file). */
  output(): string;
  /** SIGTERM to its group, SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Child>();
/** Scratch directories to remove however the run ends (they may sit on tmpfs, i.e. in memory). */
const scratch = new Set<string>();

export function removeOnExit(dir: string): void {
  scratch.add(dir);
}

function alive(c: ChildProcess): boolean {
  return c.exitCode === null && c.signalCode === null;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/** SIGKILLs every group still running and removes the scratch directories: on exit, error or Ctrl-C. */
export function killAll(): void {
  for (const c of running) if (alive(c.process)) killGroup(c.pid, "SIGKILL");
  running.clear();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  scratch.clear();
}
process.on("exit", killAll);
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });

/**
 * Starts `cmd` in its own process group. A child that exits before `stop()` is a failed run: `onEarlyExit`
 * gets its output (the run aborts there), since figures measured against a dead target mean nothing.
 * `stdoutFile`: its stdout goes to that file (osp's logs: read by no one, as a log file would be), not to
 * a pipe this process would have to drain.
 */
export function startChild(
  name: string,
  cmd: string,
  argv: readonly string[],
  onEarlyExit: (message: string) => void,
  stdoutFile: string | null = null,
): Child {
  const stdout = stdoutFile === null ? "pipe" : openSync(stdoutFile, "a");
  const child = spawn(cmd, argv, { cwd: repoRoot, stdio: ["ignore", stdout, "pipe"], detached: true });
  if (typeof stdout === "number") closeSync(stdout);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  let out = "";
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-8000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", (code, signal) => {
    if (!stopping) onEarlyExit(`${name} exited early (code ${code}, signal ${signal}):\n${out}`);
  });
  const handle: Child = {
    name,
    process: child,
    pid: child.pid,
    output: () => out,
    async stop(graceMs = 5000) {
      stopping = true;
      running.delete(handle);
      if (!alive(child)) return;
      killGroup(handle.pid, "SIGTERM");
      const timer = setTimeout(() => killGroup(handle.pid, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      // Whatever the leader left behind in its group (a worker that outlived its primary) goes too.
      killGroup(handle.pid, "SIGKILL");
    },
  };
  running.add(handle);
  return handle;
}

/** A port the kernel considers free right now (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, HOST, () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: HOST, port }, () => {
        sock.destroy();
        resolve(true);
      });
      sock.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${HOST}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
