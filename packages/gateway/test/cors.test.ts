import assert from "node:assert/strict";
import { test } from "node:test";
import { type Config, compileConfig } from "@osp/config";
import { S3Error } from "@osp/errors";
import {
  answerPreflight,
  compileCors,
  corsResponseHeaders,
  withoutCorsHeaders,
} from "../src/cors/bucket-cors.js";
import { resolveRoute } from "../src/routing/bucket-patterns.js";
import { compileRoutes } from "../src/routing/routes.js";

/** The rules the pipeline applies to client bucket `name`: those of the key of its route. */
function rulesOf(config: Config, name: string) {
  const routes = compileRoutes(config, () => {
    throw new Error("no IAM endpoint here");
  });
  const route = resolveRoute(routes, name);
  return route === null ? undefined : compileCors(config)?.get(route.key);
}

const policies = compileCors(
  compileConfig(
    `
endpoints: { e: { url: "http://127.0.0.1:1", auth: { type: hmac, accessKeyId: a, secretAccessKey: b } } }
buckets:
  plain: { endpoint: e }
  web:
    endpoint: e
    cors:
      - allowedOrigins: ["https://app.example.com", "https://*.Example.org"]
        allowedMethods: [GET, PUT]
        allowedHeaders: [content-type, "x-amz-meta-*"]
        exposeHeaders: [ETag, x-amz-request-id]
        maxAgeSeconds: 600
      - { allowedOrigins: ["*"], allowedMethods: [GET, HEAD] }
`,
    "t",
    {},
  ),
);
const web = policies?.get("web");
assert.ok(web !== undefined);

const headers = (...pairs: Array<[string, string]>) => pairs;
const asMap = (list: Array<[string, string]> | S3Error | null) => {
  assert.ok(Array.isArray(list), String(list));
  return Object.fromEntries(list);
};

test("compiles only the buckets with cors rules, and nothing when none has any", () => {
  assert.equal(policies?.get("plain"), undefined);
  assert.equal(policies?.get("unknown"), undefined);
  const none = compileConfig(
    `
endpoints: { e: { url: "http://127.0.0.1:1", auth: { type: hmac, accessKeyId: a, secretAccessKey: b } } }
buckets: { plain: { endpoint: e } }
`,
    "t",
    {},
  );
  assert.equal(compileCors(none), null);
});

test("a glob key's rules apply to the names it serves, unless an exact key or a more specific glob serves them", () => {
  const globs = compileConfig(
    `
endpoints: { e: { url: "http://127.0.0.1:1", auth: { type: hmac, accessKeyId: a, secretAccessKey: b } } }
buckets:
  "web-*":
    endpoint: e
    cors: [{ allowedOrigins: ["https://app.example.com"], allowedMethods: [GET] }]
  "web-private-*": { endpoint: e }
  web-admin: { endpoint: e }
  "*":
    endpoint: e
    cors: [{ allowedOrigins: ["*"], allowedMethods: [HEAD] }]
`,
    "t",
    {},
  );
  assert.deepEqual([...(rulesOf(globs, "web-shop")?.rules[0]?.methods ?? [])], ["GET"]);
  assert.equal(rulesOf(globs, "web-private-x"), undefined, "the more specific glob has no rules");
  assert.equal(rulesOf(globs, "web-admin"), undefined, "the exact key has no rules");
  assert.deepEqual([...(rulesOf(globs, "other")?.rules[0]?.methods ?? [])], ["HEAD"], "the catch-all glob");
});

test("a name a glob matches but routing does not serve gets none of the glob's rules", () => {
  const aliased = compileConfig(
    `
endpoints: { e: { url: "http://127.0.0.1:1", auth: { type: hmac, accessKeyId: a, secretAccessKey: b } } }
buckets:
  data: { endpoint: e, upstreamBucket: web-data }
  "web-*":
    endpoint: e
    cors: [{ allowedOrigins: ["*"], allowedMethods: [GET] }]
`,
    "t",
    {},
  );
  assert.ok(rulesOf(aliased, "web-shop") !== undefined);
  // Upstream bucket web-data is served as "data": its name through the glob is no bucket at all.
  assert.equal(rulesOf(aliased, "web-data"), undefined);
});

