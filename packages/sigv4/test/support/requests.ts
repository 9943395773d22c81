/** Realistic signed requests for tests, made with `signRequest` / `presignUrl` at a fixed clock. */
import {
  deriveSigningKey,
  presignUrl,
  type RequestFacts,
  type SignRequestInput,
  signRequest,
} from "../../src/index.js";

export const AKID = "AKIAIOSFODNN7EXAMPLE";
export const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
export const REGION = "us-east-1";
export const HOST = "examplebucket.s3.amazonaws.com";
/** 2013-05-24T00:00:00Z, the date of AWS's S3 examples. */
export const NOW_MS = Date.UTC(2013, 4, 24);
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
export const SIGNING_KEY = deriveSigningKey(SECRET, "20130524", REGION, "s3");

type Header = readonly [string, string];

/**
 * A header-signed request: GET /photos/cat.jpg with host, range, x-amz-content-sha256 and x-amz-date signed,
 * plus an unsigned user-agent, as an SDK sends it; `overrides` change any input of `signRequest`.
 */
export function signedRequest(overrides: Partial<SignRequestInput> = {}): RequestFacts {
  const input: SignRequestInput = {
    method: "GET",
    rawPath: "/photos/cat.jpg",
    rawQuery: "",
    headers: [
      ["host", HOST],
      ["range", "bytes=0-9"],
    ],
    payloadHash: EMPTY_SHA256,
    accessKeyId: AKID,
    secretAccessKey: SECRET,
    region: REGION,
    nowMs: NOW_MS,
    ...overrides,
  };
  const signed = signRequest(input);
  const headers: Header[] = [...input.headers, ...signed.headersToAdd, ["user-agent", "aws-sdk-js/3.700.0"]];
  return { method: input.method, rawPath: input.rawPath, rawQuery: input.rawQuery, headers };
}

/** A presigned GET of /photos/cat.jpg signed at `NOW_MS`, valid for `expiresSeconds` (default 900). */
export function presignedRequest(
  options: {
    expiresSeconds?: number;
    rawQuery?: string;
    headers?: Header[];
    nowMs?: number;
    region?: string;
  } = {},
): RequestFacts {
  const url = presignUrl({
    method: "GET",
    rawPath: "/photos/cat.jpg",
    rawQuery: options.rawQuery ?? "",
    host: HOST,
    headers: options.headers ?? [],
    accessKeyId: AKID,
    secretAccessKey: SECRET,
    region: options.region ?? REGION,
    expiresSeconds: options.expiresSeconds ?? 900,
    nowMs: options.nowMs ?? NOW_MS,
  });
  const q = url.indexOf("?");
  return {
    method: "GET",
    rawPath: url.slice(0, q),
    rawQuery: url.slice(q + 1),
    headers: [["host", HOST], ...(options.headers ?? [])],
  };
}

/** `facts` with the value of each header named in `changes` replaced (`null` removes it; new names are added). */
export function withHeaders(facts: RequestFacts, changes: Record<string, string | null>): RequestFacts {
  const headers: Header[] = [];
  for (const [name, value] of facts.headers) {
    if (!(name in changes)) headers.push([name, value]);
    else if (changes[name] !== null) headers.push([name, changes[name]!]);
  }
  for (const [name, value] of Object.entries(changes)) {
    if (value !== null && !facts.headers.some(([n]) => n === name)) headers.push([name, value]);
  }
  return { ...facts, headers };
}

/** The value of a header of `facts`. */
export function headerOf(facts: RequestFacts, name: string): string {
  const found = facts.headers.find(([n]) => n === name);
  if (found === undefined) throw new Error(`no ${name} header`);
  return found[1];
}

/** `facts` with one query parameter's raw value replaced (`null` removes it). */
export function withParam(facts: RequestFacts, name: string, value: string | null): RequestFacts {
  const parts = facts.rawQuery.split("&").filter((p) => !p.startsWith(`${name}=`));
  if (value !== null) parts.push(`${name}=${value}`);
  return { ...facts, rawQuery: parts.join("&") };
}
