/**
 * Fuzzing authentication: random and mutated Authorization headers, presigned queries, paths and header
 * lists go through authenticateRequest and verifySignature (and the parsers and canonicalizers on their
 * own). Every result must be null, an S3Error or an authenticated request, never a throw, and each input
 * must finish in bounded time. Canonical forms must be canonical (idempotent, only unreserved characters
 * and upper-case escapes).
 *
 * 100 000 cases by default (`OSP_FUZZ_CASES` for long runs, `OSP_FUZZ_SEED` to replay a failure; the
 * seed is printed with every failure).
 */
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { test } from "node:test";
import { S3Error } from "@osp/errors";
import {
  authenticateRequest,
  canonicalQuery,
  canonicalUri,
  parseAuthorizationHeader,
  parsePresignedQuery,
  presignUrl,
  type RequestFacts,
  signRequest,
  uriEncode,
  verifySignature,
} from "../src/index.js";
import { AKID, HOST, NOW_MS, SECRET, SIGNING_KEY } from "./support/requests.js";

const TOTAL_CASES = Number(process.env.OSP_FUZZ_CASES ?? 100_000);
const SEED = Number(process.env.OSP_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));
/** Generous: a GC pause on a loaded 2-core machine must not fail the run; real inputs take microseconds. */
const MAX_MS_PER_INPUT = 100;

/** mulberry32: small, fast, good enough to drive a fuzzer, and reproducible from one 32-bit seed. */
function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}
type Random = ReturnType<typeof createRandom>;

const PIECES = [
  "%",
  "%2",
  "%2F",
  "%2f",
  "%G1",
  "%E6%96%87",
  "%FF",
  "%00",
  "%7E",
  "+",
  "/",
  "//",
  "=",
  "&",
  "&&",
  ",",
  ", ",
  ";",
  " ",
  "\t",
  "\r\n",
  "\n ",
  "é",
  "文",
  "😀",
  "\ud800",
  "\udc00",
  "\u0000",
  "a",
  "Z",
  "0",
  "9",
  "-",
  "_",
  ".",
  "..",
  "~",
  "?",
  "#",
  '"',
  "X-Amz-",
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Signature",
  "X-Amz-Security-Token",
  "AWSAccessKeyId",
  "Signature",
  "AWS4-HMAC-SHA256",
  "AWS4-ECDSA-P256-SHA256",
  "AWS ",
  "Bearer ",
  "Credential=",
  "SignedHeaders=",
  "Signature=",
  "aws4_request",
  "20130524",
  "T000000Z",
  "20130524T000000Z",
  "host",
  "x-amz-date",
  "x-amz-content-sha256",
  "s3",
  "us-east-1",
  AKID,
  "UNSIGNED-PAYLOAD",
  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
  "604800",
  "-1",
  "9".repeat(20),
];

/** Pieces for the keys and queries of valid requests: no authentication parameter names. */
const PLAIN_PIECES = PIECES.filter((p) => !/X-Amz-|Signature|AWSAccessKeyId/.test(p));

function randomText(r: Random, maxPieces = 12, pieces = PIECES): string {
  let out = "";
  const n = r.int(maxPieces + 1);
  for (let i = 0; i < n; i++) out += r.next() < 0.7 ? r.pick(pieces) : String.fromCharCode(r.int(0x3000));
  return out;
}

/** One to three edits: insert, delete, replace, duplicate, truncate or change case. */
function mutateText(r: Random, text: string): string {
  let out = text;
  for (let edits = 1 + r.int(3); edits > 0; edits--) {
    const at = r.int(out.length + 1);
    switch (r.int(6)) {
      case 0:
        out = out.slice(0, at) + r.pick(PIECES) + out.slice(at);
        break;
      case 1:
        out = out.slice(0, at) + out.slice(at + 1 + r.int(8));
        break;
      case 2:
        out = out.slice(0, at) + String.fromCharCode(r.int(0x80)) + out.slice(at + 1);
        break;
      case 3:
        out = out.slice(0, at) + out.slice(r.int(at + 1), at) + out.slice(at);
        break;
      case 4:
        out = out.slice(0, at);
        break;
      default:
        out = out.slice(0, at) + out.slice(at, at + 1).toUpperCase() + out.slice(at + 1);
    }
  }
  return out;
}

