/**
 * The `x-amz-copy-source` header of CopyObject and UploadPartCopy: "the name of the source bucket and the
 * key of the source object, separated by a slash (/) … The value must be URL-encoded", optionally followed
 * by `?versionId=<id>` (S3 API reference, CopyObject). The gateway parses it to authorize "read" on the
 * source and to swap in the source's upstream bucket name, then formats it again.
 */
import { S3Error } from "@osp/errors";
import { decodePercent } from "./decode-percent.js";
import { isValidBucketName } from "./is-valid-bucket-name.js";
import { parseQuery } from "./parse-query.js";
import { DEFAULT_MAX_KEY_BYTES } from "./resolve-target.js";
import { encodeKeyPath, uriEncode } from "./uri-encode.js";

export interface CopySource {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string | null;
}

export interface ParseCopySourceOptions {
  /** As `resolveTarget`'s option: a raw `+` decodes to a space (default true, S3's rule for paths). */
  readonly plusIsSpace?: boolean;
  /** Longest key in UTF-8 bytes (default 1024). */
  readonly maxKeyBytes?: number;
}

/**
 * Parses `[/]bucket/key[?versionId=id]`: split at the first raw `?`, then at the first `/` after the
 * bucket (by position), each part percent-decoded once; `//`, `.`, `..` stay in the key. Returns, never
 * throws: InvalidArgument (with ArgumentName/ArgumentValue, as S3 does) for a missing bucket or key, a
 * malformed escape, an access-point ARN, or a query other than one non-empty `versionId`;
 * InvalidBucketName for a bucket failing `isValidBucketName`; KeyTooLongError over `maxKeyBytes`.
 */
export function parseCopySource(value: string, options: ParseCopySourceOptions = {}): CopySource | S3Error {
  const plusIsSpace = options.plusIsSpace ?? true;
  const maxKeyBytes = options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  const start = value.startsWith("/") ? 1 : 0;
  const q = value.indexOf("?");
  const path = q < 0 ? value.slice(start) : value.slice(start, q);

  const slash = path.indexOf("/");
  if (slash <= 0 || slash === path.length - 1) {
    return badCopySource(value, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
  }
  const bucket = decodePercent(path.slice(0, slash), plusIsSpace);
  const key = decodePercent(path.slice(slash + 1), plusIsSpace);
  if (bucket === null || key === null) return badCopySource(value, "Invalid copy source encoding");
  if (bucket.toLowerCase().startsWith("arn:")) {
    return badCopySource(value, "Access point ARNs are not supported as copy sources");
  }
  if (!isValidBucketName(bucket)) {
    return new S3Error("InvalidBucketName", undefined, { fields: [["BucketName", bucket]] });
  }
  if (Buffer.byteLength(key, "utf8") > maxKeyBytes) return new S3Error("KeyTooLongError");

  let versionId: string | null = null;
  if (q >= 0) {
    const query = parseQuery(value.slice(q + 1));
    if (query instanceof S3Error) return badCopySource(value, "Invalid copy source encoding");
    for (const [name, v] of query) {
      if (name !== "versionId" || v === null || v === "" || versionId !== null) {
        return badCopySource(value, "Invalid version id specified");
      }
      versionId = v;
    }
  }
  return { bucket, key, versionId };
}

/**
 * Formats a copy source as `bucket/key[?versionId=id]`, the form the S3 API reference documents: bucket
 * and version id UriEncoded, the key UriEncoded keeping `/`. `parseCopySource` gives the same parts back.
 * Pure; never throws.
 */
export function formatCopySource(bucket: string, key: string, versionId: string | null): string {
  const path = uriEncode(bucket) + "/" + encodeKeyPath(key);
  return versionId === null ? path : path + "?versionId=" + uriEncode(versionId);
}

function badCopySource(value: string, message: string): S3Error {
  return new S3Error("InvalidArgument", message, {
    fields: [
      ["ArgumentName", "x-amz-copy-source"],
      ["ArgumentValue", value],
    ],
  });
}
