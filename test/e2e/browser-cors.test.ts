/**
 * A real browser through osp: headless Chromium loads a page from another origin (another port)
 * whose script uploads through a presigned PUT (with a signed x-amz-meta header, so the browser preflights)
 * and reads the object back through a presigned GET, then writes what it saw into the DOM (`--dump-dom`).
 * The same page loaded from an origin no rule allows must fail, and leave nothing at the store. Skipped where
 * Chromium is not installed (scripts/install-system-deps.sh installs Debian's `chromium`).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { presignUrl } from "@osp/sigv4";
import { closeServer, listenOnLoopback, radosgwAvailable } from "@osp/testkit";
import { ALICE, type Stack, startStack, storedSize } from "./harness.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((path) => existsSync(path));

/** What the page's script reports: statuses, the headers CORS exposes to it, and the body it read back. */
interface PageOutcome {
  readonly put?: number;
  readonly etag?: string | null;
  readonly get?: number;
  readonly text?: string;
  readonly colour?: string | null;
  readonly error?: string;
}

/** The page: its script runs both requests and writes the outcome as JSON into `#out`. */
function page(putUrl: string, getUrl: string): string {
  return `<!doctype html><html><body><pre id="out">pending</pre><script>
(async () => {
  const out = document.getElementById("out");
  try {
    const put = await fetch(${JSON.stringify(putUrl)}, {
      method: "PUT",
      headers: { "x-amz-meta-colour": "blue" },
      body: "uploaded by chromium",
    });
    const get = await fetch(${JSON.stringify(getUrl)});
    out.textContent = JSON.stringify({
      put: put.status,
      etag: put.headers.get("etag"),
      get: get.status,
      text: await get.text(),
      colour: get.headers.get("x-amz-meta-colour"),
    });
  } catch (e) {
    out.textContent = JSON.stringify({ error: String(e) });
  }
})();
</script></body></html>`;
}

/** Loads `url` in headless Chromium with a fresh profile and returns the page's outcome. */
async function runPage(url: string): Promise<PageOutcome> {
  const profile = mkdtempSync(join(tmpdir(), "osp-chromium-"));
  try {
    const dom = await new Promise<string>((resolve, reject) => {
      execFile(
        CHROMIUM!,
        [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          `--user-data-dir=${profile}`,
          // Virtual time waits for the page's fetches; the budget only bounds timers.
          "--virtual-time-budget=10000",
          "--dump-dom",
          url,
        ],
        { timeout: 60_000, maxBuffer: 1024 * 1024 },
        (err, stdout, stderr) =>
          err === null ? resolve(stdout) : reject(new Error(`${err.message}\n${stderr}`)),
      );
    });
    const text = /<pre id="out">([^<]*)<\/pre>/.exec(dom)?.[1];
    assert.ok(text !== undefined, `no outcome in the page:\n${dom}`);
    const json = text
      .replaceAll("&quot;", '"')
      .replaceAll("&lt;", "<")
      .replaceAll("&gt;", ">")
      .replaceAll("&amp;", "&");
    assert.notEqual(json, "pending", "the page's script did not finish");
    return JSON.parse(json) as PageOutcome;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

for (const upstream of ["s3rver", "radosgw"] as const) {
  const skip =
    CHROMIUM === undefined
      ? "Chromium is not installed (run scripts/install-system-deps.sh as root)"
      : upstream === "radosgw" && !radosgwAvailable()
        ? "Ceph is not installed"
        : false;
  describe(`Chromium through osp to ${upstream}`, { skip }, () => {
    let stack: Stack;
    let pagePort = 0;
    const pages = createServer((req, res) => {
      const key = new URL(req.url ?? "/", "http://x").searchParams.get("key") ?? "browser/none.txt";
      const host = new URL(stack.endpoint).host;
      const presign = (method: string, headers: Array<[string, string]>) =>
        stack.endpoint +
        presignUrl({
          method,
          rawPath: `/data/${key}`,
          host,
          headers,
          accessKeyId: ALICE.accessKeyId,
          secretAccessKey: ALICE.secretAccessKey,
          region: "us-east-1",
          expiresSeconds: 300,
        });
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(page(presign("PUT", [["x-amz-meta-colour", "blue"]]), presign("GET", [])));
    });

    before(async () => {
      pagePort = await listenOnLoopback(pages);
      const origin = `http://127.0.0.1:${pagePort}`;
      stack = await startStack({
        upstream,
        dataBucketYaml: `, cors: [{ allowedOrigins: ["${origin}"], allowedMethods: [GET, PUT, HEAD], allowedHeaders: ["x-amz-meta-*", content-type], exposeHeaders: [ETag, x-amz-meta-colour] }]`,
      });
    });
    after(async () => {
      await closeServer(pages);
      await stack?.close();
    });

    test("a page from an allowed origin uploads through a presigned PUT and reads the object back", async () => {
      const outcome = await runPage(`http://127.0.0.1:${pagePort}/?key=browser/allowed.txt`);
      assert.equal(outcome.error, undefined, outcome.error);
      assert.equal(outcome.put, 200);
      assert.match(outcome.etag ?? "", /^"[0-9a-f]{32}"$/);
      assert.equal(outcome.get, 200);
      assert.equal(outcome.text, "uploaded by chromium");
      assert.equal(outcome.colour, "blue");
      const stored = await stack
        .direct()
        .send(new GetObjectCommand({ Bucket: "data", Key: "browser/allowed.txt" }));
      assert.equal(await stored.Body?.transformToString(), "uploaded by chromium");
      assert.equal(stored.Metadata?.colour, "blue");
    });

    test("the same page from an origin no rule allows fails in the browser and stores nothing", async () => {
      // localhost and 127.0.0.1 are different origins: the preflight is refused, the PUT never sent.
      const outcome = await runPage(`http://localhost:${pagePort}/?key=browser/refused.txt`);
      assert.match(outcome.error ?? "", /TypeError|Failed to fetch/);
      assert.equal(await storedSize(stack, "browser/refused.txt"), null);
    });
  });
}
