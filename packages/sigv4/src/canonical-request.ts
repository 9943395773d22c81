import type { S3Error } from "@osp/errors";
import { canonicalHeaders } from "./canonical-headers.js";
import { canonicalUri } from "./canonical-uri.js";
import type { AuthenticatedRequest } from "./types.js";

/**
 * Joins the six parts of a canonical request (docs/s3-sigv4.md "Canonical request"):
 * `method\nuri\nquery\nheaders-block\nsigned;headers\npayloadHash`. The headers block already ends with
 * `\n`, hence the empty line before the signed-headers line; there is no newline at the end.
 */
export function formatCanonicalRequest(
  method: string,
  uri: string,
  query: string,
  headersBlock: string,
  signedHeadersLine: string,
  payloadHash: string,
): string {
  return `${method}\n${uri}\n${query}\n${headersBlock}\n${signedHeadersLine}\n${payloadHash}`;
}

/**
 * The canonical request of an authenticated request, from the canonical URI and query that
 * `authenticateRequest` computed and the raw headers in `auth.facts`. When `plusInPathIsSpace` is given, the
 * canonical URI is computed again from `facts.rawPath` under that rule (an S3Error only for a malformed
 * path, which `authenticateRequest` would already have refused).
 */
export function buildCanonicalRequest(
  auth: AuthenticatedRequest,
  options?: { plusInPathIsSpace?: boolean },
): string | S3Error {
  let uri = auth.canonicalUri;
  if (options?.plusInPathIsSpace !== undefined) {
    const recomputed = canonicalUri(auth.facts.rawPath, { plusIsSpace: options.plusInPathIsSpace });
    if (typeof recomputed !== "string") return recomputed;
    uri = recomputed;
  }
  return formatCanonicalRequest(
    auth.facts.method,
    uri,
    auth.canonicalQuery,
    canonicalHeaders(auth.facts.headers, auth.signedHeaders),
    auth.signedHeaders.join(";"),
    auth.payloadHash,
  );
}
