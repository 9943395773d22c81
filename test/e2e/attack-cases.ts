/**
 * The attack corpus ("the upstream request carries only what osp understood and authorized"),
 * as data: who sends what, what osp must answer, and what the store may hold afterwards. The table is in
 * attack-table.ts; this module holds the principals, the seeded objects, the request sender and the judge.
 *
 * Every case is judged by the store, not only by the status: a snapshot before and after the request
 * (attack-store.ts) must not differ (controls: only under `carol/`), and the answer must reveal nothing
 * protected (content, its MD5/ETag, its size on HEAD, or a protected key name the request did not itself
 * contain).
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { compileConfig } from "@osp/config";
import { diffSnapshots, type StoreView } from "./attack-store.js";
import {
  ALICE,
  errorCode,
  type Recorded,
  rawRequest,
  type Stack,
  signAsAlice,
  signedChunkedUpload,
} from "./harness.js";

export const CAROL = {
  accessKeyId: "CAROLACCESSKEY01",
  secretAccessKey: "carol-secret-key-0123456789",
  principal: "carol",
};
export const DAVE = {
  accessKeyId: "DAVEACCESSKEY001",
  secretAccessKey: "dave-secret-key-0123456789",
  principal: "dave",
};

/** carol: everything but admin under `data/carol/`; dave: everything but admin on `data`, nothing under `secret/`. */
export const ATTACK_RULES_YAML = [
  "    - { principal: carol, buckets: [data], prefixes: [carol/], actions: [read, write, delete, list] }",
  "    - { principal: dave, buckets: [data], actions: [read, write, delete, list] }",
  '    - { effect: deny, principal: dave, buckets: [data], prefixes: [secret/], actions: ["*"] }',
].join("\n");

/** `data.s3.test` is the bucket `data`, virtual-hosted. */
export const VHOST_DOMAIN = "s3.test";

/**
 * `limits.spoolBytes`' default, read from the config schema: bodies up to this size are verified whole before
 * the upstream request starts (docs/security.md "Request bodies"); larger ones stream, which a store that
 * writes in place (s3rver) may keep part of.
 */
export const SPOOL_BYTES: number = compileConfig(
  "endpoints: { e: { url: http://127.0.0.1:1, auth: { type: hmac, accessKeyId: a, secretAccessKey: b } } }\nbuckets: { data: { endpoint: e } }",
  "defaults",
  {},
).limits.spoolBytes;

export type Who = "carol" | "dave" | "alice";
const KEYS = { carol: CAROL, dave: DAVE, alice: ALICE } as const;

/** Unique per run: canary files next to s3rver's folder carry it, so no other test's files are touched. */
export const MARKER = `osp-attack-${process.pid}-${Date.now().toString(36)}`;

/** Content of a distinctive size, starting with a label that appears nowhere else. */
function content(label: string, bytes: number): Buffer {
  const head = `${label}-${MARKER}-`;
  return Buffer.concat([Buffer.from(head), Buffer.alloc(bytes - head.length, label.slice(0, 1))]);
}

export const SECRET = content("TOPSECRET", 3333);
export const BOB_DATA = content("BOBSDATA", 2222);
export const MAPPED_DATA = content("MAPPEDDATA", 5555);
export const FORBIDDEN_DATA = content("FORBIDDENDATA", 6666);
export const CANARY_DATA = content("CANARYDATA", 4444);
export const OWN_DATA = Buffer.from("carol's own object, version 1\n");

/** Objects seeded straight at the store, before osp sees any request. */
export const SEEDS: ReadonlyArray<readonly [bucket: string, key: string, body: Buffer]> = [
  ["data", "secret/s.txt", SECRET],
  ["data", "bob/b.txt", BOB_DATA],
  ["data", "carol/own.txt", OWN_DATA],
  ["data", "carol/del.txt", Buffer.from("carol may delete this\n")],
  ["data", "public/p.txt", Buffer.from("public object\n")],
  ["mapped-upstream", "m.txt", MAPPED_DATA],
  ["forbidden", "f.txt", FORBIDDEN_DATA],
];