test("answers a preflight from the first rule allowing its origin, method and headers", () => {
  const answer = asMap(
    answerPreflight(
      web,
      headers(
        ["origin", "https://app.example.com"],
        ["access-control-request-method", "PUT"],
        ["access-control-request-headers", "Content-Type, x-amz-meta-colour"],
      ),
      true,
    ),
  );
  assert.deepEqual(answer, {
    "access-control-allow-origin": "https://app.example.com",
    "access-control-allow-credentials": "true",
    "access-control-allow-methods": "GET, PUT",
    "access-control-allow-headers": "content-type, x-amz-meta-colour",
    "access-control-expose-headers": "ETag, x-amz-request-id",
    "access-control-max-age": "600",
    vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
  });
});

test("matches one wildcard in an origin case-insensitively, and answers * for a rule allowing any origin", () => {
  const sub = asMap(
    answerPreflight(
      web,
      headers(["origin", "https://cdn.example.org"], ["access-control-request-method", "GET"]),
      true,
    ),
  );
  assert.equal(sub["access-control-allow-origin"], "https://cdn.example.org");
  const any = asMap(
    answerPreflight(
      web,
      headers(["origin", "http://elsewhere.test"], ["access-control-request-method", "HEAD"]),
      false,
    ),
  );
  assert.equal(any["access-control-allow-origin"], "*");
  assert.equal(any["access-control-allow-credentials"], undefined);
  assert.equal(any["access-control-allow-methods"], "GET, HEAD");
});

test("refuses a preflight no rule allows with 403 AccessForbidden naming the method and resource type", () => {
  for (const [origin, method, asked] of [
    ["http://elsewhere.test", "PUT", null], // the * rule has no PUT
    ["https://app.example.com", "DELETE", null],
    ["https://app.example.com", "PUT", "x-amz-acl"], // a header no rule allows
    ["https://example.org", "PUT", null], // *.example.org needs a subdomain
  ] as const) {
    const list = headers(["origin", origin], ["access-control-request-method", method]);
    if (asked !== null) list.push(["access-control-request-headers", asked]);
    const refused = answerPreflight(web, list, true);
    assert.ok(refused instanceof S3Error, `${origin} ${method}`);
    assert.equal(refused.code, "AccessForbidden");
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.fields, [
      ["Method", method],
      ["ResourceType", "OBJECT"],
    ]);
  }
});

test("answers 400 to an OPTIONS request without Origin or Access-Control-Request-Method", () => {
  const noOrigin = answerPreflight(web, headers(["access-control-request-method", "GET"]), true);
  assert.ok(noOrigin instanceof S3Error && noOrigin.status === 400);
  const noMethod = answerPreflight(web, headers(["origin", "https://app.example.com"]), true);
  assert.ok(noMethod instanceof S3Error && noMethod.status === 400);
});

test("gives an actual response CORS headers only when its Origin and method match a rule", () => {
  assert.equal(corsResponseHeaders(web, "GET", headers(["host", "h"])), null);
  assert.deepEqual(asMap(corsResponseHeaders(web, "PUT", headers(["origin", "https://app.example.com"]))), {
    "access-control-allow-origin": "https://app.example.com",
    "access-control-allow-credentials": "true",
    "access-control-expose-headers": "ETag, x-amz-request-id",
    vary: "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
  });
  assert.equal(corsResponseHeaders(web, "PUT", headers(["origin", "http://elsewhere.test"])), null);
  assert.equal(corsResponseHeaders(web, "DELETE", headers(["origin", "https://app.example.com"])), null);
});

test("drops the store's own CORS headers and Vary, keeping the array when there are none", () => {
  const none: Array<[string, string]> = [["etag", '"x"']];
  assert.equal(withoutCorsHeaders(none), none);
  assert.deepEqual(
    withoutCorsHeaders([
      ["etag", '"x"'],
      ["access-control-allow-origin", "*"],
      ["vary", "Origin"],
    ]),
    [["etag", '"x"']],
  );
});
