/**
 * The one table of S3 error codes the gateway itself produces, with their HTTP status and default message,
 * and the one error class that carries them. Every failure the gateway answers by itself (authentication,
 * validation, limits, upstream trouble) is an `S3Error`; it is rendered to S3's XML by `renderErrorXml`.
 *
 * Codes and statuses follow the S3 API reference error list
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html); where AWS documents no message, the
 * text is what S3 was seen to send or what other implementations send (docs/s3-sigv4.md "Errors osp answers
 * itself"). Clients key on Code + status, never on text.
 */

export const S3_ERRORS = {
  AccessDenied: { status: 403, message: "Access Denied" },
  /** A CORS preflight no rule of the bucket allows (S3's wording, typo included). */
  AccessForbidden: {
    status: 403,
    message:
      "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
  },
  AuthorizationHeaderMalformed: { status: 400, message: "The authorization header is malformed." },
  AuthorizationQueryParametersError: {
    status: 400,
    message: "Error parsing the query-string authentication parameters.",
  },
  BadDigest: { status: 400, message: "The Content-MD5 you specified did not match what we received." },
  EntityTooLarge: { status: 400, message: "Your proposed upload exceeds the maximum allowed object size." },
  ExpiredToken: { status: 400, message: "The provided token has expired." },
  IncompleteBody: {
    status: 400,
    message: "You did not provide the number of bytes specified by the Content-Length HTTP header.",
  },
  InternalError: { status: 500, message: "We encountered an internal error. Please try again." },
  InvalidAccessKeyId: {
    status: 403,
    message: "The AWS Access Key Id you provided does not exist in our records.",
  },
  InvalidArgument: { status: 400, message: "Invalid Argument" },
  InvalidBucketName: { status: 400, message: "The specified bucket is not valid." },
  InvalidChunkSizeError: {
    status: 400,
    message: "Only the last chunk is allowed to have a size less than 8192 bytes",
  },
  InvalidDigest: { status: 400, message: "The Content-MD5 you specified was invalid." },
  InvalidRequest: { status: 400, message: "Invalid Request" },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI." },
  KeyTooLongError: { status: 400, message: "Your key is too long." },
  MalformedTrailerError: {
    status: 400,
    message:
      "The request contained trailing data that was not well-formed or did not conform to our published schema.",
  },
  MalformedXML: {
    status: 400,
    message: "The XML you provided was not well-formed or did not validate against our published schema.",
  },
  MethodNotAllowed: { status: 405, message: "The specified method is not allowed against this resource." },
  MissingContentLength: { status: 411, message: "You must provide the Content-Length HTTP header." },
  NoSuchBucket: { status: 404, message: "The specified bucket does not exist." },
  NotImplemented: {
    status: 501,
    message: "A header you provided implies functionality that is not implemented.",
  },
  RequestHeaderSectionTooLarge: {
    status: 400,
    message: "Your request header section exceeds the maximum allowed size.",
  },
  RequestTimeout: {
    status: 400,
    message:
      "Your socket connection to the server was not read from or written to within the timeout period.",
  },
  RequestTimeTooSkewed: {
    status: 403,
    message: "The difference between the request time and the current time is too large.",
  },
  ServiceUnavailable: { status: 503, message: "Service is unable to handle request." },
  SignatureDoesNotMatch: {
    status: 403,
    message:
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
  },
  SlowDown: { status: 503, message: "Please reduce your request rate." },
  XAmzContentSHA256Mismatch: {
    status: 400,
    message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type S3ErrorCode = keyof typeof S3_ERRORS;

/** Extra XML elements after Message, in order (e.g. `AWSAccessKeyId`, `StringToSign`, `HeadersNotSigned`). */
export type S3ErrorFields = ReadonlyArray<readonly [name: string, value: string]>;

/**
 * A failure the gateway answers itself. `source` says who caused it (pingora's model): `downstream` = the
 * client's request, `upstream` = the object store, `internal` = the gateway. `retryable` is true when a
 * client may retry the same request unchanged (5xx, timeouts).
 */
export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly fields: S3ErrorFields;
  readonly source: "downstream" | "upstream" | "internal";
  /** Response headers that belong to this error (e.g. `x-amz-bucket-region`). */
  readonly headers: S3ErrorFields;

  constructor(
    code: S3ErrorCode,
    message?: string,
    options: {
      fields?: S3ErrorFields;
      source?: "downstream" | "upstream" | "internal";
      headers?: S3ErrorFields;
      cause?: unknown;
    } = {},
  ) {
    super(
      message ?? S3_ERRORS[code].message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "S3Error";
    this.code = code;
    this.status = S3_ERRORS[code].status;
    this.fields = options.fields ?? [];
    this.source = options.source ?? "downstream";
    this.headers = options.headers ?? [];
  }

  get retryable(): boolean {
    return this.status >= 500 || this.code === "RequestTimeout" || this.code === "SlowDown";
  }

  /** Plain data for crossing a thread or process boundary; rebuild with `S3Error.fromData`. */
  toData(): S3ErrorData {
    return {
      code: this.code,
      message: this.message,
      fields: this.fields.map(([k, v]) => [k, v] as const),
      source: this.source,
      headers: this.headers.map(([k, v]) => [k, v] as const),
    };
  }

  static fromData(data: S3ErrorData): S3Error {
    return new S3Error(data.code, data.message, {
      fields: data.fields,
      source: data.source,
      headers: data.headers,
    });
  }
}

export interface S3ErrorData {
  readonly code: S3ErrorCode;
  readonly message: string;
  readonly fields: S3ErrorFields;
  readonly source: "downstream" | "upstream" | "internal";
  readonly headers: S3ErrorFields;
}

export function isS3Error(value: unknown): value is S3Error {
  return value instanceof S3Error;
}

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** Escapes text for an XML element body. Control characters other than tab/LF/CR are not legal XML 1.0: dropped. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']|[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g,
    (c) => XML_ESCAPES[c] ?? "",
  );
}

/**
 * Renders S3's error document: `<Error><Code/><Message/>…fields…<Resource/><RequestId/><HostId/></Error>`,
 * element order as S3 sends it (docs/s3-sigv4.md "Errors osp answers itself").
 */
export function renderErrorXml(
  error: S3Error,
  requestId: string,
  resource?: string,
  hostId?: string,
): string {
  let body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message>`;
  for (const [name, value] of error.fields) body += `<${name}>${escapeXml(value)}</${name}>`;
  if (resource !== undefined) body += `<Resource>${escapeXml(resource)}</Resource>`;
  body += `<RequestId>${escapeXml(requestId)}</RequestId>`;
  if (hostId !== undefined) body += `<HostId>${escapeXml(hostId)}</HostId>`;
  return body + "</Error>";
}

/**
 * The message of anything thrown: an Error's message, or the thrown value as text. Hooks are user code and
 * may throw a string, `null` or an object; reading `.message` off those would throw again from inside the
 * catch that was meant to turn the failure into a logged refusal.
 */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  try {
    return String(err);
  } catch {
    return Object.prototype.toString.call(err);
  }
}
