/** Content-MD5 (RFC 1864) as S3 checks it (docs/s3-sigv4.md "Checksums"). */
import { S3Error } from "@osp/errors";

/** Canonical base64 of 16 bytes: 22 characters then `==`. */
const MD5_BASE64 = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

/**
 * Returns the 16 digest bytes of a Content-MD5 header value, or throws 400 InvalidDigest ("The Content-MD5
 * you specified was invalid.") when it is not the base64 of 16 bytes. Usable before the body starts.
 */
export function parseContentMd5(base64: string): Buffer {
  if (!MD5_BASE64.test(base64)) throw new S3Error("InvalidDigest");
  return Buffer.from(base64, "base64");
}
