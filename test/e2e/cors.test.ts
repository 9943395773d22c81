/**
 * CORS answered by osp from a bucket's `cors` rules: preflights allowed and refused without a
 * byte reaching the store, CORS headers on actual responses (the store's answers and osp's own errors),
 * none for another origin, and buckets without rules unchanged. Against s3rver and radosgw.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { radosgwAvailable } from "@osp/testkit";
import {
  errorCode,
  type Recorded,
  rawRequest,
  type Stack,
  signAsAlice,
  startStack,
  storedSize,
} from "./harness.js";

const ORIGIN = "https://app.example.com";
const OTHER_ORIGIN = "https://evil.example.net";
const CORS_YAML = `, cors: [{ allowedOrigins: ["${ORIGIN}"], allowedMethods: [GET, PUT, HEAD], allowedHeaders: [content-type, "x-amz-meta-*"], exposeHeaders: [ETag, x-amz-request-id], maxAgeSeconds: 600 }]`;
const VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

/** The response's Access-Control-* headers (and Vary), names lower-case. */
function corsOf(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => name.startsWith("access-control-") || name === "vary"),
  );
}

for (const upstream of ["s3rver", "radosgw"] as const) {
  const skip = upstream === "radosgw" && !radosgwAvailable() ? "Ceph is not installed" : false;
  describe(`CORS through osp to ${upstream}`, { skip }, () => {
    let stack: Stack;
    const recorded: Recorded[] = [];
    before(async () => {
      stack = await startStack({
        upstream,
        dataBucketYaml: CORS_YAML,
        // Names alice may use ("ext-*") that no store bucket backs: the store answers NoSuchBucket.
        bucketsYaml: `  "ext-*": { endpoint: local${CORS_YAML} }`,
        recordUpstream: recorded,
      });
      await stack.client().send(new PutObjectCommand({ Bucket: "data", Key: "cors/seed.txt", Body: "seed" }));
    });
    after(async () => {
      await stack?.close();
    });

    const preflight = (path: string, headers: Array<[string, string]>) =>
      rawRequest(stack.endpoint, { method: "OPTIONS", path, headers: [["host", "h"], ...headers] });

    test("answers an allowed preflight itself, unauthenticated, and sends nothing of it to the store", async () => {
      const before = recorded.length;
      const res = await preflight("/data/cors/new.txt", [
        ["origin", ORIGIN],
        ["access-control-request-method", "PUT"],
        ["access-control-request-headers", "content-type,x-amz-meta-colour"],
      ]);
      assert.equal(res.status, 200, res.body);
      assert.equal(res.body, "");
      assert.deepEqual(corsOf(res.headers), {
        "access-control-allow-origin": ORIGIN,
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET, PUT, HEAD",
        "access-control-allow-headers": "content-type, x-amz-meta-colour",
        "access-control-expose-headers": "ETag, x-amz-request-id",
        "access-control-max-age": "600",
        vary: VARY,
      });
      assert.ok(res.headers["x-amz-request-id"]);
      assert.equal(recorded.length, before, "the store saw none of the preflight");
      assert.equal(await storedSize(stack, "cors/new.txt"), null);
    });

    test("refuses a preflight no rule allows with 403 AccessForbidden and no CORS headers", async () => {
      const before = recorded.length;
      for (const headers of [
        [
          ["origin", OTHER_ORIGIN],
          ["access-control-request-method", "PUT"],
        ],
        [
          ["origin", ORIGIN],
          ["access-control-request-method", "DELETE"],
        ],
        [
          ["origin", ORIGIN],
          ["access-control-request-method", "PUT"],
          ["access-control-request-headers", "x-amz-acl"],
        ],
      ] as Array<Array<[string, string]>>) {
        const res = await preflight("/data/cors/seed.txt", headers);
        assert.equal(res.status, 403, JSON.stringify(headers));
        assert.equal(errorCode(res.body), "AccessForbidden");
        assert.match(res.body, /CORSResponse: This CORS request is not allowed/);
        assert.match(res.body, /<ResourceType>OBJECT<\/ResourceType>/);
        assert.deepEqual(corsOf(res.headers), {});
      }
      const noOrigin = await preflight("/data", [["access-control-request-method", "GET"]]);
      assert.equal(noOrigin.status, 400);
      assert.equal(recorded.length, before, "the store saw none of the preflights");
    });

    test("a glob key's rules answer for every name it serves, and reach its actual responses", async () => {
      const before = recorded.length;
      const res = await preflight("/ext-web/app.js", [
        ["origin", ORIGIN],
        ["access-control-request-method", "GET"],
      ]);
      assert.equal(res.status, 200, res.body);
      assert.equal(res.headers["access-control-allow-origin"], ORIGIN);
      assert.equal(recorded.length, before, "the store saw none of the preflight");
      const signed = signAsAlice(
        stack.endpoint,
        "GET",
        "/ext-web/app.js",
        [["origin", ORIGIN]],
        "UNSIGNED-PAYLOAD",
      );
      const got = await rawRequest(stack.endpoint, {
        method: "GET",
        path: "/ext-web/app.js",
        headers: signed.headers,
      });
      assert.equal(errorCode(got.body), "NoSuchBucket", got.body);
      assert.equal(got.headers["access-control-allow-origin"], ORIGIN);
      assert.ok(recorded.length > before, "the GET reached the store");
    });

    test("a bucket without cors rules still refuses an unsigned OPTIONS with 403 AccessDenied", async () => {
      const res = await preflight("/mapped/x", [
        ["origin", ORIGIN],
        ["access-control-request-method", "GET"],
      ]);
      assert.equal(res.status, 403);
      assert.equal(errorCode(res.body), "AccessDenied");
      assert.deepEqual(corsOf(res.headers), {});
    });

    test("adds CORS headers to a PUT and a GET whose Origin matches, and none for another origin or none", async () => {
      const body = Buffer.from("uploaded by a browser");
      const put = signAsAlice(
        stack.endpoint,
        "PUT",
        "/data/cors/put.txt",
        [
          ["content-length", String(body.length)],
          ["origin", ORIGIN],
        ],
        "UNSIGNED-PAYLOAD",
      );
      const putRes = await rawRequest(stack.endpoint, {
        method: "PUT",
        path: "/data/cors/put.txt",
        headers: put.headers,
        body,
      });
      assert.equal(putRes.status, 200, putRes.body);
      assert.deepEqual(corsOf(putRes.headers), {
        "access-control-allow-origin": ORIGIN,
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "ETag, x-amz-request-id",
        vary: VARY,
      });
      const get = (origin: string | null) => {
        const extra: Array<[string, string]> = origin === null ? [] : [["origin", origin]];
        const signed = signAsAlice(stack.endpoint, "GET", "/data/cors/put.txt", extra, "UNSIGNED-PAYLOAD");
        return rawRequest(stack.endpoint, {
          method: "GET",
          path: "/data/cors/put.txt",
          headers: signed.headers,
        });
      };
      const matching = await get(ORIGIN);
      assert.equal(matching.status, 200);
      assert.equal(matching.body, body.toString());
      assert.equal(matching.headers["access-control-allow-origin"], ORIGIN);
      assert.equal(matching.headers["access-control-expose-headers"], "ETag, x-amz-request-id");
      for (const origin of [OTHER_ORIGIN, null]) {
        const res = await get(origin);
        assert.equal(res.status, 200);
        assert.deepEqual(corsOf(res.headers), {}, String(origin));
      }
    });

    test("the store's errors and osp's own carry CORS headers for a matching Origin", async () => {
      const missing = signAsAlice(
        stack.endpoint,
        "GET",
        "/data/cors/missing.txt",
        [["origin", ORIGIN]],
        "UNSIGNED-PAYLOAD",
      );
      const notFound = await rawRequest(stack.endpoint, {
        method: "GET",
        path: "/data/cors/missing.txt",
        headers: missing.headers,
      });
      assert.equal(notFound.status, 404);
      assert.equal(notFound.headers["access-control-allow-origin"], ORIGIN);

      const forged = signAsAlice(
        stack.endpoint,
        "GET",
        "/data/cors/seed.txt",
        [["origin", ORIGIN]],
        "UNSIGNED-PAYLOAD",
        {
          as: { accessKeyId: "ALICEACCESSKEY01", secretAccessKey: "not-alices-secret-key" },
        },
      );
      const badSignature = await rawRequest(stack.endpoint, {
        method: "GET",
        path: "/data/cors/seed.txt",
        headers: forged.headers,
      });
      assert.equal(badSignature.status, 403);
      assert.equal(errorCode(badSignature.body), "SignatureDoesNotMatch");
      assert.equal(badSignature.headers["access-control-allow-origin"], ORIGIN);
      assert.equal(badSignature.headers.vary, VARY);

      const anonymous = await rawRequest(stack.endpoint, {
        method: "GET",
        path: "/data/cors/seed.txt",
        headers: [
          ["host", "h"],
          ["origin", ORIGIN],
        ],
      });
      assert.equal(anonymous.status, 403);
      assert.equal(errorCode(anonymous.body), "AccessDenied");
      assert.equal(anonymous.headers["access-control-allow-origin"], ORIGIN);
    });
  });
}
