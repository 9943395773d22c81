import assert from "node:assert/strict";
import { test } from "node:test";
import {
  WORKER_OLD_SPACE_MIB,
  WORKER_SEMI_SPACE_MIB,
  workerExecArgv,
  workerOldSpaceMib,
} from "../src/worker-node-flags.js";

const MiB = 2 ** 20;
const L1 = 16 * MiB;
const SEMI = `--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`;
const OLD = `--max-old-space-size=${WORKER_OLD_SPACE_MIB}`;

test("workers get the primary's flags, --expose-gc and osp's sizes for both generations", () => {
  assert.deepEqual(workerExecArgv([], undefined, L1), ["--expose-gc", SEMI, OLD]);
  assert.deepEqual(workerExecArgv(["--heap-growing-percent=25"], "--enable-source-maps", L1), [
    "--heap-growing-percent=25",
    "--expose-gc",
    SEMI,
    OLD,
  ]);
});

test("the old generation's limit leaves room for four times a large L1", () => {
  assert.equal(workerOldSpaceMib(L1), 1024);
  assert.equal(workerOldSpaceMib(256 * MiB), 1024);
  assert.equal(workerOldSpaceMib(512 * MiB), 2048);
  assert.equal(workerOldSpaceMib(300 * MiB + 1), 1201);
  assert.deepEqual(workerExecArgv([], undefined, 1024 * MiB), [
    "--expose-gc",
    SEMI,
    "--max-old-space-size=4096",
  ]);
});

test("a size the operator chose, in any spelling or in NODE_OPTIONS, is left alone", () => {
  const cases: Array<[string, string]> = [
    ["--max-semi-space-size=32", OLD],
    ["--max_semi_space_size=32", OLD],
    ["--min-semi-space-size=4", OLD],
    ["--max-semi-space-size", OLD],
    ["--max-old-space-size=300", SEMI],
    ["--max_old_space_size=300", SEMI],
    ["--max-heap-size=500", SEMI],
  ];
  for (const [flag, ours] of cases) {
    assert.deepEqual(workerExecArgv([flag], undefined, L1), [flag, "--expose-gc", ours], flag);
    assert.deepEqual(
      workerExecArgv([], `--enable-source-maps\t ${flag}`, L1),
      ["--expose-gc", ours],
      `NODE_OPTIONS ${flag}`,
    );
  }
  assert.deepEqual(
    workerExecArgv(
      ["--max-semi-space-size-x=1", "--max-old-space-size-y=2"],
      "--semi-space-growth-factor=2",
      L1,
    ),
    ["--max-semi-space-size-x=1", "--max-old-space-size-y=2", "--expose-gc", SEMI, OLD],
  );
});
