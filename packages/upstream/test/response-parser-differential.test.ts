/**
 * h1's response parser against Node's llhttp: hand-written responses and seeded mutations of them are fed
 * to both, which must agree on status, headers, body bytes, end offset and keep-alive, or both refuse. The only
 * exceptions are the intentional differences of ALLOWED_DIFFERENCES below, each with its reason. Each input is
 * also fed to h1 whole, split at every point and byte by byte: the outcome must not depend on how it is split.
 *
 * CI runs 100,000 mutations (a few seconds); `make fuzz` runs OSP_FUZZ_CASES of them (2,000,000 by default).
 * A failure prints its seed and case number; OSP_FUZZ_SEED replays another seed, and OSP_FUZZ_EXPLORE=1 lists every
 * unexplained disagreement instead of stopping at the first (for a new seed corpus or a new parser rule).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  describeOutcome,
  type Outcome,
  parseWithH1,
  parseWithLlhttp,
  sameOutcome,
} from "./differential-harness.js";
import { seededRandom } from "./parser-harness.js";

const CASES = Number(process.env.OSP_FUZZ_CASES ?? 100_000);
const SEED = Number(process.env.OSP_FUZZ_SEED ?? 0x15);
/** h1's limit as the connection sets it. */
const MAX_HEAD_BYTES = 64 * 1024;
/** Every this many mutations is also fed split at every point and byte by byte (the rest: whole only). */
const SPLIT_EVERY = 25;

interface Seed {
  readonly wire: string;
  /** The request was HEAD. */
  readonly bodiless?: boolean;
}

const OK = "HTTP/1.1 200 OK\r\n";
const S3_HEAD =
  'x-amz-request-id: 4442587FB7D0A2F9\r\nETag: "d41d8cd98f00b204e9800998ecf8427e"\r\n' +
  "Last-Modified: Wed, 12 Oct 2009 17:50:00 GMT\r\nContent-Type: application/octet-stream\r\n";

