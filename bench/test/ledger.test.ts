import assert from "node:assert/strict";
import { test } from "node:test";
import { buildLedger, type Sample } from "../proxy/ledger.js";

const KERNEL = { sym: "_copy_from_iter", dso: "[kernel.kallsyms]" };
const js = (name: string, file: string) => ({
  sym: `JS:*${name} file:///repo/packages/${file}.js:1:1`,
  dso: "/tmp/perf-1.map",
});
const native = (sym: string, dso = "/usr/bin/node") => ({ sym, dso });

test("a system call is charged to the socket its native frames write, whatever the JIT frame is named", () => {
  const samples: Sample[] = [
    // The upstream body's write under a stale JIT name (the access log's): the upstream client's.
    {
      tid: 1,
      frames: [
        KERNEL,
        native("__GI___libc_write", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
        native("non-virtual thunk to node::LibuvStreamWrap::DoTryWrite"),
        native("Builtins_CallApiCallback"),
        js("writeAccessLine", "log/dist/src/access-line"),
      ],
    },
    // uWS sending a response the gateway ended: the HTTP front's.
    {
      tid: 1,
      frames: [
        KERNEL,
        native("__send", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
        js("respond", "gateway/dist/src/pipeline/exchange"),
      ],
    },
    // A file write (the log's destination) still goes by its JavaScript caller.
    {
      tid: 1,
      frames: [KERNEL, native("uv_fs_write"), js("writeAccessLine", "log/dist/src/access-line")],
    },
    // User time in JavaScript, and on another thread.
    { tid: 1, frames: [js("buildStringToSign", "sigv4/dist/src/string-to-sign")] },
    { tid: 2, frames: [native("v8::internal::ConcurrentMarking::RunMajor")] },
  ];
  const ledger = buildLedger(samples, [1], { seconds: 1, requests: 1, cpuUsPerRequest: 100 });
  const us = (part: string) => ledger.parts.find((p) => p.part === part)?.us ?? 0;
  assert.equal(us("kernel"), 60);
  assert.deepEqual(ledger.kernelBy, { "upstream client": 20, "HTTP front": 20, "access log": 20 });
  assert.equal(us("auth"), 20);
  assert.equal(us("other threads"), 20);
});
