/**
 * An independent oracle: requests signed by `@smithy/signature-v4` (the AWS SDK for JS v3 signer), over a
 * corpus of awkward keys, queries and headers, must verify through authenticateRequest + verifySignature, sent
 * both as the SDK encodes them and in other encodings S3 reads the same way; and changing any signed byte
 * (method, path, query, a signed header, the date, the signature) must make each fail.
 *
 * smithy normalises and double-encodes paths for generic services; for S3 it is given `uriEscapePath: false`
 * and the canonical path, computed here with the SDK's own rule (encodeURIComponent plus `!'()*`), not with
 * the code under test (docs/s3-sigv4.md "Test vectors").
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import {
  authenticateRequest,
  formatAmzDate,
  parseAmzDate,
  type RequestFacts,
  SigningKeyCache,
  verifySignature,
} from "../src/index.js";
import { expectAuthenticated } from "./support/assertions.js";

const NOW_MS = Date.UTC(2024, 4, 1, 12, 0, 0);
const REGION = "eu-de";
const HOST = "s3.example.test:9000";
const CREDENTIALS = { accessKeyId: "OSPTESTKEY123", secretAccessKey: "s3cr3t/with+odd=chars" };
const TOKEN = "FQoGZXIvYXdzE//token+with/slashes==";
const cache = new SigningKeyCache();

/** The AWS SDK's key encoding (extendedEncodeURIComponent per segment): the oracle's canonical path. */
function sdkEncodeKey(key: string): string {
  return key
    .split("/")
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join("/");
}

interface KeyCase {
  readonly key: string;
  /**
   * Other ways a client may put the same key on the wire (S3 decodes, then re-encodes, docs/s3-sigv4.md
   * "Canonical URI").
   */
  readonly alternatives: readonly string[];
}

const KEYS: readonly KeyCase[] = [
  { key: "plain.txt", alternatives: ["/%70lain.txt"] },
  { key: "a b.txt", alternatives: ["/a%20b.txt"] },
  { key: "a+b=c.txt", alternatives: ["/a%2bb%3dc.txt", "/a%2Bb=c.txt"] },
  { key: "100%.txt", alternatives: ["/100%25.txt"] },
  { key: "ünïcødé/文件.txt", alternatives: ["/ünïcødé/文件.txt", "/%c3%bcn%c3%afc%c3%b8d%c3%a9/文件.txt"] },
  { key: "😀 emoji.png", alternatives: ["/😀%20emoji.png"] },
  { key: "a//b", alternatives: [] },
  { key: "../x/./y/..", alternatives: ["/%2E%2E/x/%2e/y/.."] },
  { key: "~user/file", alternatives: ["/%7Euser/file", "/%7euser/file"] },
  { key: "k=v&x;y,z@w:1", alternatives: ["/k=v&x;y,z@w:1"] },
  { key: "dir/", alternatives: [] },
  { key: "!'()*", alternatives: ["/!'()*"] },
  { key: "$file", alternatives: ["/$file"] },
  { key: "tab\there", alternatives: [] },
  { key: "", alternatives: [] },
];

interface QueryCase {
  /** The query as a client sends it. */
  readonly raw: string;
  /** The same query decoded, as smithy takes it (`""` for valueless keys, arrays for repeats). */
  readonly smithy: Record<string, string | string[]>;
}

const QUERIES: readonly QueryCase[] = [
  { raw: "", smithy: {} },
  { raw: "acl", smithy: { acl: "" } },
  { raw: "uploads=", smithy: { uploads: "" } },
  {
    raw: "list-type=2&prefix=dir%20one%2F%C3%A9&delimiter=/",
    smithy: { "list-type": "2", prefix: "dir one/é", delimiter: "/" },
  },
  { raw: "prefix=a+b", smithy: { prefix: "a b" } },
  { raw: "tag=x&tag=y&tag=a", smithy: { tag: ["x", "y", "a"] } },
  { raw: "name=文&other=%E6%96%87", smithy: { name: "文", other: "文" } },
  {
    raw: "k=%3D%26&versionId=3%2FL4kq%2Btj&x-id=GetObject",
    smithy: { k: "=&", versionId: "3/L4kq+tj", "x-id": "GetObject" },
  },
  { raw: "a&b=&c=1", smithy: { a: "", b: "", c: "1" } },
  { raw: "Zeta=1&alpha=2&_u=%7e", smithy: { Zeta: "1", alpha: "2", _u: "~" } },
  {
    raw: "response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22",
    smithy: { "response-content-disposition": 'attachment; filename="a b.txt"' },
  },
];

