/**
 * Public reads: unsigned requests are the principal `anonymous` only where a rule names it, may
 * then read objects and list names under the rule's prefixes, and nothing else; the store is checked after
 * every refused write. Off by default. Against s3rver and radosgw.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { createLogger } from "@osp/log";
import { radosgwAvailable } from "@osp/testkit";
import { errorCode, rawRequest, type Stack, startStack, storedSize } from "./harness.js";

const PUBLIC_RULE =
  "    - { principal: anonymous, buckets: [data], prefixes: [public/], actions: [read, list] }";

for (const upstream of ["s3rver", "radosgw"] as const) {
  const skip = upstream === "radosgw" && !radosgwAvailable() ? "Ceph is not installed" : false;
  describe(`anonymous requests through osp to ${upstream}`, { skip }, () => {
    let open: Stack;
    let closed: Stack;
    const accessLines: Array<Record<string, unknown>> = [];
    before(async () => {
      const log = createLogger(
        { level: "info" },
        { write: (line: string) => accessLines.push(JSON.parse(line) as Record<string, unknown>) },
      );
      [open, closed] = await Promise.all([
        startStack({ upstream, authorizationYaml: PUBLIC_RULE, log }),
        startStack({ upstream }),
      ]);
      for (const stack of [open, closed]) {
        const s3 = stack.client();
        await s3.send(
          new PutObjectCommand({ Bucket: "data", Key: "public/hello.txt", Body: "hello, world" }),
        );
        await s3.send(new PutObjectCommand({ Bucket: "data", Key: "private/secret.txt", Body: "secret" }));
      }
    });
    after(async () => {
      await Promise.all([open?.close(), closed?.close()]);
    });

    const unsigned = (stack: Stack, method: string, path: string, body?: Buffer) =>
      rawRequest(stack.endpoint, {
        method,
        path,
        headers:
          body === undefined
            ? [["host", "h"]]
            : [
                ["host", "h"],
                ["content-length", String(body.length)],
              ],
        ...(body === undefined ? {} : { body }),
      });

    test("reads and lists under the prefix a rule grants anonymous, signed upstream by osp", async () => {
      const get = await unsigned(open, "GET", "/data/public/hello.txt");
      assert.equal(get.status, 200, get.body);
      assert.equal(get.body, "hello, world");
      const head = await unsigned(open, "HEAD", "/data/public/hello.txt");
      assert.equal(head.status, 200);
      assert.equal(head.headers["content-length"], "12");
      const list = await unsigned(open, "GET", "/data?list-type=2&prefix=public/");
      assert.equal(list.status, 200, list.body);
      assert.match(list.body, /<Key>public\/hello.txt<\/Key>/);
      assert.doesNotMatch(list.body, /private/);
      const line = accessLines.find((l) => l.operation === "GetObject" && l.status === 200);
      assert.equal(line?.principal, "anonymous");
    });

    test("refuses anonymous reads outside the rule: other keys, the whole listing, other buckets, ListBuckets", async () => {
      for (const path of [
        "/data/private/secret.txt",
        "/data?list-type=2",
        "/data?list-type=2&prefix=private/",
        "/mapped/public/hello.txt",
        "/",
        "/data/public/hello.txt?acl",
        "/data?uploads",
      ]) {
        const res = await unsigned(open, "GET", path);
        assert.equal(res.status, 403, path);
        assert.equal(errorCode(res.body), "AccessDenied", path);
      }
    });

    test("refuses anonymous writes and deletes, even under the public prefix, and the store is unchanged", async () => {
      const put = await unsigned(open, "PUT", "/data/public/new.txt", Buffer.from("planted"));
      assert.equal(put.status, 403);
      assert.equal(errorCode(put.body), "AccessDenied");
      const overwrite = await unsigned(open, "PUT", "/data/public/hello.txt", Buffer.from("defaced"));
      assert.equal(overwrite.status, 403);
      const del = await unsigned(open, "DELETE", "/data/public/hello.txt");
      assert.equal(del.status, 403);
      const multi = await unsigned(open, "POST", "/data/public/new.txt?uploads");
      assert.equal(multi.status, 403);
      const withBody = await unsigned(open, "GET", "/data/public/hello.txt", Buffer.from("x"));
      assert.equal(withBody.status, 403);

      assert.equal(await storedSize(open, "public/new.txt"), null);
      assert.equal(await storedSize(open, "public/hello.txt"), 12);
      const again = await unsigned(open, "GET", "/data/public/hello.txt");
      assert.equal(again.body, "hello, world");
    });

    test("without a rule naming anonymous, unsigned requests are refused as before", async () => {
      for (const path of ["/data/public/hello.txt", "/data?list-type=2&prefix=public/"]) {
        const res = await unsigned(closed, "GET", path);
        assert.equal(res.status, 403, path);
        assert.equal(errorCode(res.body), "AccessDenied");
        assert.match(res.body, /Anonymous access is not allowed/);
      }
    });
  });
}

describe("anonymous requests and the rate limit", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      authorizationYaml: PUBLIC_RULE,
      // One token a minute after a burst of two: the third request in a row is over the limit.
      extraYaml: "rateLimit: { enabled: true, requestsPerSecond: 0.016, burst: 2 }",
    });
    await stack
      .client()
      .send(new PutObjectCommand({ Bucket: "data", Key: "public/limited.txt", Body: "limited" }));
  });
  after(async () => {
    await stack?.close();
  });

  test("is limited per source address, apart from the signed clients' own limits", async () => {
    const get = () =>
      rawRequest(stack.endpoint, {
        method: "GET",
        path: "/data/public/limited.txt",
        headers: [["host", "h"]],
      });
    assert.equal((await get()).status, 200);
    assert.equal((await get()).status, 200);
    const third = await get();
    assert.equal(third.status, 503, third.body);
    assert.equal(errorCode(third.body), "SlowDown");
    // alice's bucket of tokens is her own (her PutObject above took one of two).
    const signed = await stack
      .client()
      .send(new PutObjectCommand({ Bucket: "data", Key: "public/x", Body: "x" }));
    assert.equal(signed.$metadata.httpStatusCode, 200);
  });
});
