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