interface HeaderCase {
  /** Headers as received, duplicates kept, in order. */
  readonly received: ReadonlyArray<readonly [string, string]>;
  /** The same for smithy's header bag (one value per name: duplicates joined with `,`). */
  readonly smithy: Record<string, string>;
}

const HEADERS: readonly HeaderCase[] = [
  { received: [], smithy: {} },
  {
    received: [
      ["x-amz-meta-multi", "v2"],
      ["x-amz-meta-multi", "v1"],
      ["x-amz-meta-note", "  hello    world  "],
      ["content-type", "text/plain;\t charset=utf-8"],
      ["user-agent", "aws-sdk-js/3.0 (not signed)"],
    ],
    smithy: {
      "x-amz-meta-multi": "v2,v1",
      "x-amz-meta-note": "  hello    world  ",
      "content-type": "text/plain;\t charset=utf-8",
      "user-agent": "aws-sdk-js/3.0 (not signed)",
    },
  },
  {
    received: [
      ["range", "bytes=0-99"],
      ["x-amz-meta-unicode", "wert-ü"],
    ],
    smithy: { range: "bytes=0-99", "x-amz-meta-unicode": "wert-ü" },
  },
];

function signer(withToken: boolean): SignatureV4 {
  return new SignatureV4({
    service: "s3",
    region: REGION,
    credentials: withToken ? { ...CREDENTIALS, sessionToken: TOKEN } : CREDENTIALS,
    sha256: Hash.bind(null, "sha256"),
    uriEscapePath: false,
  });
}

/** The query string a client would send for smithy's query record (SDK encoding, any order). */
function encodeQuery(query: Record<string, string | string[] | null>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value ?? ""])
      parts.push(`${sdkEncodeKey(name)}=${sdkEncodeKey(v)}`);
  }
  return parts.join("&");
}

