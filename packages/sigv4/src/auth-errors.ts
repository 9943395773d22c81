import { S3Error } from "@osp/errors";

/**
 * The authentication failures, one constructor each, so every message and field list is written once.
 * Codes, statuses and field names follow S3's (docs/s3-sigv4.md "Errors osp answers itself"); where AWS
 * documents no message, the text is what S3 was seen to send or what other implementations send. Clients
 * key on code and status only.
 */

/** 400 AuthorizationHeaderMalformed with S3's message prefix. */
export function headerMalformed(detail: string, fields?: ReadonlyArray<readonly [string, string]>): S3Error {
  return new S3Error("AuthorizationHeaderMalformed", `The authorization header is malformed; ${detail}`, {
    fields: fields ?? [],
  });
}

/** 400 AuthorizationQueryParametersError (presigned URLs, docs/s3-sigv4.md "Presigned URLs"). */
export function queryMalformed(message: string, fields?: ReadonlyArray<readonly [string, string]>): S3Error {
  return new S3Error("AuthorizationQueryParametersError", message, { fields: fields ?? [] });
}

export const CREDENTIAL_MALFORMED =
  'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".';

/**
 * 400 InvalidRequest for SigV2 (unless `auth.sigV2`) and SigV4a: S3's answer in SigV4-only regions
 * (docs/s3-sigv4.md "SigV2", "SigV4a").
 */
export function mechanismNotSupported(): S3Error {
  return new S3Error(
    "InvalidRequest",
    "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
  );
}

/** Longest Authorization value echoed back in `ArgumentValue`. */
const MAX_ECHOED_CHARS = 1024;

/** 400 InvalidArgument for an `Authorization` scheme that is not AWS's (`Bearer …`, `Basic …`). */
export function unsupportedAuthorizationType(value: string): S3Error {
  return new S3Error("InvalidArgument", "Unsupported Authorization Type", {
    fields: [
      ["ArgumentName", "Authorization"],
      ["ArgumentValue", value.slice(0, MAX_ECHOED_CHARS)],
    ],
  });
}

/**
 * 400 InvalidArgument when a request carries two authentication mechanisms: header and query, or (with
 * `authorization` null) SigV4's `X-Amz-*` and SigV2's `AWSAccessKeyId`/`Signature` query parameters.
 */
export function onlyOneMechanism(authorization: string | null): S3Error {
  return new S3Error(
    "InvalidArgument",
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
    {
      fields:
        authorization === null
          ? [["ArgumentName", "Signature"]]
          : [
              ["ArgumentName", "Authorization"],
              ["ArgumentValue", authorization.slice(0, MAX_ECHOED_CHARS)],
            ],
    },
  );
}

/**
 * 403 AccessDenied when neither `x-amz-date` nor `Date` holds a valid date (docs/s3-sigv4.md "Dates, scope
 * and clock skew").
 */
export function missingDate(): S3Error {
  return new S3Error("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
}

/**
 * 403 AccessDenied listing the `x-amz-*` (or `host`) headers the client did not sign (docs/s3-sigv4.md
 * "Canonical headers").
 */
export function headersNotSigned(names: readonly string[]): S3Error {
  return new S3Error("AccessDenied", "There were headers present in the request which were not signed", {
    fields: [["HeadersNotSigned", names.join(", ")]],
  });
}
