import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { assertNativeUws, describeNonNativeUws, NativeUwsError } from "../src/index.js";

const require = createRequire(import.meta.url);

test("the installed uWebSockets.js is the native build", () => {
  assertNativeUws();
  assert.equal(describeNonNativeUws(require("uWebSockets.js")), null);
});

test("recognises the package's own pure-JS fallback module", () => {
  // The very module uWS falls back to when its binary does not load.
  const fallback = require("uWebSockets.js/dist/index.js");
  assert.match(describeNonNativeUws(fallback) ?? "", /no function SSLApp|is JavaScript/);
});

test("recognises fake module shapes: missing exports, JavaScript and bound functions", () => {
  const native = require("uWebSockets.js") as Record<string, unknown>;
  assert.equal(describeNonNativeUws(null), "the module exports no object");
  assert.equal(describeNonNativeUws("uws"), "the module exports no object");
  assert.equal(describeNonNativeUws({}), "it has no function App");
  assert.equal(describeNonNativeUws({ ...native, App: () => ({}) }), "App is JavaScript, not native code");
  assert.equal(
    describeNonNativeUws({ ...native, _cfg: (() => {}).bind(null) }),
    "_cfg is JavaScript, not native code",
  );
  assert.equal(
    describeNonNativeUws({ ...native, us_socket_local_port: 1 }),
    "it has no function us_socket_local_port",
  );
  assert.equal(describeNonNativeUws({ ...native }), null);
});

test("refuses to start when uWS runs its fallback, with a message that says why", () => {
  const entry = join(import.meta.dirname, "..", "src", "index.js");
  const script = `
    import { assertNativeUws, startHttpServer } from ${JSON.stringify(entry)};
    try { assertNativeUws(); console.log("no error"); } catch (err) { console.log(err.name, err.code, err.message); }
    await startHttpServer({ host: "127.0.0.1", port: 0 }, () => {}).then(
      () => console.log("started"),
      (err) => console.log("start failed:", err.name),
    );
  `;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { ...process.env, UWS_USE_FALLBACK: "1" },
    encoding: "utf8",
    timeout: 20_000,
  });
  assert.match(
    child.stdout,
    /NativeUwsError OSP_HTTP_NATIVE_UWS uWebSockets\.js is its slow pure-JS fallback/,
  );
  assert.match(child.stdout, /start failed: NativeUwsError/);
  assert.doesNotMatch(child.stdout, /no error|started/);
});

test("NativeUwsError is an Error with a stable code", () => {
  const err = new NativeUwsError("x");
  assert.ok(err instanceof Error);
  assert.equal(err.code, "OSP_HTTP_NATIVE_UWS");
  assert.equal(err.name, "NativeUwsError");
});