/** Header auth: smithy signs; the request is rebuilt as the gateway receives it, path sent as `wirePath`. */
async function signedWithHeader(
  method: string,
  canonicalPath: string,
  wirePath: string,
  query: QueryCase,
  headers: HeaderCase,
  withToken: boolean,
): Promise<RequestFacts> {
  const request = new HttpRequest({
    method,
    protocol: "https:",
    hostname: HOST,
    path: canonicalPath,
    query: { ...query.smithy },
    headers: { host: HOST, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", ...headers.smithy },
  });
  const signed = await signer(withToken).sign(request, { signingDate: new Date(NOW_MS) });
  const added = Object.entries(signed.headers).filter(
    ([name]) => name === "authorization" || name === "x-amz-date" || name === "x-amz-security-token",
  );
  return {
    method,
    rawPath: wirePath,
    rawQuery: query.raw,
    headers: [["host", HOST], ["x-amz-content-sha256", "UNSIGNED-PAYLOAD"], ...headers.received, ...added],
  };
}

/** Presigned: smithy presigns as the S3 presigner does; its query (with hoisted x-amz-* headers) is sent. */
async function presigned(
  method: string,
  canonicalPath: string,
  wirePath: string,
  query: QueryCase,
  headers: HeaderCase,
  withToken: boolean,
): Promise<RequestFacts> {
  const request = new HttpRequest({
    method,
    protocol: "https:",
    hostname: HOST,
    path: canonicalPath,
    query: { ...query.smithy },
    headers: { host: HOST, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", ...headers.smithy },
  });
  const unsigned = new Set(["x-amz-content-sha256"]);
  const out = await signer(withToken).presign(request, {
    expiresIn: 3600,
    signingDate: new Date(NOW_MS - 60_000),
    unsignableHeaders: unsigned,
    unhoistableHeaders: unsigned,
  });
  const added: Record<string, string | string[] | null> = {};
  for (const [name, value] of Object.entries(out.query ?? {}))
    if (!(name in query.smithy)) added[name] = value;
  const rawQuery = query.raw.length > 0 ? `${query.raw}&${encodeQuery(added)}` : encodeQuery(added);
  return { method, rawPath: wirePath, rawQuery, headers: Object.entries(out.headers) };
}

function verify(facts: RequestFacts): ReturnType<typeof verifySignature> | "anonymous" {
  const auth = authenticateRequest(facts, { nowMs: NOW_MS });
  if (auth === null) return "anonymous";
  if (!("mechanism" in auth)) return auth;
  return verifySignature(auth, cache.get(CREDENTIALS.secretAccessKey, auth.scope));
}

/** Changes one character so that the byte it stands for changes (never only the case of a hex digit). */
function rotate(c: string): string {
  if (c >= "0" && c <= "9") return String((Number(c) + 1) % 10);
  if (c === "z") return "a";
  if (c === "Z") return "A";
  return String.fromCharCode(c.charCodeAt(0) + 1);
}

function rotateAt(text: string, index: number): string {
  return text.slice(0, index) + rotate(text[index]!) + text.slice(index + 1);
}

function lastAlnum(text: string): number {
  for (let i = text.length - 1; i >= 0; i--) if (/[A-Za-z0-9]/.test(text[i]!)) return i;
  return -1;
}

function replaceHeader(facts: RequestFacts, name: string, change: (value: string) => string): RequestFacts {
  return { ...facts, headers: facts.headers.map(([n, v]) => [n, n === name ? change(v) : v] as const) };
}

function replaceParam(facts: RequestFacts, name: string, change: (value: string) => string): RequestFacts {
  const rawQuery = facts.rawQuery
    .split("&")
    .map((part) => (part.startsWith(`${name}=`) ? `${name}=${change(part.slice(name.length + 1))}` : part))
    .join("&");
  return { ...facts, rawQuery };
}

/** Every one-byte change of signed data, each of which must fail. */
function mutations(facts: RequestFacts, mechanism: "header" | "presigned"): Array<[string, RequestFacts]> {
  const changed: Array<[string, RequestFacts]> = [];
  changed.push(["method", { ...facts, method: facts.method === "GET" ? "PUT" : "GET" }]);
  changed.push(["a path byte", { ...facts, rawPath: rotateAt(facts.rawPath, lastAlnum(facts.rawPath)) }]);
  changed.push([
    "a query byte",
    {
      ...facts,
      rawQuery:
        facts.rawQuery.length === 0 ? "x=1" : rotateAt(facts.rawQuery, facts.rawQuery.search(/[A-Za-z0-9]/)),
    },
  ]);
  changed.push(["the host header", replaceHeader(facts, "host", (v) => rotateAt(v, 0))]);
  const later = (v: string) => formatAmzDate((parseAmzDate(decodeURIComponent(v)) ?? 0) + 1000);
  const flip = (sig: string) => sig.slice(0, -1) + (sig.endsWith("0") ? "1" : "0");
  if (mechanism === "header") {
    changed.push(["the date", replaceHeader(facts, "x-amz-date", later)]);
    changed.push(["the signature", replaceHeader(facts, "authorization", flip)]);
  } else {
    changed.push(["the date", replaceParam(facts, "X-Amz-Date", later)]);
    changed.push(["the signature", replaceParam(facts, "X-Amz-Signature", flip)]);
  }
  return changed;
}

for (const [index, { key, alternatives }] of KEYS.entries()) {
  const canonicalPath = key === "" ? "/bucket" : `/bucket/${sdkEncodeKey(key)}`;
  const wirePaths = [canonicalPath, ...alternatives.map((alt) => `/bucket${alt}`)];
  const withToken = index % 2 === 1;
  test(`verifies smithy-signed requests for the key ${JSON.stringify(key)} in every encoding, query and header set, and refuses every one-byte change`, async () => {
    let verified = 0;
    for (const mechanism of ["header", "presigned"] as const) {
      for (const query of QUERIES) {
        for (const headers of HEADERS) {
          const method = verified % 3 === 0 ? "PUT" : "GET";
          for (const wirePath of wirePaths) {
            const build = mechanism === "header" ? signedWithHeader : presigned;
            const facts = await build(method, canonicalPath, wirePath, query, headers, withToken);
            const where = `${mechanism} ${method} ${wirePath}?${facts.rawQuery}`;
            const auth = expectAuthenticated(authenticateRequest(facts, { nowMs: NOW_MS }));
            assert.equal(auth.securityToken, withToken ? TOKEN : null, where);
            assert.equal(verify(facts), null, `${where} must verify`);
            verified++;
            if (wirePath !== canonicalPath) continue;
            for (const [what, mutated] of mutations(facts, mechanism)) {
              const result = verify(mutated);
              assert.ok(result !== null && result !== "anonymous", `${where}: changing ${what} must fail`);
            }
          }
        }
      }
    }
    assert.ok(verified >= QUERIES.length * HEADERS.length * 2);
  });
}