/** carol's in-progress multipart upload (its id is `{uploadId}` in a case's path). */
export const UPLOAD_KEY = "carol/mp.bin";

/** The canary's name next to s3rver's folder, and the key that reaches it from bucket `data`. */
export const CANARY_NAME = `${MARKER}-canary`;

export async function seed(stack: Stack, upstream: "s3rver" | "radosgw"): Promise<void> {
  const direct = stack.direct();
  for (const [bucket, key, body] of SEEDS) {
    await direct.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }
  if (upstream !== "s3rver") return;
  // s3rver keeps `<key>._S3rver_object` plus metadata and MD5 files: copies of a real object's three files,
  // one folder above its own, are an object a `..` key escaping the folder would read, overwrite or delete.
  await direct.send(new PutObjectCommand({ Bucket: "data", Key: "canary-template", Body: CANARY_DATA }));
  const root = stack.upstream.directory;
  for (const suffix of ["._S3rver_object", "._S3rver_metadata.json", "._S3rver_object.md5"]) {
    const bytes = readFileSync(join(root, "data", `canary-template${suffix}`));
    writeFileSync(join(dirname(root), `${CANARY_NAME}${suffix}`), bytes);
  }
  await direct.send(new DeleteObjectCommand({ Bucket: "data", Key: "canary-template" }));
}

/** What each principal must never see: contents (and so their MD5s and sizes) and key names. */
const PROTECTED: Record<Who, { contents: Buffer[]; names: string[] }> = {
  carol: {
    contents: [SECRET, BOB_DATA, MAPPED_DATA, FORBIDDEN_DATA, CANARY_DATA],
    names: ["s.txt", "secret/", "b.txt", "bob/", "m.txt", "f.txt", "canary"],
  },
  dave: {
    contents: [SECRET, MAPPED_DATA, FORBIDDEN_DATA, CANARY_DATA],
    names: ["s.txt", "secret/", "m.txt", "f.txt", "canary"],
  },
  alice: { contents: [], names: [] },
};

export interface Env {
  readonly stack: Stack;
  readonly upstream: "s3rver" | "radosgw";
  readonly store: StoreView;
  /** Every request osp sent upstream, as the recording proxy saw it. */
  readonly recorded: Recorded[];
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The request line (with placeholders filled in) and anything else sent, for failure messages. */
  readonly sent: string;
  /** A second answer a case compares with the first. */
  readonly second?: Reply;
}

/**
 * A raw request. `path` (with its query) and a string `body` may name `{uploadId}`, `{partEtag}`,
 * `{uploadKey}` and `{canary}`, filled in when sent. `payloadHash` defaults to the SHA-256 of `body`;
 * `sendBody` replaces the body after signing; `vhost` addresses bucket `data` as `data.s3.test`.
 */
export interface RequestSpec {
  readonly method: string;
  readonly path: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: string | Buffer;
  readonly payloadHash?: string;
  readonly sendBody?: Buffer;
  readonly vhost?: boolean;
}

export interface Expect {
  /** `4xx`: any refusal osp itself gives (not a 5xx from a store that got the request); `any`: judged by the store only. */
  readonly status: number | "4xx" | "any";
  readonly code?: string;
}

export interface AttackCase {
  /** 1 dot segments, 2 query values, 3 bucket probes and listings, 4 unverified bytes, 5 privileged headers, 0 controls. */
  readonly klass: 0 | 1 | 2 | 3 | 4 | 5;
  readonly name: string;
  readonly as: Who;
  readonly send: (env: Env) => Promise<Reply>;
  readonly expect: Expect;
  /** Controls: entries that may change. Hostile cases: none may. */
  readonly mayChange?: (entry: string) => boolean;
  /** Headers that must not reach the store (class 5). */
  readonly neverUpstream?: readonly string[];
  /** More checks; each returned line is a failure. */
  readonly check?: (env: Env, reply: Reply) => Promise<string[]> | string[];
  /** Where the case applies (default: both). */
  readonly upstreams?: ReadonlyArray<"s3rver" | "radosgw">;
}