/** A pool of valid requests (header auth and presigned, awkward keys, queries and headers) to mutate. */
function createPool(r: Random): RequestFacts[] {
  const pool: RequestFacts[] = [];
  for (let i = 0; i < 100; i++) {
    const rawPath = `/bucket/${uriEncode(randomText(r, 4, PLAIN_PIECES), true)}`;
    const name = uriEncode(randomText(r, 2, PLAIN_PIECES), false);
    const rawQuery = r.next() < 0.5 ? "" : `${name}=${uriEncode(randomText(r, 3, PLAIN_PIECES), false)}&acl`;
    const headers: Array<[string, string]> = [["host", HOST]];
    if (r.next() < 0.5) headers.push(["x-amz-meta-a", "  two   words "], ["x-amz-meta-a", "again"]);
    if (r.next() < 0.5) headers.push(["range", "bytes=0-9"]);
    if (i % 2 === 0) {
      const method = r.pick(["GET", "PUT", "HEAD", "DELETE"]);
      const signed = signRequest({
        method,
        rawPath,
        rawQuery,
        headers,
        payloadHash: r.pick(["UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "e".repeat(64)]),
        accessKeyId: AKID,
        signingKey: SIGNING_KEY,
        region: "us-east-1",
        nowMs: NOW_MS,
      });
      pool.push({ method, rawPath, rawQuery, headers: [...headers, ...signed.headersToAdd] });
    } else {
      const url = presignUrl({
        method: "GET",
        rawPath,
        rawQuery,
        host: HOST,
        headers: headers.slice(1),
        accessKeyId: AKID,
        secretAccessKey: SECRET,
        region: "us-east-1",
        expiresSeconds: 3600,
        nowMs: NOW_MS,
      });
      const q = url.indexOf("?");
      pool.push({ method: "GET", rawPath: url.slice(0, q), rawQuery: url.slice(q + 1), headers });
    }
  }
  return pool;
}

function mutateFacts(r: Random, facts: RequestFacts): RequestFacts {
  const headers = facts.headers.map(([n, v]) => [n, v] as [string, string]);
  switch (r.int(8)) {
    case 0:
      return { ...facts, method: mutateText(r, facts.method) };
    case 1:
      return { ...facts, rawPath: mutateText(r, facts.rawPath) };
    case 2:
      return { ...facts, rawQuery: mutateText(r, facts.rawQuery) };
    case 3: {
      const i = r.int(headers.length);
      headers[i] = [headers[i]![0], mutateText(r, headers[i]![1])];
      return { ...facts, headers };
    }
    case 4: {
      const auth = headers.findIndex(([n]) => n === "authorization");
      const i = auth >= 0 ? auth : r.int(headers.length);
      headers[i] = [headers[i]![0], mutateText(r, headers[i]![1])];
      return { ...facts, headers };
    }
    case 5:
      headers.push([
        r.pick(["x-amz-date", "date", "authorization", "x-amz-acl", "host", "x-amz-content-sha256"]),
        randomText(r),
      ]);
      return { ...facts, headers };
    case 6:
      headers.splice(r.int(headers.length), 1);
      return { ...facts, headers };
    default: {
      const i = r.int(headers.length);
      headers.splice(r.int(headers.length + 1), 0, headers[i]!);
      return { ...facts, headers };
    }
  }
}

function randomFacts(r: Random): RequestFacts {
  const headers: Array<[string, string]> = [];
  for (let n = r.int(8); n > 0; n--) {
    headers.push([
      r.pick([
        "host",
        "authorization",
        "x-amz-date",
        "date",
        "x-amz-content-sha256",
        "x-amz-security-token",
        "x-amz-meta-x",
        "range",
      ]),
      randomText(r),
    ]);
  }
  if (r.next() < 0.5) {
    headers.push(["authorization", `AWS4-HMAC-SHA256 ${randomText(r, 20)}`]);
  }
  let rawQuery = randomText(r, 6);
  if (r.next() < 0.5) {
    const names = [
      "X-Amz-Algorithm",
      "X-Amz-Credential",
      "X-Amz-Date",
      "X-Amz-Expires",
      "X-Amz-SignedHeaders",
      "X-Amz-Signature",
    ];
    rawQuery = names
      .filter(() => r.next() < 0.85)
      .map((name) => `${name}=${r.next() < 0.5 ? randomText(r, 4) : uriEncode(randomText(r, 4), false)}`)
      .join("&");
  }
  return { method: r.pick(["GET", "PUT", "", "get"]), rawPath: randomText(r, 8), rawQuery, headers };
}

const CANONICAL_URI = /^\/(?:[A-Za-z0-9\-._~/]|%[0-9A-F]{2})*$/;
const CANONICAL_QUERY_PART = /^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*=(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$/;

interface Runner {
  /** Runs one input, failing the test with the seed and the input if it throws or breaks an invariant. */
  check(label: string, input: unknown, run: () => void): void;
  readonly slowest: { ms: number; label: string };
}

function createRunner(seed: number): Runner {
  const slowest = { ms: 0, label: "" };
  return {
    slowest,
    check(label, input, run) {
      const timed = () => {
        const start = performance.now();
        try {
          run();
        } catch (error) {
          assert.fail(
            `fuzz failure (replay with OSP_FUZZ_SEED=${seed}): ${label}\ninput: ${JSON.stringify(input)}\n${(error as Error).stack}`,
          );
        }
        return performance.now() - start;
      };
      // A slow run is timed twice more and the fastest kept: on a shared machine a preemption or GC pause
      // can stall any input, while an input that is really slow stays slow.
      let ms = timed();
      for (let retry = 0; retry < 2 && ms > MAX_MS_PER_INPUT / 2; retry++) ms = Math.min(ms, timed());
      if (ms > slowest.ms) {
        slowest.ms = ms;
        slowest.label = label;
      }
    },
  };
}

/** The options of one input, drawn before it runs so that re-running it consumes no randomness. */
function drawOptions(r: Random): { plusInPathIsSpace: boolean; exposeCanonicalRequest: boolean } {
  return { plusInPathIsSpace: r.next() < 0.5, exposeCanonicalRequest: r.next() < 0.5 };
}

/** authenticate + verify; the result must be one of the three documented kinds. */
function authenticateAndVerify(
  options: ReturnType<typeof drawOptions>,
  facts: RequestFacts,
): "anonymous" | "error" | "verified" | "mismatch" {
  const auth = authenticateRequest(facts, { nowMs: NOW_MS, plusInPathIsSpace: options.plusInPathIsSpace });
  if (auth === null) return "anonymous";
  if (auth instanceof S3Error) return "error";
  assert.ok(auth.mechanism === "header" || auth.mechanism === "presigned");
  assert.match(auth.canonicalUri, CANONICAL_URI);
  const result = verifySignature(auth, SIGNING_KEY, {
    exposeCanonicalRequest: options.exposeCanonicalRequest,
  });
  if (result === null) return "verified";
  assert.ok(result instanceof S3Error, "verifySignature returns null or an S3Error");
  return "mismatch";
}

function share(weight: number): number {
  return Math.max(1, Math.round(TOTAL_CASES * weight));
}

test(`mutated signed and presigned requests never throw (seed ${SEED})`, () => {
  const r = createRandom(SEED);
  const runner = createRunner(SEED);
  const pool = createPool(r);
  for (const facts of pool) {
    const auth = authenticateRequest(facts, { nowMs: NOW_MS });
    const error =
      auth instanceof S3Error ? auth : auth === null ? "anonymous" : verifySignature(auth, SIGNING_KEY);
    assert.equal(error, null, `pool request must verify (seed ${SEED}): ${JSON.stringify(facts)}`);
  }
  const seen = { anonymous: 0, error: 0, verified: 0, mismatch: 0 };
  for (let i = 0; i < share(0.4); i++) {
    const facts = mutateFacts(r, r.pick(pool));
    const options = drawOptions(r);
    let outcome: keyof typeof seen = "anonymous";
    runner.check(`mutated request #${i}`, facts, () => {
      outcome = authenticateAndVerify(options, facts);
    });
    seen[outcome]++;
  }
  assert.ok(
    seen.error > 0 && seen.mismatch > 0,
    `mutations reach errors and mismatches: ${JSON.stringify(seen)}`,
  );
  assert.ok(
    runner.slowest.ms < MAX_MS_PER_INPUT,
    `slowest input took ${runner.slowest.ms} ms: ${runner.slowest.label}`,
  );
});

test(`random requests, Authorization headers and presigned queries never throw (seed ${SEED + 1})`, () => {
  const r = createRandom(SEED + 1);
  const runner = createRunner(SEED + 1);
  for (let i = 0; i < share(0.3); i++) {
    const facts = randomFacts(r);
    const options = drawOptions(r);
    const authorization = facts.headers.find(([n]) => n === "authorization")?.[1] ?? randomText(r, 20);
    runner.check(`random request #${i}`, facts, () => {
      authenticateAndVerify(options, facts);
      const parsed = parseAuthorizationHeader(authorization);
      assert.ok(parsed instanceof S3Error || parsed.signature.length > 0);
      const presign = parsePresignedQuery(facts.rawQuery);
      assert.ok(presign instanceof S3Error || presign.expiresSeconds >= 1);
    });
  }
  assert.ok(
    runner.slowest.ms < MAX_MS_PER_INPUT,
    `slowest input took ${runner.slowest.ms} ms: ${runner.slowest.label}`,
  );
});

test(`canonical URIs and queries of random text are canonical and idempotent (seed ${SEED + 2})`, () => {
  const r = createRandom(SEED + 2);
  const runner = createRunner(SEED + 2);
  for (let i = 0; i < share(0.3); i++) {
    const text = randomText(r, 16);
    const plusIsSpace = r.next() < 0.5;
    runner.check(`canonical forms #${i}`, text, () => {
      const path = canonicalUri(text, { plusIsSpace });
      if (typeof path === "string") {
        assert.match(path, CANONICAL_URI);
        assert.equal(canonicalUri(path, { plusIsSpace: true }), path);
      } else assert.equal(path.code, "InvalidURI");
      const query = canonicalQuery(text);
      if (typeof query === "string") {
        if (query.length > 0) for (const part of query.split("&")) assert.match(part, CANONICAL_QUERY_PART);
        assert.equal(canonicalQuery(query), query);
      } else assert.equal(query.code, "InvalidURI");
      const encoded = uriEncode(text, true);
      assert.equal(canonicalUri(`/${encoded}`, { plusIsSpace: true }), `/${encoded}`);
      if (!/[\ud800-\udfff]/.test(text)) assert.equal(decodeURIComponent(uriEncode(text, false)), text);
    });
  }
  assert.ok(
    runner.slowest.ms < MAX_MS_PER_INPUT,
    `slowest input took ${runner.slowest.ms} ms: ${runner.slowest.label}`,
  );
});

test("hostile sizes (long headers, thousands of components, parameters and headers) finish quickly", () => {
  const runner = createRunner(SEED);
  const r = createRandom(SEED + 3);
  const base = createPool(r)[0]!;
  const huge: Array<[string, RequestFacts]> = [
    [
      "a 1 MiB Authorization header",
      {
        ...base,
        headers: [...base.headers, ["authorization", `AWS4-HMAC-SHA256 ${"Credential=a,".repeat(80_000)}`]],
      },
    ],
    [
      "10 000 SignedHeaders",
      {
        ...base,
        headers: [
          ...base.headers.filter(([n]) => n !== "authorization"),
          [
            "authorization",
            `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request, SignedHeaders=${"host;".repeat(10_000)}x, Signature=00`,
          ],
        ],
      },
    ],
    [
      "5 000 headers",
      {
        ...base,
        headers: [
          ...base.headers,
          ...Array.from({ length: 5_000 }, (_, i) => [`x-amz-meta-${i}`, "v"] as [string, string]),
        ],
      },
    ],
    ["20 000 query parameters", { ...base, rawQuery: `${base.rawQuery}&${"a=1&".repeat(20_000)}` }],
    ["a 1 MiB path", { ...base, rawPath: `/${"%41/".repeat(250_000)}` }],
    [
      "a 1 MiB header value",
      { ...base, headers: [...base.headers, ["x-amz-meta-big", ` ${"a  ".repeat(300_000)} `]] },
    ],
  ];
  for (const [label, facts] of huge)
    runner.check(label, label, () => authenticateAndVerify(drawOptions(r), facts));
  // Linear-time inputs of ~1 MiB: well under a second each even on a loaded machine.
  assert.ok(runner.slowest.ms < 1000, `slowest: ${runner.slowest.label}, ${runner.slowest.ms} ms`);
});
