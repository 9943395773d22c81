/**
 * Reads a store's ListBuckets answer (`ListAllMyBucketsResult`, S3 API reference "ListBuckets"): each
 * bucket's `Name` and `CreationDate`, and the `Owner`'s `ID` and `DisplayName`. The answer comes from the
 * network, so the reader is one linear pass (each character looked at a bounded number of times, no regex
 * over the input), nests at most 16 deep and accepts no DTD. Elements it does not know (`BucketRegion`,
 * `ContinuationToken`…) are skipped; a document that is not well-formed, has another root, or a bucket
 * without a name or a valid date is refused whole.
 */
import type { BucketOwner, ListedBucket } from "./render-list-buckets.js";
import { decodeXmlReference } from "./xml-text.js";

export interface ListBucketsResult {
  /** The store's account, when its answer names one. */
  readonly owner: BucketOwner | null;
  readonly buckets: readonly ListedBucket[];
}

const MAX_DEPTH = 16;

/** Parses `xml`; null when it is not a ListAllMyBucketsResult this reader can vouch for. Never throws. */
export function parseListBuckets(xml: string): ListBucketsResult | null {
  const stack: string[] = [];
  const buckets: ListedBucket[] = [];
  let ownerId: string | null = null;
  let ownerName: string | null = null;
  let name: string | null = null;
  let date: string | null = null;
  let text = "";
  let rootSeen = false;
  let p = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (p < xml.length) {
    const lt = xml.indexOf("<", p);
    const end = lt < 0 ? xml.length : lt;
    if (end > p) {
      const chunk = decodeText(xml, p, end);
      if (chunk === null) return null;
      if (stack.length === 0 && chunk.trim() !== "") return null; // text outside the root
      text += chunk;
    }
    if (lt < 0) break;
    if (xml.startsWith("<?", lt)) {
      const close = xml.indexOf("?>", lt + 2);
      if (close < 0) return null;
      p = close + 2;
    } else if (xml.startsWith("<!--", lt)) {
      const close = xml.indexOf("-->", lt + 4);
      if (close < 0) return null;
      p = close + 3;
    } else if (xml.startsWith("<![CDATA[", lt)) {
      const close = xml.indexOf("]]>", lt + 9);
      if (close < 0 || stack.length === 0) return null;
      text += xml.slice(lt + 9, close);
      p = close + 3;
    } else if (xml.startsWith("<!", lt)) {
      return null; // DOCTYPE and entity declarations: never from a store
    } else if (xml.charCodeAt(lt + 1) === 0x2f) {
      const nameEnd = scanName(xml, lt + 2);
      const closing = xml.slice(lt + 2, nameEnd);
      const gt = skipSpace(xml, nameEnd);
      if (xml.charCodeAt(gt) !== 0x3e || stack.pop() !== closing) return null;
      p = gt + 1;
      // An element ends: keep what it says when it is one of ours.
      const depth = stack.length;
      const parent = stack[depth - 1];
      if (depth === 3 && parent === "Bucket" && closing === "Name") name = text;
      else if (depth === 3 && parent === "Bucket" && closing === "CreationDate") date = text;
      else if (depth === 2 && parent === "Owner" && closing === "ID") ownerId = text;
      else if (depth === 2 && parent === "Owner" && closing === "DisplayName") ownerName = text;
      else if (depth === 2 && parent === "Buckets" && closing === "Bucket") {
        const creationDate = date === null ? null : parseDate(date);
        if (name === null || name === "" || creationDate === null) return null;
        buckets.push({ name, creationDate });
      }
      text = "";
    } else {
      const nameEnd = scanName(xml, lt + 1);
      const opening = xml.slice(lt + 1, nameEnd);
      if (opening === "") return null;
      const gt = scanAttributes(xml, nameEnd);
      if (gt < 0) return null;
      const selfClosing = xml.charCodeAt(gt - 1) === 0x2f;
      p = gt + 1;
      if (stack.length === 0) {
        if (rootSeen || opening !== "ListAllMyBucketsResult") return null;
        rootSeen = true;
      }
      if (stack.length === 2 && stack[1] === "Buckets" && opening === "Bucket") {
        name = null;
        date = null;
      }
      text = "";
      if (!selfClosing) {
        if (stack.length >= MAX_DEPTH) return null;
        stack.push(opening);
      } else if (stack.length === 2 && stack[1] === "Buckets" && opening === "Bucket") return null;
    }
  }
  if (!rootSeen || stack.length !== 0) return null;
  const owner = ownerId === null ? null : { id: ownerId, displayName: ownerName ?? ownerId };
  return { owner, buckets };
}

/** The end of an XML name starting at `p` (letters, digits, `_ - . :`). */
function scanName(xml: string, p: number): number {
  let i = p;
  for (;;) {
    const c = xml.charCodeAt(i);
    const ok =
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x5f ||
      c === 0x2d ||
      c === 0x2e ||
      c === 0x3a;
    if (!ok || i - p > 256) return i;
    i++;
  }
}

function skipSpace(xml: string, p: number): number {
  let i = p;
  for (;;) {
    const c = xml.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
    i++;
  }
}

/** From after a start tag's name, the index of its `>` (attributes skipped, quotes respected); -1 if none. */
function scanAttributes(xml: string, p: number): number {
  let quote = 0;
  for (let i = p; i < xml.length; i++) {
    const c = xml.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
      else if (c === 0x3c) return -1;
    } else if (c === 0x22 || c === 0x27) quote = c;
    else if (c === 0x3e) return i;
    else if (c === 0x3c) return -1;
  }
  return -1;
}

/** Character data of `xml[from, to)`, entities and character references decoded; null if malformed. */
function decodeText(xml: string, from: number, to: number): string | null {
  let out = "";
  let p = from;
  while (p < to) {
    // Scanned by hand up to `to`: indexOf would look at the rest of the document for every text node.
    let stop = p;
    while (stop < to && xml.charCodeAt(stop) !== 0x26) stop++;
    out += xml.slice(p, stop);
    if (stop === to) break;
    const semi = xml.indexOf(";", stop);
    if (semi < 0 || semi >= to || semi - stop > 10) return null; // the first bad reference ends the parse
    const decoded = decodeXmlReference(xml.slice(stop + 1, semi));
    if (decoded === undefined) return null;
    out += decoded;
    p = semi + 1;
  }
  return out;
}

/** An ISO 8601 date as stores write them (`2024-05-06T07:08:09.010Z`); null when it is not one. */
function parseDate(text: string): Date | null {
  const trimmed = text.trim();
  if (trimmed.length < 10 || trimmed.length > 40) return null;
  const c = trimmed.charCodeAt(0);
  if (c < 0x30 || c > 0x39) return null;
  const date = new Date(trimmed);
  return Number.isNaN(date.getTime()) ? null : date;
}
