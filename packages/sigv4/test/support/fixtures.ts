/**
 * Reads the fixtures in `packages/sigv4/test/fixtures/` (never from `shared/`): compiled tests run from
 * `dist/test/`, so the directory is found relative to this module's compiled location.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { RequestFacts } from "../../src/index.js";

export const FIXTURES_DIR = join(import.meta.dirname, "..", "..", "..", "test", "fixtures");
export const SUITE_DIR = join(FIXTURES_DIR, "aws-sig-v4-test-suite");

/** Credentials, clock and scope of the generic AWS SigV4 test suite. */
export const SUITE = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  region: "us-east-1",
  service: "service",
  nowMs: Date.UTC(2015, 7, 30, 12, 36, 0),
} as const;

export interface SuiteRequest extends RequestFacts {
  readonly headers: Array<[string, string]>;
  readonly body: string;
}

/**
 * Parses a suite `.req`/`.sreq` file: request line (the target may hold spaces: `get-space`), header lines
 * `Name:value`, an empty line, the body. A continuation line (obs-fold, `get-header-value-multiline`) is
 * taken as another value of the previous header, which is how the suite's expected canonical request
 * (`value1,value2,value3`) reads it; real HTTP parsers refuse or unfold obs-fold before we see it.
 */
export function parseSuiteRequest(text: string): SuiteRequest {
  const lines = text.split("\n");
  const requestLine = lines[0] ?? "";
  const method = requestLine.slice(0, requestLine.indexOf(" "));
  const target = requestLine.slice(method.length + 1, requestLine.lastIndexOf(" "));
  const q = target.indexOf("?");
  const headers: Array<[string, string]> = [];
  let i = 1;
  for (; i < lines.length && lines[i] !== ""; i++) {
    const line = lines[i]!;
    if (line.startsWith(" ") || line.startsWith("\t")) {
      const previous = headers[headers.length - 1];
      if (previous !== undefined) headers.push([previous[0], line]);
      continue;
    }
    const colon = line.indexOf(":");
    headers.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1)]);
  }
  return {
    method,
    rawPath: q < 0 ? target : target.slice(0, q),
    rawQuery: q < 0 ? "" : target.slice(q + 1),
    headers,
    body: lines.slice(i + 1).join("\n"),
  };
}

export interface SuiteCase {
  /** Path of the case folder under the suite, e.g. `get-vanilla` or `normalize-path/get-slash`. */
  readonly id: string;
  readonly req: SuiteRequest;
  readonly sreq: SuiteRequest;
  readonly creq: string;
  readonly sts: string;
  readonly authz: string;
}

/** Every case of the suite: each folder holding a `<name>.req`. */
export function loadSuite(): SuiteCase[] {
  const cases: SuiteCase[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const full = join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (entry.endsWith(".req")) {
        const base = full.slice(0, -4);
        const read = (ext: string) => readFileSync(base + ext, "utf8");
        cases.push({
          id: relative(SUITE_DIR, dir),
          req: parseSuiteRequest(read(".req")),
          sreq: parseSuiteRequest(read(".sreq")),
          creq: read(".creq"),
          sts: read(".sts"),
          authz: read(".authz"),
        });
      }
    }
  };
  walk(SUITE_DIR);
  return cases;
}

/** One vector of `s3-sigv4-vectors.json` (the fields these tests use). */
export interface S3Vector {
  readonly id: string;
  readonly official: boolean;
  readonly kind: "header-auth" | "presigned" | "aws-chunked";
  readonly notes: string;
  readonly method: string;
  readonly host: string;
  readonly rawPath: string;
  readonly rawQuery: string;
  readonly headers: Array<[string, string]>;
  readonly signedHeaders: string;
  readonly payloadHash: string;
  readonly s3Options?: { readonly plusInPathIsSpace: boolean };
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly amzDate: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly expiresSeconds?: number;
  readonly url?: string;
  readonly expected: {
    readonly canonicalRequest: string;
    readonly stringToSign: string;
    readonly signingKeyHex: string;
    readonly signature?: string;
    readonly seedSignature?: string;
    readonly authorization?: string;
  };
}

export function loadS3Vectors(): S3Vector[] {
  const json = JSON.parse(readFileSync(join(FIXTURES_DIR, "s3-sigv4-vectors.json"), "utf8")) as {
    vectors: S3Vector[];
  };
  return json.vectors;
}