/** Hand-written responses: every framing, interim heads, the headers S3 stores send, and edge cases. */
const SEEDS: readonly Seed[] = [
  { wire: `${OK}Content-Length: 5\r\n\r\nhello` },
  { wire: `${OK}${S3_HEAD}Content-Length: 11\r\nAccept-Ranges: bytes\r\n\r\nhello world` },
  { wire: `${OK}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n` },
  { wire: `${OK}Transfer-Encoding: chunked\r\n\r\n5;a=b;c="d\\"e"\r\nhello\r\n0;x\r\nX-T: 1\r\nY:\r\n\r\n` },
  {
    wire: `${OK}Transfer-Encoding: chunked\r\nContent-Type: text/xml\r\n\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n`,
  },
  { wire: `${OK}Content-Type: text/plain\r\n\r\nuntil the end\r\n` },
  { wire: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok" },
  { wire: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok" },
  { wire: `${OK}Connection: close\r\nContent-Length: 2\r\n\r\nok` },
  { wire: `${OK}Connection: Keep-Alive\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n` },
  { wire: "HTTP/1.1 204 No Content\r\nx-amz-request-id: 1\r\n\r\n" },
  { wire: 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n' },
  { wire: `HTTP/1.1 100 Continue\r\n\r\n${OK}Content-Length: 2\r\n\r\nok` },
  {
    wire: `HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${OK}Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`,
  },
  { wire: `${OK}${S3_HEAD}Content-Length: 1024\r\n\r\n`, bodiless: true },
  { wire: `${OK}Transfer-Encoding: chunked\r\n\r\n`, bodiless: true },
  { wire: `${OK}Content-Type: text/plain\r\n\r\n`, bodiless: true },
  {
    wire: 'HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: 88\r\n\r\n<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code></Error>\n\n\n\n\n\n\n',
  },
  { wire: "HTTP/1.1 503 Slow Down\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n" },
  { wire: `${OK}X-Latin1: caf\xe9\r\nX-Tab: a\tb\r\nX-Empty:\r\nX-Pad:   p   \r\nContent-Length: 0\r\n\r\n` },
  { wire: "HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\nx" },
  { wire: "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx" },
  { wire: `${OK}Content-Length: 0000003\r\n\r\nabc` },
  { wire: `${OK}Transfer-Encoding: chunked\r\n\r\n000A\r\n0123456789\r\n00\r\n\r\n` },
  { wire: `${OK}Content-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n` },
  { wire: `${OK}Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n` },
  {
    wire: `${OK}${Array.from({ length: 40 }, (_, i) => `X-Meta-${i}: v${i}\r\n`).join("")}Content-Length: 1\r\n\r\nz`,
  },
];

/** Bytes and strings the mutator inserts: the ones every rule of the grammar turns on. */
const INTERESTING_BYTES = [0, 9, 10, 11, 13, 32, 34, 44, 48, 53, 58, 59, 61, 70, 92, 97, 0x7f, 0x80, 0xff];
const INSERTIONS = [
  "\r\n",
  "\r",
  "\n",
  " ",
  "\t",
  ":",
  ";",
  ";a=b",
  '"',
  ",",
  "0\r\n\r\n",
  "\r\n\r\n",
  "Content-Length: 3\r\n",
  "Content-Length: 0\r\n",
  "Transfer-Encoding: chunked\r\n",
  "Transfer-Encoding: gzip, chunked\r\n",
  "Connection: close\r\n",
  "Connection: keep-alive\r\n",
  "X: \x01\r\n",
  "HTTP/1.1 100 Continue\r\n\r\n",
  "HTTP/1.0 ",
  "chunked",
  "ff",
  "00",
];

/** One input: a seed with one to four random edits (byte set, insertion, deletion, duplication, truncation). */
function mutate(seed: Seed, rand: (lo: number, hi: number) => number): { input: Buffer; bodiless: boolean } {
  let bytes = Buffer.from(seed.wire, "latin1");
  const edits = rand(1, 4);
  for (let e = 0; e < edits && bytes.length > 0; e++) {
    const at = rand(0, bytes.length - 1);
    switch (rand(0, 5)) {
      case 0:
        bytes = Buffer.from(bytes);
        bytes[at] =
          rand(0, 1) === 0 ? rand(0, 255) : INTERESTING_BYTES[rand(0, INTERESTING_BYTES.length - 1)]!;
        break;
      case 1:
      case 2: {
        const text = INSERTIONS[rand(0, INSERTIONS.length - 1)]!;
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(text, "latin1"), bytes.subarray(at)]);
        break;
      }
      case 3:
        bytes = Buffer.concat([
          bytes.subarray(0, at),
          bytes.subarray(Math.min(bytes.length, at + rand(1, 4))),
        ]);
        break;
      case 4: {
        const to = Math.min(bytes.length, at + rand(1, 8));
        bytes = Buffer.concat([bytes.subarray(0, to), bytes.subarray(at, to), bytes.subarray(to)]);
        break;
      }
      default:
        bytes = bytes.subarray(0, at);
    }
  }
  // Now and then the same bytes as the answer to a HEAD, or to a GET.
  const bodiless = rand(0, 9) === 0 ? !seed.bodiless : seed.bodiless === true;
  return { input: bytes, bodiless };
}

// ---- the intentional differences ----

interface Difference {
  readonly why: string;
  /** True when this difference explains h1's and llhttp's outcomes for `input`. */
  readonly explains: (input: string, h1: Outcome, ll: Outcome, bodiless: boolean) => boolean;
}

/** The head of `input` as lines, and each field's name (lower-case) and raw value, blanks included. */
function headLines(input: string): { statusLine: string; fields: Array<[string, string]> } {
  const headEnd = input.indexOf("\r\n\r\n");
  const lines = (headEnd < 0 ? input : input.slice(0, headEnd)).split("\r\n");
  const fields: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1)]);
  }
  return { statusLine: lines[0] ?? "", fields };
}

