import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { TLSSocket } from "node:tls";
import { fileURLToPath } from "node:url";
import { closeServer, listenOnLoopback } from "@osp/testkit";
import { UpstreamPools } from "../src/index.js";
import { send } from "./helpers.js";

// A test CA and a leaf for `localhost` it signed (EC P-256, valid until 2126), made with openssl once.
const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));

const servernames: Array<string | false | null> = [];
let connections = 0;
const server = createServer(
  { key: readFileSync(fixture("server.key")), cert: readFileSync(fixture("server.pem")) },
  (req, res) => {
    servernames.push((req.socket as TLSSocket).servername);
    res.end("secure");
  },
);
server.on("secureConnection", () => {
  connections += 1;
});
let origin = "";
before(async () => {
  origin = `https://localhost:${await listenOnLoopback(server)}`;
});
after(() => closeServer(server));

test("verifies the origin against its configured CA and pins TLS to the origin host, not the host header", async (t) => {
  const pools = new UpstreamPools({}, new Map([[origin, { caFile: fixture("ca.pem") }]]));
  t.after(() => pools.close());
  for (const host of ["bucket-one.s3.example", "bucket-two.s3.example"]) {
    const outcome = await send(pools, {
      origin,
      method: "GET",
      path: "/k",
      headers: [["host", host]],
      body: null,
    }).done;
    assert.equal(outcome.error, null);
    assert.equal(outcome.body.toString(), "secure");
    await new Promise(setImmediate);
  }
  assert.deepEqual(servernames, ["localhost", "localhost"]);
  assert.equal(connections, 1, "virtual-hosted requests share the connection");
});

test("refuses an origin whose certificate no trusted CA signed", async (t) => {
  const pools = new UpstreamPools();
  t.after(() => pools.close());
  const outcome = await send(pools, {
    origin,
    method: "GET",
    path: "/k",
    headers: [["host", "localhost"]],
    body: null,
  }).done;
  assert.equal(outcome.error?.code, "ServiceUnavailable");
  assert.equal(outcome.error?.source, "upstream");
  assert.match(
    String((outcome.error?.cause as { code?: unknown } | undefined)?.code),
    /CERT|SIGNATURE|UNABLE/,
  );
});

test("rejects bad pool settings when the pools are built", () => {
  assert.throws(() => new UpstreamPools({ connections: 0 }), /upstream\.defaults\.connections/);
  assert.throws(
    () => new UpstreamPools({}, new Map([["https://x.example", { headersTimeoutMs: -1 }]])),
    /upstream\.origins\[https:\/\/x\.example\]\.headersTimeoutMs/,
  );
  assert.throws(
    () => new UpstreamPools({ caFile: "/nonexistent/ca.pem" }),
    /upstream\.defaults\.caFile.*ENOENT/,
  );
});

test("refuses a caFile without a parsable certificate when the pools are built, naming the key", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "osp-ca-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pem = readFileSync(fixture("ca.pem"), "latin1");
  const files = {
    "a private key": readFileSync(fixture("server.key"), "latin1"),
    "plain text": "not a certificate\n",
    "a certificate whose base64 is damaged": pem.replace(/\n[A-Za-z0-9+/]{8}/, "\n!!!!!!!!"),
    "a certificate without its END line": pem.slice(0, pem.indexOf("-----END")),
  };
  for (const [what, content] of Object.entries(files)) {
    const file = join(dir, `${what.replaceAll(" ", "-")}.pem`);
    writeFileSync(file, content, "latin1");
    assert.throws(
      () => new UpstreamPools({}, new Map([["https://store.example", { caFile: file }]])),
      (err: Error) =>
        err instanceof TypeError &&
        err.message.startsWith("upstream.origins[https://store.example].caFile: ") &&
        err.message.includes(file),
      what,
    );
  }
  // A bundle of two certificates is fine.
  const bundle = join(dir, "bundle.pem");
  writeFileSync(bundle, pem + pem, "latin1");
  assert.doesNotThrow(() => new UpstreamPools({ caFile: bundle }));
});