/** Under carol's prefix (and s3rver's upload folders, which her multipart uploads use). */
export function underCarol(entry: string): boolean {
  return entry.startsWith("data/carol/") || entry.startsWith("data/._S3rver_uploads/");
}

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export function md5Base64(data: string | Buffer): string {
  return createHash("md5").update(data).digest("base64");
}

function fill(env: Env, text: string): string {
  return text
    .replaceAll("{uploadId}", encodeURIComponent(env.store.upload.uploadId))
    .replaceAll("{partEtag}", env.store.upload.partEtag)
    .replaceAll("{uploadKey}", UPLOAD_KEY)
    .replaceAll("{canary}", CANARY_NAME);
}

const ANSWER_TIMEOUT_MS = 15_000;

/** Sends `spec` signed by `who`; an answer that never comes is status 0. */
export async function send(env: Env, who: Who, spec: RequestSpec): Promise<Reply> {
  const path = fill(env, spec.path);
  const body = typeof spec.body === "string" ? Buffer.from(fill(env, spec.body)) : spec.body;
  const headers: Array<[string, string]> = (spec.headers ?? []).map(([n, v]) => [n, fill(env, v)]);
  const wire = spec.sendBody ?? body;
  // A bodiless PUT or POST says Content-Length: 0, as SDKs do (Node would otherwise send it chunked).
  if (wire !== undefined || spec.method === "PUT" || spec.method === "POST") {
    headers.push(["content-length", String(wire?.length ?? 0)]);
  }
  const endpoint = env.stack.endpoint;
  const host = spec.vhost === true ? `data.${VHOST_DOMAIN}:${new URL(endpoint).port}` : undefined;
  const signed = signAsAlice(
    endpoint,
    spec.method,
    path,
    headers,
    spec.payloadHash ?? sha256Hex(body ?? ""),
    {
      as: KEYS[who],
      ...(host === undefined ? {} : { host }),
    },
  );
  const sent = `${spec.method} ${path}${host === undefined ? "" : ` (Host: ${host})`}${describeExtras(spec, body)}`;
  return withTimeout(
    rawRequest(endpoint, {
      method: spec.method,
      path,
      headers: signed.headers,
      ...(wire === undefined ? {} : { body: wire }),
    }).then((r) => ({ ...r, sent })),
    sent,
  );
}

export function withTimeout(answer: Promise<Reply>, sent: string): Promise<Reply> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Reply>((resolve) => {
    timer = setTimeout(
      () => resolve({ status: 0, headers: {}, body: "(no answer)", sent }),
      ANSWER_TIMEOUT_MS,
    );
  });
  return Promise.race([answer, late]).finally(() => clearTimeout(timer));
}

function describeExtras(spec: RequestSpec, body: Buffer | undefined): string {
  const parts = (spec.headers ?? []).map(([n, v]) => `${n}: ${v.length > 80 ? `${v.slice(0, 80)}…` : v}`);
  if (body !== undefined && body.length > 0) {
    parts.push(
      body.length <= 300 ? `body ${JSON.stringify(body.toString())}` : `body of ${body.length} bytes`,
    );
  }
  if (spec.sendBody !== undefined) parts.push("(body replaced after signing)");
  return parts.length === 0 ? "" : ` [${parts.join("; ")}]`;
}

/**
 * A signed aws-chunked (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) PUT of `data` in 64 KiB chunks by `who`;
 * `replaceChunk2` swaps the second chunk's bytes for others of the same length after signing.
 */
