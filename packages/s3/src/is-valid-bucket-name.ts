/**
 * S3 bucket names: which names a client may use, and which may be put in front of an endpoint's host name.
 *
 * Source for every rule below, unless marked otherwise: AWS S3 User Guide, "General purpose bucket naming
 * rules", https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (summarised in
 * docs/s3-sigv4.md "Bucket names").
 */

/** "Bucket names must be between 3 (min) and 63 (max) characters long." */
const MIN_LENGTH = 3;
const MAX_LENGTH = 63;

/**
 * "Bucket names can consist only of lowercase letters, numbers, periods (.), and hyphens (-)." and
 * "Bucket names must begin and end with a letter or number." A 3-character minimum makes the middle class
 * non-empty, so one regex states both.
 */
const ALLOWED_SHAPE = /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/;

/** "Bucket names must not be formatted as an IP address (for example, 192.168.5.4)." Any dotted quad of
 * digit runs counts: rejecting `999.1.1.1` as well costs nothing and avoids arguing about what "IP" means. */
const IPV4_FORMATTED = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;

/**
 * Reserved prefixes: "must not start with the prefix `xn--`" (punycode, so IDN look-alikes are out),
 * "`sthree-`" (and so `sthree-configurator`), "`amzn-s3-demo-`" (reserved for documentation).
 */
const RESERVED_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"] as const;

/**
 * Reserved suffixes: "`-s3alias`" (access point aliases), "`--ol-s3`" (Object Lambda access point aliases),
 * "`.mrap`" (Multi-Region Access Points), "`--x-s3`" (directory buckets), "`--table-s3`" (table buckets).
 */
const RESERVED_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] as const;

/**
 * True when `name` satisfies S3's general-purpose bucket naming rules (list above). Pure; never throws.
 * Legacy names that S3 still serves in us-east-1 (uppercase, underscores, up to 255 characters) are
 * refused: the gateway only accepts names a client could create today.
 */
export function isValidBucketName(name: string): boolean {
  if (name.length < MIN_LENGTH || name.length > MAX_LENGTH) return false;
  if (!ALLOWED_SHAPE.test(name)) return false;
  // "Bucket names must not contain two adjacent periods."
  if (name.includes("..")) return false;
  if (IPV4_FORMATTED.test(name)) return false;
  for (const prefix of RESERVED_PREFIXES) if (name.startsWith(prefix)) return false;
  for (const suffix of RESERVED_SUFFIXES) if (name.endsWith(suffix)) return false;
  return true;
}

/** One DNS label of a virtual-hostable bucket: letters, digits, inner hyphens (RFC 1123 host name label). */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

/**
 * True when `name` can be put in front of an endpoint's host name (`name.s3.example`), i.e. virtual-hosted
 * addressing works for it. Same idea as the AWS SDKs' `isVirtualHostableS3Bucket` (@aws-sdk/util-endpoints;
 * docs/s3-sigv4.md "Upstream addressing"): 3–63 characters of DNS labels, lowercase, not an IP address. Dots
 * are accepted only when `allowDots` is true: over TLS "the SSL wildcard certificate matches only buckets
 * that do not contain dots" (S3 User Guide, "Virtual hosting of buckets"), so `a.b.s3.example` fails
 * certificate validation. Pure; never throws.
 */
export function isVirtualHostableBucket(name: string, allowDots: boolean): boolean {
  if (name.length < MIN_LENGTH || name.length > MAX_LENGTH) return false;
  if (IPV4_FORMATTED.test(name)) return false;
  if (!allowDots) return DNS_LABEL.test(name);
  for (const label of name.split(".")) if (!DNS_LABEL.test(label)) return false;
  return true;
}
