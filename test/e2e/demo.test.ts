import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { freePort } from "@osp/testkit";

const OSP = join(resolve(import.meta.dirname, "..", "..", ".."), "packages", "cli", "bin", "osp.js");

test("osp demo starts the cluster in front of s3rver, runs a real client through it, and stops cleanly", async () => {
  const [port, adminPort] = [await freePort(), await freePort()];
  const r = spawnSync(
    process.execPath,
    [OSP, "demo", "--once", "--port", String(port), "--admin-port", String(adminPort)],
    { encoding: "utf8", timeout: 60_000 },
  );
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /gateway cluster \(2 workers\) on http:\/\/127\.0\.0\.1:\d+/);
  assert.match(r.stdout, /GetObject hello\.txt: .*\(matches\)/);
  assert.match(r.stdout, /osp_requests_total = [4-9]/);
  assert.match(r.stdout, /aws --endpoint-url http:\/\/127\.0\.0\.1:\d+ s3 ls s3:\/\/demo\//);
});
