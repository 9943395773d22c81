/**
 * What every benchmark's results file says about its run (machine, Node, commit, date) and how it is
 * written, so the four benchmark entry points (micro, identity, pool, proxy) name runs the same way.
 */
import { execSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";

/** The short commit of the checkout at `cwd`, and whether tracked files differ from it. */
export function gitCommit(cwd = process.cwd()): { commit: string; dirty: boolean } {
  const run = (cmd: string) => execSync(cmd, { encoding: "utf8", cwd, stdio: ["ignore", "pipe", "ignore"] });
  try {
    const commit = run("git rev-parse --short HEAD").trim();
    return { commit, dirty: run("git status --porcelain --untracked-files=no").trim() !== "" };
  } catch {
    return { commit: "unknown", dirty: false };
  }
}

/** `2 × Intel(R) Xeon(R) Processor, 24 GiB` */
export function machineLine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
}

/** `YYYY-MM-DD` (UTC). */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/**
 * Writes `doc` as `<dir>/<base>.json` and returns the path. With `keepEarlier`, a run never replaces an
 * earlier file of the same name: `<base>-2.json`, `<base>-3.json`… instead.
 */
export function writeResultsFile(dir: string, base: string, doc: unknown, keepEarlier = false): string {
  mkdirSync(dir, { recursive: true });
  let file = join(dir, `${base}.json`);
  for (let n = 2; keepEarlier && existsSync(file); n++) file = join(dir, `${base}-${n}.json`);
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
}
