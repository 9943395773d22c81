/**
 * Reading IBM IAM's answers to `POST /identity/token` (IBM Cloud docs, "Generating an IBM Cloud IAM token by
 * using an API key"). Nothing here echoes a response body into a message: IAM error text could repeat what
 * was sent, and what was sent contains the API key.
 */

export interface ParsedIamToken {
  readonly accessToken: string;
  /** Lifetime from IAM's `expires_in` (relative, so immune to clock skew), else from `expiration`. */
  readonly lifetimeMs: number;
}

/** A token is pasted into `authorization: Bearer …`: visible ASCII only (IBM's are JWTs). */
const TOKEN_SYNTAX = /^[\x21-\x7e]{1,16384}$/;
/** IBM IAM error codes look like BXNIM0415E. */
const IAM_ERROR_CODE_SYNTAX = /^BXNIM\d{4}[A-Z]$/;
const REQUEST_ID_SYNTAX = /^[\w.:-]{1,128}$/;

/**
 * Parses a 200 body `{access_token, refresh_token, token_type: "Bearer", expires_in, expiration, …}`; `null`
 * when it is not one. `nowMs` converts `expiration` (epoch seconds) when `expires_in` is missing.
 */
export function parseIamTokenResponse(body: Buffer, nowMs: number): ParsedIamToken | null {
  const json = parseJsonObject(body);
  if (json === null) return null;
  const accessToken = json["access_token"];
  if (typeof accessToken !== "string" || !TOKEN_SYNTAX.test(accessToken)) return null;
  const tokenType = json["token_type"];
  if (tokenType !== undefined && (typeof tokenType !== "string" || tokenType.toLowerCase() !== "bearer"))
    return null;
  const expiresIn = json["expires_in"];
  const expiration = json["expiration"];
  let lifetimeMs: number;
  if (typeof expiresIn === "number" && Number.isFinite(expiresIn) && expiresIn > 0) {
    lifetimeMs = expiresIn * 1000;
  } else if (typeof expiration === "number" && Number.isFinite(expiration) && expiration * 1000 > nowMs) {
    lifetimeMs = expiration * 1000 - nowMs;
  } else {
    return null;
  }
  return { accessToken, lifetimeMs };
}

/** The safe parts of IBM's error body `{errorCode, errorMessage, context: {requestId, …}}`, for messages/logs. */
export function parseIamErrorResponse(body: Buffer): { errorCode: string | null; requestId: string | null } {
  const json = parseJsonObject(body);
  const errorCode = json?.["errorCode"];
  const context = json?.["context"];
  const requestId =
    typeof context === "object" && context !== null
      ? (context as Record<string, unknown>)["requestId"]
      : undefined;
  return {
    errorCode: typeof errorCode === "string" && IAM_ERROR_CODE_SYNTAX.test(errorCode) ? errorCode : null,
    requestId: typeof requestId === "string" && REQUEST_ID_SYNTAX.test(requestId) ? requestId : null,
  };
}

function parseJsonObject(body: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body.toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
