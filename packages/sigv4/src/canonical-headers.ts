/** A header list as received: lower-case name, raw value, received order, duplicates kept. */
export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

/** HTTP whitespace (SP, HTAB, LF, VT, FF, CR): the runs the canonical form collapses. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/**
 * A header value in canonical form (docs/s3-sigv4.md "Canonical headers"): leading and trailing whitespace
 * trimmed, each inner run of whitespace (obs-fold line breaks included) collapsed to one space, as the AWS
 * suite's `get-header-value-trim` and smithy's `.trim().replace(/\s+/g, " ")` do, for ASCII whitespace.
 * Values that are already canonical (nearly all) are returned unchanged without allocating.
 */
export function normalizeHeaderValue(value: string): string {
  const n = value.length;
  let clean = n === 0 || (!isSpace(value.charCodeAt(0)) && !isSpace(value.charCodeAt(n - 1)));
  for (let i = 1; clean && i < n - 1; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x20) clean = !isSpace(value.charCodeAt(i + 1));
    else if (c <= 0x0d && c >= 0x09) clean = false;
  }
  if (clean) return value;
  let out = "";
  let i = 0;
  while (i < n) {
    while (i < n && isSpace(value.charCodeAt(i))) i++;
    const wordStart = i;
    while (i < n && !isSpace(value.charCodeAt(i))) i++;
    if (i > wordStart) out += out.length === 0 ? value.slice(wordStart, i) : ` ${value.slice(wordStart, i)}`;
  }
  return out;
}

/** Above this many name comparisons, the values are gathered through a map instead (hostile header lists). */
const MAX_LINEAR_COMPARISONS = 512;

/**
 * The CanonicalHeaders block of the canonical request (docs/s3-sigv4.md "Canonical headers"): `name:value\n`
 * for each name of `signedHeaders`, in the order given (clients send them sorted). Values are normalised;
 * repeated headers are joined with `,` (no space) in received order, which is why this reads the raw header
 * list and never Node's `req.headers`. A signed name the request lacks contributes `name:` (the signature
 * will then simply not match). `headers` names must be lower-case, as `RequestFacts` guarantees.
 */
export function canonicalHeaders(headers: HeaderList, signedHeaders: readonly string[]): string {
  if (headers.length * signedHeaders.length > MAX_LINEAR_COMPARISONS) {
    return canonicalHeadersIndexed(headers, signedHeaders);
  }
  let out = "";
  for (let s = 0; s < signedHeaders.length; s++) {
    const name = signedHeaders[s]!;
    let value: string | undefined;
    for (let h = 0; h < headers.length; h++) {
      const header = headers[h]!;
      if (header[0] !== name) continue;
      const normalized = normalizeHeaderValue(header[1]);
      value = value === undefined ? normalized : `${value},${normalized}`;
    }
    out += value === undefined ? `${name}:\n` : `${name}:${value}\n`;
  }
  return out;
}

function canonicalHeadersIndexed(headers: HeaderList, signedHeaders: readonly string[]): string {
  const values = new Map<string, string | undefined>();
  for (const name of signedHeaders) values.set(name, undefined);
  for (const [name, raw] of headers) {
    if (!values.has(name)) continue;
    const previous = values.get(name);
    const normalized = normalizeHeaderValue(raw);
    values.set(name, previous === undefined ? normalized : `${previous},${normalized}`);
  }
  let out = "";
  for (const name of signedHeaders) out += `${name}:${values.get(name) ?? ""}\n`;
  return out;
}
