/**
 * Issue #4's pluggable sources, each through a real gateway and s3rver: the authorization hook and webhook
 * (combined with the config rules, decisions cached, failing closed), the identity hook, the
 * upstream-credentials hook, presigned-URL use counting and the per-key rate limit.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createLogger } from "@osp/log";
import { closeServer, listenOnLoopback } from "@osp/testkit";
import { BOB, rejectsWith, type Stack, sdkClient, startStack } from "./harness.js";

const dir = mkdtempSync(join(tmpdir(), "osp-hooks-"));
const hook = (name: string, body: string): string => {
  const file = join(dir, name);
  writeFileSync(file, body);
  return file;
};
const calls = globalThis as unknown as { ospAuthzCalls: number; ospLookups: number };
calls.ospAuthzCalls = 0;
calls.ospLookups = 0;

describe("hooks: authorization, identity and upstream credentials", () => {
  let stack: Stack;
  const lines: string[] = [];
  before(async () => {
    const authz = hook(
      "authz.mjs",
      `export async function authorize(facts) {
  globalThis.ospAuthzCalls += 1;
  if (facts.key === "throws.txt") throw new Error("policy bug");
  if (facts.key === "throws-null.txt") throw null;
  return !(facts.key ?? "").startsWith("hook-denied/");
}`,
    );
    const identity = hook(
      "identity.mjs",
      `export function lookupSecret(accessKeyId) {
  globalThis.ospLookups += 1;
  if (accessKeyId === "HOOKACCESSKEY001") return { secretAccessKey: "hook-secret-0123456789", principal: "alice" };
  if (accessKeyId === "BAREHOOKKEY00001") return "bare-secret-0123456789";
  return null;
}`,
    );
    const upstream = hook(
      "upstream.mjs",
      `export function upstreamCredentials(bucket, principal) {
  if (bucket === "mapped") return { type: "hmac", accessKeyId: "CHOSENBYHOOK", secretAccessKey: "hook-chosen-secret" };
  return null;
}`,
    );
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    stack = await startStack({
      authorizationYaml: `  hook: ${authz}`,
      extraYaml: `identity: { hook: ${identity} }
upstreamCredentials: { hook: ${upstream} }
presign: { maxUses: 2 }`,
      log: createLogger({ level: "info" }, sink),
    });
  });
  after(async () => {
    await stack.close();
  });

  test("a request passes only when both the config rules and the hook allow it", async () => {
    const s3 = stack.client();
    await s3.send(new PutObjectCommand({ Bucket: "data", Key: "ok.txt", Body: "ok" }));
    await rejectsWith(
      s3.send(new PutObjectCommand({ Bucket: "data", Key: "hook-denied/x.txt", Body: "no" })),
      "AccessDenied",
      403,
    );
    // The rules deny `forbidden` to everyone; the hook would allow it.
    await rejectsWith(
      s3.send(new PutObjectCommand({ Bucket: "forbidden", Key: "x.txt", Body: "no" })),
      "AccessDenied",
      403,
    );
  });

  test("hook decisions are cached: the same request twice asks the hook once", async () => {
    const s3 = stack.client();
    await s3.send(new PutObjectCommand({ Bucket: "data", Key: "cached.txt", Body: "c" }));
    const before = calls.ospAuthzCalls;
    await s3.send(new GetObjectCommand({ Bucket: "data", Key: "cached.txt" }));
    await s3.send(new GetObjectCommand({ Bucket: "data", Key: "cached.txt" }));
    assert.equal(calls.ospAuthzCalls - before, 1);
  });

  test("a hook that throws denies the request, is logged, and the gateway keeps serving", async () => {
    const s3 = stack.client();
    await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: "data", Key: "throws.txt" })),
      "AccessDenied",
      403,
    );
    assert.ok(lines.some((l) => l.includes("authorization hook threw") && l.includes("policy bug")));
    // A hook may throw what is no Error: still a logged deny, not a 500.
    await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: "data", Key: "throws-null.txt" })),
      "AccessDenied",
      403,
    );
    assert.ok(lines.some((l) => l.includes("authorization hook threw") && l.includes('"err":"null"')));
    const got = await s3.send(new GetObjectCommand({ Bucket: "data", Key: "ok.txt" }));
    assert.equal(await got.Body?.transformToString(), "ok");
  });

  test("the identity hook resolves access keys the config does not know, with or without a principal", async () => {
    const viaHook = stack.client({
      accessKeyId: "HOOKACCESSKEY001",
      secretAccessKey: "hook-secret-0123456789",
    });
    const got = await viaHook.send(new GetObjectCommand({ Bucket: "data", Key: "ok.txt" }));
    assert.equal(await got.Body?.transformToString(), "ok");
    // A bare secret makes the access key its own principal, who no rule allows.
    const bare = stack.client({ accessKeyId: "BAREHOOKKEY00001", secretAccessKey: "bare-secret-0123456789" });
    await rejectsWith(
      bare.send(new GetObjectCommand({ Bucket: "data", Key: "ok.txt" })),
      "AccessDenied",
      403,
    );
    const wrong = stack.client({
      accessKeyId: "HOOKACCESSKEY001",
      secretAccessKey: "wrong-secret-0123456789",
    });
    await rejectsWith(
      wrong.send(new GetObjectCommand({ Bucket: "data", Key: "ok.txt" })),
      "SignatureDoesNotMatch",
      403,
    );
    const unknown = stack.client({ accessKeyId: "NOBODYKEY0000001", secretAccessKey: "x-secret-0123456789" });
    await rejectsWith(
      unknown.send(new GetObjectCommand({ Bucket: "data", Key: "ok.txt" })),
      "InvalidAccessKeyId",
      403,
    );
    // Unknown keys are remembered as unknown for a while: a second try does not ask the hook again.
    const before = calls.ospLookups;
    await rejectsWith(
      unknown.send(new GetObjectCommand({ Bucket: "data", Key: "ok.txt" })),
      "InvalidAccessKeyId",
      403,
    );
    assert.equal(calls.ospLookups, before);
  });

  test("the upstream-credentials hook chooses the keys osp signs with, per bucket", async () => {
    const s3 = stack.client(undefined, { maxAttempts: 1 });
    // `mapped` gets the hook's keys, which the upstream does not know: it refuses them (InvalidAccessKeyId),
    // which osp reports as its own failure, without the store's account details.
    const refused = await rejectsWith(
      s3.send(new PutObjectCommand({ Bucket: "mapped", Key: "m.txt", Body: "m" })),
      "InternalError",
      500,
    );
    assert.match(refused.message, /refused the gateway's credentials/);
    // `data` gets null from the hook: the endpoint's own keys, which work.
    await s3.send(new PutObjectCommand({ Bucket: "data", Key: "d.txt", Body: "d" }));
  });

  test("a presigned URL works presign.maxUses times and is refused after that", async () => {
    const url = await getSignedUrl(stack.client(), new GetObjectCommand({ Bucket: "data", Key: "ok.txt" }), {
      expiresIn: 60,
    });
    assert.equal((await fetch(url)).status, 200);
    assert.equal((await fetch(url)).status, 200);
    const third = await fetch(url);
    assert.equal(third.status, 403);
    assert.match(await third.text(), /<Code>AccessDenied<\/Code>.*maximum number of times/s);
  });
});

describe("an OPA-style authorization webhook", () => {
  let stack: Stack;
  let webhook: ReturnType<typeof createServer>;
  let webhookCalls = 0;
  before(async () => {
    webhook = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        webhookCalls += 1;
        const { input } = JSON.parse(body) as { input: { key: string | null; principal: string } };
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({ result: { allow: input.principal === "alice" && input.key !== "deny-me.txt" } }),
        );
      });
    });
    const url = `http://127.0.0.1:${await listenOnLoopback(webhook)}`;
    stack = await startStack({
      authorizationYaml: `  webhook: { url: "${url}/v1/data/osp/allow", timeout: 300ms }`,
    });
  });
  after(async () => {
    await stack.close();
    if (webhook.listening) await closeServer(webhook);
  });

  test("the webhook's verdict applies, and is cached", async () => {
    const s3 = stack.client();
    await s3.send(new PutObjectCommand({ Bucket: "data", Key: "w.txt", Body: "w" }));
    await rejectsWith(
      s3.send(new PutObjectCommand({ Bucket: "data", Key: "deny-me.txt", Body: "no" })),
      "AccessDenied",
      403,
    );
    const before = webhookCalls;
    await rejectsWith(
      s3.send(new PutObjectCommand({ Bucket: "data", Key: "deny-me.txt", Body: "no" })),
      "AccessDenied",
      403,
    );
    assert.equal(webhookCalls, before, "a cached deny does not ask again");
  });

  test("with the webhook down, requests fail closed with AccessDenied, quickly", async () => {
    await closeServer(webhook);
    const s3 = stack.client();
    const started = Date.now();
    await rejectsWith(
      s3.send(new GetObjectCommand({ Bucket: "data", Key: "never-asked.txt" })),
      "AccessDenied",
      403,
    );
    assert.ok(Date.now() - started < 10_000, "no wait beyond the webhook's timeout");
  });
});

describe("the per-access-key rate limit", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ extraYaml: "rateLimit: { enabled: true, requestsPerSecond: 0.1, burst: 3 }" });
  });
  after(async () => {
    await stack.close();
  });

  test("answers 503 SlowDown once an access key's burst is spent, and other keys are not affected", async () => {
    const s3 = stack.client();
    await s3.send(new PutObjectCommand({ Bucket: "data", Key: "r.txt", Body: "r" }));
    await s3.send(new GetObjectCommand({ Bucket: "data", Key: "r.txt" }));
    await s3.send(new GetObjectCommand({ Bucket: "data", Key: "r.txt" }));
    await rejectsWith(s3.send(new GetObjectCommand({ Bucket: "data", Key: "r.txt" })), "SlowDown", 503);
    const bob = sdkClient(stack.endpoint, BOB);
    await rejectsWith(bob.send(new GetObjectCommand({ Bucket: "data", Key: "r.txt" })), "AccessDenied", 403);
    bob.destroy();
  });
});