/** Every head of `input` (interim ones too): its start, and each part after a CRLFCRLF that looks like one. */
function anyHead(
  input: string,
  test: (statusLine: string, fields: Array<[string, string]>) => boolean,
): boolean {
  return input.split("\r\n\r\n").some((part, i) => {
    if (i > 0 && !/^[\r\n]*HTTP\//.test(part)) return false;
    const { statusLine, fields } = headLines(`${part.replace(/^[\r\n]+/, "")}\r\n\r\n`);
    return test(statusLine, fields);
  });
}

/** Without leading and trailing SP and HTAB (String#trim would also take NBSP, 0xA0, which no parser trims). */
function trimOws(value: string): string {
  let from = 0;
  let to = value.length;
  while (from < to && (value[from] === " " || value[from] === "\t")) from++;
  while (to > from && (value[to - 1] === " " || value[to - 1] === "\t")) to--;
  return value.slice(from, to);
}

const refusedByH1 = (h1: Outcome, ll: Outcome) => h1.kind === "refused" && ll.kind === "response";

const ALLOWED_DIFFERENCES: readonly Difference[] = [
  {
    why:
      "h1 refuses empty lines before a status line (RFC 9112 §2.2 lets a server skip them before a request; " +
      "before a response they mean the stream is out of step); llhttp skips them",
    explains: (input, h1, ll) => refusedByH1(h1, ll) && /(^|\r\n\r\n)[\r\n]+HTTP/.test(input),
  },
  {
    why:
      "h1 refuses versions other than HTTP/1.0 and HTTP/1.1 (HTTP/2.0 in an HTTP/1.1 stream is no HTTP/2); " +
      "llhttp takes any digit.digit",
    explains: (input, h1, ll) =>
      refusedByH1(h1, ll) && anyHead(input, (s) => /^HTTP\/\d\.\d/.test(s) && !/^HTTP\/1\.[01]/.test(s)),
  },
  {
    why: "h1 refuses statuses below 100 (RFC 9110 §15); llhttp takes any three digits",
    explains: (input, h1, ll) => refusedByH1(h1, ll) && anyHead(input, (s) => /^HTTP\/\d\.\d 0/.test(s)),
  },
  {
    why:
      "h1 refuses 101 Switching Protocols (osp never asks for an upgrade); llhttp reports a 101 as a " +
      "response, and an upgrade when a Connection: upgrade came with it",
    explains: (_input, h1, ll) => h1.kind === "refused" && (ll.kind === "refused" || ll.status === 101),
  },
  {
    why:
      "h1 refuses a NUL in the reason phrase (it would end the string in C code downstream); llhttp takes " +
      "any byte but CR and LF there, and nothing reads the reason",
    explains: (input, h1, ll) => refusedByH1(h1, ll) && anyHead(input, (s) => s.includes("\0")),
  },
  {
    why:
      "Transfer-Encoding other than exactly one `chunked` (gzip, chunked; chunked, chunked; two fields): h1 " +
      "refuses, since osp cannot undo a coding (RFC 9112 §6.1); llhttp reads chunked when chunked is last, " +
      "else to EOF",
    explains: (input, h1, ll) =>
      refusedByH1(h1, ll) &&
      anyHead(input, (_s, fields) => {
        const codings = fields.filter(([n]) => n === "transfer-encoding");
        return codings.length > 1 || codings.some(([, v]) => trimOws(v).toLowerCase() !== "chunked");
      }),
  },
  {
    why:
      "Transfer-Encoding: chunked followed by a tab: h1 trims it as RFC 9110 §5.5 says and reads chunks; " +
      "llhttp trims the reported value but reads the body to EOF. h1 is right",
    explains: (input, _h1, ll) =>
      anyHead(input, (_s, fields) =>
        fields.some(([n, v]) => n === "transfer-encoding" && /^[ \t]*chunked[ \t]*\t[ \t]*$/i.test(v)),
      ) &&
      (ll.kind === "refused" || ll.keepAlive === false),
  },
  {
    why:
      "Content-Length followed by a tab: h1 trims it as any field value (RFC 9110 §5.5); llhttp trims spaces " +
      "there but refuses a tab. The length is the same either way",
    explains: (input, h1, ll) =>
      h1.kind === "response" &&
      ll.kind === "refused" &&
      anyHead(input, (_s, fields) => fields.some(([n, v]) => n === "content-length" && v.includes("\t"))),
  },
  {
    why:
      "A chunk extension outside RFC 9112 §7.1.1's grammar (an empty name or value, `5;=b`, `5;;a`, `5;a=`, or " +
      'a quote inside a token value, `5;a=b"c"`): h1 refuses it; llhttp skips it. No store sends extensions',
    explains: (_input, h1, ll) =>
      h1.kind === "refused" && h1.reason.endsWith("malformed chunk extension") && ll.kind === "response",
  },
  {
    why:
      "A Content-Length or Transfer-Encoding trailer field: llhttp refuses it (it reads trailers as a second " +
      "head); h1 checks trailer lines and drops them (RFC 9110 §6.5.1), and the body ends at the same byte",
    explains: (input, h1, ll) =>
      h1.kind === "response" &&
      ll.kind === "refused" &&
      /\r\n(content-length|transfer-encoding)[ \t]*:/i.test(input.slice(input.indexOf("\r\n0"), h1.end)),
  },
  {
    why:
      "A bare CR ending a status line: llhttp takes it as the line's end (there only); h1 refuses a bare CR " +
      "anywhere in a head (RFC 9112 §2.2 lets a recipient do either)",
    explains: (input, h1, ll) => refusedByH1(h1, ll) && /(^|\n)HTTP\/[^\r\n]*\r[^\n]/.test(input),
  },
  {
    why:
      "A Connection token followed by a tab (`close<TAB>`, `keep-alive<TAB>`): h1 trims it (RFC 9110 §5.5) and " +
      "honours it; llhttp does not recognise the token. Only keep-alive differs, and h1 is right",
    explains: (input, h1, ll) =>
      h1.kind === "response" &&
      ll.kind === "response" &&
      sameOutcome(h1, { ...ll, keepAlive: h1.keepAlive }) &&
      anyHead(input, (_s, fields) => fields.some(([n, v]) => n === "connection" && v.includes("\t"))),
  },
  {
    why:
      "An interim (1xx) head that would not keep the connection (Connection: close, or HTTP/1.0 without " +
      "keep-alive): llhttp refuses the final response that follows it; h1 reads it and closes the connection after",
    explains: (input, h1, ll) =>
      h1.kind === "response" &&
      !h1.keepAlive &&
      ll.kind === "refused" &&
      anyHead(
        input,
        (s, fields) =>
          / 1\d\d/.test(s.slice(8, 12)) &&
          (s.startsWith("HTTP/1.0") || fields.some(([n]) => n === "connection")),
      ),
  },
  {
    why:
      "Both close and keep-alive in an HTTP/1.0 response's Connection fields: h1 closes (RFC 9112 §9.3: close " +
      "wins); llhttp keeps the connection when keep-alive is there",
    explains: (input, h1, ll) =>
      h1.kind === "response" &&
      ll.kind === "response" &&
      !h1.keepAlive &&
      sameOutcome(h1, { ...ll, keepAlive: false }) &&
      anyHead(input, (s, fields) => {
        const tokens = fields.filter(([n]) => n === "connection").map(([, v]) => v.toLowerCase());
        return (
          s.startsWith("HTTP/1.0") &&
          tokens.some((v) => v.includes("close")) &&
          tokens.some((v) => v.includes("keep-alive"))
        );
      }),
  },
  {
    why:
      "Equal Content-Length fields: h1 takes them as one (RFC 9110 §8.6 allows it, and a proxy merging " +
      "header lists may repeat one); llhttp refuses any repeat. The body ends at the same byte either way",
    explains: (input, h1, ll) =>
      h1.kind === "response" &&
      ll.kind === "refused" &&
      anyHead(input, (_s, fields) => fields.filter(([n]) => n === "content-length").length > 1),
  },
  {
    why:
      "Keep-alive after the answer to a HEAD without Content-Length (or close-delimited framing): h1 keeps the " +
      "connection (RFC 9112 §6.3: such an answer ends with its head); llhttp decides before node:http tells it " +
      "the body is skipped, and says close",
    explains: (_input, h1, ll, bodiless) =>
      bodiless &&
      h1.kind === "response" &&
      ll.kind === "response" &&
      h1.keepAlive &&
      !ll.keepAlive &&
      sameOutcome(h1, { ...ll, keepAlive: true }),
  },
];

function explain(input: Buffer, h1: Outcome, ll: Outcome, bodiless: boolean): Difference | null {
  const text = input.toString("latin1");
  return ALLOWED_DIFFERENCES.find((d) => d.explains(text, h1, ll, bodiless)) ?? null;
}

// ---- the checks ----

/** Compares both parsers on `input`; returns which allowed difference applied, or null when they agreed. */
function compare(input: Buffer, bodiless: boolean, label: string): Difference | null {
  const h1 = parseWithH1(input, bodiless, MAX_HEAD_BYTES);
  const ll = parseWithLlhttp(input, bodiless, h1.kind === "response" ? h1.end : -1);
  if (sameOutcome(h1, ll)) return null;
  const allowed = explain(input, h1, ll, bodiless);
  if (allowed !== null) return allowed;
  if (process.env.OSP_FUZZ_EXPLORE !== undefined) {
    console.log(
      `${label}: ${JSON.stringify(input.toString("latin1"))}${bodiless ? " (HEAD)" : ""}\n  h1:     ${describeOutcome(h1)}\n  llhttp: ${describeOutcome(ll)}`,
    );
    return null;
  }
  assert.fail(
    `${label}: h1 and llhttp disagree on ${JSON.stringify(input.toString("latin1"))}` +
      `${bodiless ? " (HEAD)" : ""}\n  h1:     ${describeOutcome(h1)}\n  llhttp: ${describeOutcome(ll)}`,
  );
}

/** h1 fed whole, split once at every point, and byte by byte: one outcome, with the same refusal code. */
function assertSplitInvariant(input: Buffer, bodiless: boolean, label: string): void {
  const whole = parseWithH1(input, bodiless, MAX_HEAD_BYTES);
  const same = (o: Outcome) =>
    o.kind === "refused" && whole.kind === "refused" ? o.reason === whole.reason : sameOutcome(o, whole);
  const check = (o: Outcome, how: string) =>
    assert.ok(
      same(o),
      `${label}, ${how}: ${describeOutcome(o)}, whole: ${describeOutcome(whole)} for ` +
        JSON.stringify(input.toString("latin1")),
    );
  for (let split = 1; split < input.length; split++) {
    check(parseWithH1(input, bodiless, MAX_HEAD_BYTES, [split, input.length]), `split at ${split}`);
  }
  check(parseWithH1(input, bodiless, MAX_HEAD_BYTES, [1]), "byte by byte");
}

test("agrees with llhttp on every hand-written response, fed whole, split anywhere or byte by byte", () => {
  for (const [i, seed] of SEEDS.entries()) {
    const input = Buffer.from(seed.wire, "latin1");
    for (const bodiless of [seed.bodiless === true, seed.bodiless !== true]) {
      const label = `seed ${i}${bodiless ? " as HEAD" : ""}`;
      const allowed = compare(input, bodiless, label);
      // The seeds are ordinary responses: only HEAD's keep-alive may differ.
      assert.ok(allowed === null || allowed === ALLOWED_DIFFERENCES.at(-1), `${label}: ${allowed?.why}`);
      assertSplitInvariant(input, bodiless, label);
    }
  }
});

test(`agrees with llhttp on ${CASES} mutated responses but for the allowed differences (seed ${SEED})`, (t) => {
  const rand = seededRandom(SEED);
  const seen = new Map<Difference, number>();
  let agreed = 0;
  let responses = 0;
  for (let n = 0; n < CASES; n++) {
    const seed = SEEDS[rand(0, SEEDS.length - 1)]!;
    const { input, bodiless } = mutate(seed, rand);
    const label = `seed ${SEED}, case ${n}`;
    const allowed = compare(input, bodiless, label);
    if (allowed === null) agreed++;
    else seen.set(allowed, (seen.get(allowed) ?? 0) + 1);
    if (n % SPLIT_EVERY === 0) {
      assertSplitInvariant(input, bodiless, label);
      if (parseWithH1(input, bodiless, MAX_HEAD_BYTES).kind === "response") responses++;
    }
  }
  // The mutations must exercise both sides: most agree, and a fair share of those still parse as responses.
  assert.ok(agreed > CASES * 0.8, `only ${agreed} of ${CASES} agreed outright`);
  assert.ok(responses > CASES / SPLIT_EVERY / 10, `only ${responses} sampled mutations were still responses`);
  t.diagnostic(
    `${agreed} agreed; allowed differences: ${[...seen].map(([d, c]) => `${c}× ${d.why.slice(0, 40)}…`).join("; ")}`,
  );
});