export async function chunkedPut(env: Env, who: Who, key: string, data: Buffer, replaceChunk2: boolean) {
  const path = `/data/${key}`;
  const chunkBytes = 65536;
  const { headers, body } = signedChunkedUpload(env.stack.endpoint, path, data, {
    as: KEYS[who],
    chunkBytes,
  });
  if (replaceChunk2) {
    // Chunk 2's data starts after chunk 1's header line, its data and CRLF, and chunk 2's header line.
    const firstData = body.indexOf("\r\n") + 2;
    const secondData = body.indexOf("\r\n", firstData + chunkBytes + 2) + 2;
    body.fill("B", secondData, secondData + chunkBytes);
  }
  const sent = `PUT ${path} [aws-chunked, ${data.length} bytes${replaceChunk2 ? ", chunk 2 replaced" : ""}]`;
  return withTimeout(
    rawRequest(env.stack.endpoint, { method: "PUT", path, headers, body }).then((r) => ({
      ...r,
      sent,
    })),
    sent,
  );
}

/** How long a store may go on writing what it got from a request osp broke off. */
const SETTLE_MS = 100;

/**
 * Runs one case: restores the seeded store, snapshots it, sends, snapshots again, and returns every way the
 * outcome differs from the case's expectation (empty: it held).
 */
export async function judge(env: Env, c: AttackCase): Promise<{ reply: Reply; problems: string[] }> {
  const before = await env.store.restore();
  const recordedFrom = env.recorded.length;
  const reply = await c.send(env);
  const method = reply.sent.slice(0, reply.sent.indexOf(" "));
  if (method !== "GET" && method !== "HEAD") await new Promise((r) => setTimeout(r, SETTLE_MS));
  const after = await env.store.snapshot();
  const problems: string[] = [];

  const { status, code } = c.expect;
  if (
    status === "4xx" ? reply.status < 400 || reply.status > 499 : status !== "any" && reply.status !== status
  ) {
    problems.push(`status ${reply.status}, expected ${status}`);
  }
  if (code !== undefined && method !== "HEAD" && errorCode(reply.body) !== code) {
    problems.push(`error code ${errorCode(reply.body)}, expected ${code}`);
  }
  const changed = diffSnapshots(before, after).filter((e) => !(c.mayChange?.(e.slice(1)) ?? false));
  if (changed.length > 0) problems.push(`the store changed: ${changed.join(", ")}`);
  problems.push(...leaks(c.as, reply, method));
  if (reply.second !== undefined) problems.push(...leaks(c.as, reply.second, method));
  for (const r of env.recorded.slice(recordedFrom)) {
    for (const name of c.neverUpstream ?? []) {
      if (r.headers[name] !== undefined) problems.push(`${name} reached the store (${r.method} ${r.url})`);
    }
  }
  if (c.check !== undefined) problems.push(...(await c.check(env, reply)));
  return { reply, problems };
}

/** Protected content, MD5s, sizes (HEAD) and key names in an answer. */
function leaks(who: Who, reply: Reply, method: string): string[] {
  const found: string[] = [];
  const { contents, names } = PROTECTED[who];
  const etag = reply.headers.etag ?? "";
  for (const data of contents) {
    const label = data.subarray(0, data.indexOf("-")).toString();
    const md5 = createHash("md5").update(data).digest("hex");
    if (reply.body.includes(data.subarray(0, 24).toString())) found.push(`the answer holds ${label} content`);
    if (reply.body.includes(md5) || etag.includes(md5)) found.push(`the answer holds ${label}'s MD5`);
    if (method === "HEAD" && reply.headers["content-length"] === String(data.length)) {
      found.push(`HEAD answered ${label}'s size`);
    }
  }
  const asked = decodeSafely(reply.sent);
  for (const name of names) {
    if (!asked.includes(name) && reply.body.includes(name)) found.push(`the answer names ${name}`);
  }
  return found;
}

function decodeSafely(text: string): string {
  try {
    return `${text} ${decodeURIComponent(text)}`;
  } catch {
    return text;
  }
}
