import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createLogger } from "../src/index.js";

test("censors secrets wherever they appear in a log line", async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ level: "trace" }, sink);
  log.info({ authorization: "AWS4-HMAC-SHA256 Credential=SECRET1", endpoint: { apiKey: "SECRET2" } }, "x");
  log.debug(
    { credential: { secretAccessKey: "SECRET3" }, token: "SECRET4", query: "X-Amz-Signature=SECRET5" },
    "y",
  );
  await new Promise((r) => setImmediate(r));
  const text = lines.join("");
  assert.equal(lines.length, 2);
  for (const s of ["SECRET1", "SECRET2", "SECRET3", "SECRET4", "SECRET5"]) assert.ok(!text.includes(s), s);
  assert.match(text, /\[redacted\]/);
});

test("censors secret fields at any depth, in arrays and in errors, without changing the caller's object", async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ level: "info" }, sink);
  const facts = {
    a: { b: { c: { d: { signingKey: "SECRET6" } } } },
    list: [{ cookie: "SECRET7" }],
    kept: "ok",
  };
  const err = Object.assign(new Error("upstream said no"), { headers: { authorization: "SECRET8" } });
  log.info(facts, "deep");
  log.error({ err }, "failed");
  log.error(err, "failed alone");
  await new Promise((r) => setImmediate(r));
  const text = lines.join("");
  for (const s of ["SECRET6", "SECRET7", "SECRET8"]) assert.ok(!text.includes(s), s);
  assert.equal(facts.a.b.c.d.signingKey, "SECRET6", "the caller's object is unchanged");
  interface Line {
    kept?: string;
    msg?: string;
    err?: { message?: string; stack?: string; headers?: { authorization?: string } };
  }
  const [deep, failed, alone] = lines.map((l) => JSON.parse(l) as Line);
  assert.equal(deep?.kept, "ok");
  assert.equal(failed?.err?.message, "upstream said no");
  assert.match(String(failed?.err?.stack), /upstream said no/);
  assert.equal(alone?.msg, "failed alone");
  assert.equal(alone?.err?.headers?.authorization, "[redacted]");
});
