import assert from "node:assert/strict";
import { test } from "node:test";
import { WORKER_SEMI_SPACE_MIB, workerExecArgv } from "../src/worker-node-flags.js";

const DEFAULT = `--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`;

test("workers get the primary's flags, --expose-gc and osp's young generation size", () => {
  assert.deepEqual(workerExecArgv([], undefined), ["--expose-gc", DEFAULT]);
  assert.deepEqual(workerExecArgv(["--heap-growing-percent=25"], "--max-old-space-size=512"), [
    "--heap-growing-percent=25",
    "--expose-gc",
    DEFAULT,
  ]);
});

test("a semi-space size the operator chose, in any spelling or in NODE_OPTIONS, is left alone", () => {
  for (const flag of [
    "--max-semi-space-size=32",
    "--max_semi_space_size=32",
    "--min-semi-space-size=4",
    "--max-semi-space-size",
  ]) {
    assert.deepEqual(workerExecArgv([flag], undefined), [flag, "--expose-gc"], flag);
    assert.deepEqual(
      workerExecArgv([], `--enable-source-maps\t ${flag}`),
      ["--expose-gc"],
      `NODE_OPTIONS ${flag}`,
    );
  }
  assert.deepEqual(workerExecArgv(["--max-semi-space-size-x=1"], "--semi-space-growth-factor=2"), [
    "--max-semi-space-size-x=1",
    "--expose-gc",
    DEFAULT,
  ]);
});
