import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createLineWriter } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "osp-line-writer-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("batches whole lines into writes no larger than PIPE_BUF, and writes them out on flush", async () => {
  const file = join(dir, "batches.log");
  const fd = openSync(file, "w");
  const writer = createLineWriter(fd, { flushIntervalMs: 60_000 });
  const lines = Array.from({ length: 100 }, (_, i) => `${JSON.stringify({ i, pad: "x".repeat(i * 3) })}\n`);
  for (const l of lines.slice(0, 2)) writer.write(l);
  assert.equal(readFileSync(file, "utf8"), "", "a short batch waits for its timer or a flush");
  for (const l of lines.slice(2)) writer.write(l);
  const written = readFileSync(file, "utf8");
  assert.ok(written.length > 0 && written.length < lines.join("").length, "full batches went out");
  assert.ok(written.endsWith("\n"), "only whole lines");
  await new Promise<void>((resolve) => writer.flush(() => resolve()));
  assert.equal(readFileSync(file, "utf8"), lines.join(""));
  closeSync(fd);
});

test("a process that exits without a flush still writes every line, whole and in order", () => {
  const script = `
    import { createLineWriter } from ${JSON.stringify(new URL("../src/index.js", import.meta.url).href)};
    const w = createLineWriter(1, { flushIntervalMs: 5 });
    for (let i = 0; i < 500; i++) w.write(JSON.stringify({ i, text: "é".repeat(i % 40) }) + "\\n");
  `;
  // The process exits without a flush: the writer's exit hook writes what is left.
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { maxBuffer: 2 ** 24 });
  const text = out.toString("utf8");
  const lines = text.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 500);
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as { i: number }).i),
    Array.from({ length: 500 }, (_, i) => i),
  );
});

test("counts the lines it drops once the descriptor is gone", () => {
  const fd = openSync(join(dir, "closed.log"), "w");
  closeSync(fd);
  const writer = createLineWriter(fd, { flushIntervalMs: 60_000 });
  writer.write("one\n");
  writer.write("two\n");
  writer.flush();
  writer.write("three\n");
  assert.equal(writer.droppedLines, 3);
});
