/**
 * The body of DeleteObjects (`POST /bucket?delete`): `<Delete><Object><Key>…</Key><VersionId>…</VersionId>
 * </Object>…<Quiet>true</Quiet></Delete>` (S3 API reference, DeleteObjects). The gateway reads it to check
 * and authorize every key, then sends the store a body it wrote itself from what it read, so that no
 * construct its reader skipped (comments, CDATA, entity declarations, unknown elements) can make the store
 * see other keys. The reader is strict: anything beyond that shape is MalformedXML.
 */
import { S3Error } from "@osp/errors";
import { decodeXmlReference } from "./xml-text.js";

export interface DeleteObjectsEntry {
  readonly key: string;
  readonly versionId: string | null;
  /** Conditional deletes (`ETag`, `LastModifiedTime`, `Size`), kept as sent. */
  readonly conditions: ReadonlyArray<readonly [string, string]>;
}

export interface DeleteObjectsRequest {
  readonly quiet: boolean;
  readonly objects: readonly DeleteObjectsEntry[];
}

/** S3 deletes at most 1000 keys per request. */
export const MAX_DELETE_OBJECTS = 1000;

const CONDITIONS = new Set(["ETag", "LastModifiedTime", "Size"]);
const NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";

/** Parses a DeleteObjects body; MalformedXML (returned) for anything else. Linear; never throws. */
export function parseDeleteObjects(xml: string): DeleteObjectsRequest | S3Error {
  const r = new Reader(xml);
  if (r.peek() === 0xfeff) r.pos++;
  r.space();
  if (r.startsWith("<?xml")) {
    const end = xml.indexOf("?>", r.pos);
    if (end < 0) return malformed();
    r.pos = end + 2;
  }
  r.space();
  if (!r.openTag("Delete", true)) return malformed();
  let quiet = false;
  let quietSeen = false;
  const objects: DeleteObjectsEntry[] = [];
  for (;;) {
    r.space();
    if (r.closeTag("Delete")) break;
    if (r.openTag("Quiet")) {
      const text = r.text();
      if (quietSeen || (text !== "true" && text !== "false") || !r.closeTag("Quiet")) return malformed();
      quiet = text === "true";
      quietSeen = true;
      continue;
    }
    if (!r.openTag("Object")) return malformed();
    let key: string | null = null;
    let versionId: string | null = null;
    const conditions: Array<[string, string]> = [];
    for (;;) {
      r.space();
      if (r.closeTag("Object")) break;
      const name = r.anyOpenTag();
      if (name === null) return malformed();
      const text = r.text();
      if (text === null || !r.closeTag(name)) return malformed();
      if (name === "Key" && key === null) key = text;
      else if (name === "VersionId" && versionId === null) versionId = text;
      else if (CONDITIONS.has(name) && !conditions.some(([n]) => n === name)) conditions.push([name, text]);
      else return malformed();
    }
    if (key === null || key === "") return malformed();
    objects.push({ key, versionId, conditions });
    if (objects.length > MAX_DELETE_OBJECTS) return malformed();
  }
  r.space();
  if (r.pos !== xml.length || objects.length === 0) return malformed();
  return { quiet, objects };
}

/** The canonical body for a parsed request. */
export function renderDeleteObjects(request: DeleteObjectsRequest): string {
  let out = `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="${NAMESPACE}">`;
  if (request.quiet) out += "<Quiet>true</Quiet>";
  for (const o of request.objects) {
    out += `<Object><Key>${escapeXml(o.key)}</Key>`;
    if (o.versionId !== null) out += `<VersionId>${escapeXml(o.versionId)}</VersionId>`;
    for (const [name, value] of o.conditions) out += `<${name}>${escapeXml(value)}</${name}>`;
    out += "</Object>";
  }
  return `${out}</Delete>`;
}

/**
 * Text content as XML, every blank included written as a character reference: some stores' parsers trim
 * raw text before decoding it (s3rver's would read the key ` secret/s` as `secret/s`), none trims a reference.
 */
function escapeXml(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x26) out += "&amp;";
    else if (c === 0x3c) out += "&lt;";
    else if (c === 0x3e) out += "&gt;";
    else if (c === 0x22) out += "&quot;";
    else if (c === 0x27) out += "&apos;";
    else if (c <= 0x20) out += `&#${c};`;
    else out += text[i];
  }
  return out;
}

function malformed(): S3Error {
  return new S3Error("MalformedXML");
}

/** A cursor over the body; every method advances only on success, and scans each character once. */
class Reader {
  pos = 0;
  constructor(readonly xml: string) {}

  peek(): number {
    return this.xml.charCodeAt(this.pos);
  }

  startsWith(s: string): boolean {
    return this.xml.startsWith(s, this.pos);
  }

  space(): void {
    for (;;) {
      const c = this.peek();
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  /** `<Name>`, or with `attributes` `<Name xmlns="…">` (the S3 namespace only). */
  openTag(name: string, attributes = false): boolean {
    const tag = `<${name}`;
    if (!this.startsWith(tag)) return false;
    let p = this.pos + tag.length;
    if (this.xml.charCodeAt(p) === 0x3e) {
      this.pos = p + 1;
      return true;
    }
    if (!attributes) return false;
    const rest = this.xml.slice(p, p + 64);
    const m = /^\s+xmlns=(["'])([^"'<>]*)\1\s*>/.exec(rest);
    if (m === null || m[2] !== NAMESPACE) return false;
    p += m[0].length;
    this.pos = p;
    return true;
  }

  /** `<Name>` of a plain element name (letters only); its name, or null. */
  anyOpenTag(): string | null {
    if (this.peek() !== 0x3c) return null;
    let p = this.pos + 1;
    const start = p;
    for (;;) {
      const c = this.xml.charCodeAt(p);
      if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) p++;
      else break;
    }
    if (p === start || p - start > 32 || this.xml.charCodeAt(p) !== 0x3e) return null;
    this.pos = p + 1;
    return this.xml.slice(start, p);
  }

  closeTag(name: string): boolean {
    const tag = `</${name}>`;
    if (!this.startsWith(tag)) return false;
    this.pos += tag.length;
    return true;
  }

  /** Character data up to the next `<`, entities and character references decoded; null if malformed. */
  text(): string | null {
    let out = "";
    const xml = this.xml;
    let p = this.pos;
    for (;;) {
      if (p >= xml.length) return null;
      const c = xml.charCodeAt(p);
      if (c === 0x3c) break;
      if (c === 0x3e || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d)) return null;
      if (c !== 0x26) {
        out += xml[p];
        p++;
        continue;
      }
      const semi = xml.indexOf(";", p);
      if (semi < 0 || semi - p > 10) return null;
      const decoded = decodeXmlReference(xml.slice(p + 1, semi));
      if (decoded === undefined) return null;
      out += decoded;
      p = semi + 1;
    }
    this.pos = p;
    return out;
  }
}
