/**
 * An incremental HTTP/1.1 response parser (RFC 9112) for one connection: fed whatever each socket read
 * returned, it reports heads and body slices without copying the body. Strict where a lenient reading would
 * let an upstream smuggle a second response into one (both Content-Length and Transfer-Encoding, two
 * different lengths, a codings list other than `chunked`, bare LF, obs-fold), and as strict as llhttp (Node's
 * parser, which test/response-parser-differential.test.ts compares it with) about the rest: control bytes in
 * field values, whitespace in chunk-size lines, malformed chunk extensions and trailer lines. Anything refused is
 * an `UpstreamProtocolError` and the connection must be closed. Every byte is looked at a bounded number of
 * times, however hostile the input and however it is split into reads.
 */

/** A response the parser cannot accept; `code` is stable (map-upstream-error.ts maps it). */
export class UpstreamProtocolError extends Error {
  readonly code: "OSP_BAD_RESPONSE" | "OSP_HEADERS_OVERFLOW" | "OSP_INCOMPLETE_RESPONSE";

  constructor(code: UpstreamProtocolError["code"], message: string) {
    super(message);
    this.name = "UpstreamProtocolError";
    this.code = code;
  }
}

export interface ResponseSink {
  /** The final head (1xx heads are skipped): names lower-case, values latin1 with surrounding blanks trimmed. */
  onHead(status: number, headers: Array<readonly [string, string]>): void;
  /** A slice of the buffer passed to `execute` (a view, not a copy). The return value is the sink's business. */
  onBody(chunk: Buffer): void;
  /** The response ended; `keepAlive` says whether the connection may carry another request. */
  onComplete(keepAlive: boolean): void;
}

const HEAD = 0; // reading the status line and headers
const FIXED = 1; // Content-Length body
const CHUNK_SIZE = 2; // chunked: the size line
const CHUNK_DATA = 3; // chunked: data of the current chunk
const CHUNK_DATA_END = 4; // chunked: the CRLF after a chunk's data
const TRAILERS = 5; // chunked: trailer lines up to the empty line
const UNTIL_CLOSE = 6; // neither length nor chunked: the body ends when the connection does
const DONE = 7;

// Where a chunk-size line is (RFC 9112 §7.1.1, as strict as llhttp: no whitespace anywhere in it).
const SIZE = 0; // hex digits
const EXT_NAME_START = 1; // after ";": the first character of an extension name
const EXT_NAME = 2;
const EXT_VALUE_START = 3; // after "="
const EXT_VALUE_TOKEN = 4;
const EXT_QUOTED = 5; // inside a quoted-string
const EXT_QUOTED_PAIR = 6; // after a backslash in a quoted-string
const EXT_AFTER_QUOTED = 7;
const LINE_CR = 8; // the CR was seen: only LF may follow

const CR = 13;
const LF = 10;
/** A chunk-size line longer than this is hostile (16 hex digits + a generous extension). */
const MAX_CHUNK_LINE_BYTES = 4096;
/** Chunked trailers are read and dropped; more than this is hostile. */
const MAX_TRAILER_BYTES = 16 * 1024;
/** Reads up to this long are searched and copied by a loop: a view and a native call cost more. */
const SHORT_READ_BYTES = 16;
/** A head-carry buffer grown past this is dropped once its head is parsed (most heads fit in one read). */
const KEEP_CARRY_BYTES = 4096;
/** Chunk sizes beyond 2^53 are refused: beyond any object size, and no longer exact doubles. */
const MAX_CHUNK_SIZE = Number.MAX_SAFE_INTEGER;

/** RFC 9110 token characters, for header names and chunk extensions. */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TOKEN[c.charCodeAt(0)] = 1;
}

/**
 * Bytes allowed in a field value (RFC 9110 §5.5: HTAB, SP, VCHAR, obs-text), as llhttp allows them: a control
 * byte (NUL, CR, LF, 0x01–0x08, 0x0B–0x1F, DEL) is refused rather than passed on to clients.
 */
const FIELD_VALUE = new Uint8Array(256);
FIELD_VALUE[9] = 1;
for (let c = 0x20; c < 256; c++) if (c !== 0x7f) FIELD_VALUE[c] = 1;

/** qdtext of a quoted chunk-extension value (RFC 9110 §5.6.4): a field-value byte but `"` and `\`. */
const QDTEXT = FIELD_VALUE.slice();
QDTEXT[34] = 0;
QDTEXT[92] = 0;

export class ResponseParser {
  readonly #sink: ResponseSink;
  readonly #maxHeadBytes: number;
  #state = DONE;
  #bodiless = false;
  /**
   * Head (or trailer) bytes carried over from earlier reads, in `#carry[0, #carryBytes)`: copied once each,
   * since the read buffer is reused, and searched never again (`#sinceLf` and `#lastCr` carry the search).
   */
  #carry: Buffer | null = null;
  #carryBytes = 0;
  /** Bytes of the current head line seen so far (capped at 2), and whether the last of them was a CR. */
  #sinceLf = 0;
  #lastCr = false;
  #remaining = 0;
  #keepAlive = true;
  /** An interim head would not have kept the connection (`Connection: close`, or HTTP/1.0 without keep-alive). */
  #closeAfter = false;
  #lineBytes = 0;
  #chunkSize = 0;
  #sizeDigits = 0;
  #lineState = SIZE;

  constructor(sink: ResponseSink, maxHeadBytes: number) {
    this.#sink = sink;
    this.#maxHeadBytes = maxHeadBytes;
  }

  /** Prepares for the response to a new request; `bodiless` for HEAD (no body whatever the headers say). */
  expect(bodiless: boolean): void {
    this.#state = HEAD;
    this.#bodiless = bodiless;
    this.#carryBytes = 0;
    this.#sinceLf = 0;
    this.#lastCr = false;
    this.#keepAlive = true;
    this.#closeAfter = false;
  }

  /** True between `expect()` and the end of that response. */
  get busy(): boolean {
    return this.#state !== DONE;
  }

  /** True once the head is in and the body is being read. */
  get inBody(): boolean {
    return this.#state !== HEAD && this.#state !== DONE;
  }

  /**
   * Parses `buf[start, end)`. Returns the offset where parsing stopped: `end`, or the first byte after a
   * completed response (bytes beyond it are not part of any request this connection sent). Throws
   * `UpstreamProtocolError`; the sink's own exceptions propagate. Bytes of `buf` outside `[start, end)` are never
   * read, and none are referenced after the call returns but the body slices handed to the sink.
   */
  execute(buf: Buffer, start: number, end: number): number {
    let at = start;
    while (at < end && this.#state !== DONE) {
      switch (this.#state) {
        case HEAD:
          at = this.#readHead(buf, at, end);
          break;
        case FIXED: {
          const n = Math.min(this.#remaining, end - at);
          this.#remaining -= n;
          const chunk = buf.subarray(at, at + n);
          at += n;
          this.#sink.onBody(chunk);
          if (this.#remaining === 0 && this.#state === FIXED) this.#complete();
          break;
        }
        case CHUNK_SIZE:
          at = this.#readChunkSize(buf, at, end);
          break;
        case CHUNK_DATA: {
          const n = Math.min(this.#remaining, end - at);
          this.#remaining -= n;
          const chunk = buf.subarray(at, at + n);
          at += n;
          if (this.#remaining === 0) this.#state = CHUNK_DATA_END;
          this.#sink.onBody(chunk);
          break;
        }
        case CHUNK_DATA_END:
          at = this.#readChunkEnd(buf, at);
          break;
        case TRAILERS:
          at = this.#readTrailers(buf, at, end);
          break;
        default: {
          // UNTIL_CLOSE
          const chunk = buf.subarray(at, end);
          at = end;
          this.#sink.onBody(chunk);
        }
      }
    }
    return at;
  }

  /** The connection ended (EOF): completes a close-delimited body, else throws unless nothing was pending. */
  finish(): void {
    if (this.#state === DONE) return;
    if (this.#state === UNTIL_CLOSE) {
      this.#keepAlive = false;
      this.#complete();
      return;
    }
    throw new UpstreamProtocolError(
      "OSP_INCOMPLETE_RESPONSE",
      this.#state === HEAD ? "connection closed before the response head" : "connection closed mid-body",
    );
  }

  // ---- head ----

  /**
   * Finds the end of a head (or trailer section), the LF of its first empty line, in `buf[start, end)`: returns
   * the offset just past it, or -1 (`#sinceLf` and `#lastCr` carry the scan to the next read). Jumps from LF to
   * LF, so each byte is looked at once however the section is split into reads; a bare LF is refused at once.
   */
  #findSectionEnd(buf: Buffer, start: number, end: number): number {
    // Bytes past `end` are left over from an earlier read of a reused buffer: a view stops the search there.
    // A short read (a head trickling in) is scanned in place: a view and a native call cost more than the loop.
    const view = end - start <= SHORT_READ_BYTES ? null : end === buf.length ? buf : buf.subarray(0, end);
    let at = start;
    let sinceLf = this.#sinceLf;
    let lastCr = this.#lastCr;
    while (at < end) {
      let lf = -1;
      if (view !== null) lf = view.indexOf(LF, at);
      else for (let i = at; i < end && lf < 0; i++) if (buf[i] === LF) lf = i;
      if (lf < 0) {
        this.#sinceLf = Math.min(sinceLf + (end - at), 2); // only "nothing" and "a CR alone" matter
        this.#lastCr = buf[end - 1] === CR;
        return -1;
      }
      if (!(lf > at ? buf[lf - 1] === CR : lastCr)) {
        throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "bare LF in the response head");
      }
      const emptyLine = sinceLf + (lf - at) === 1; // nothing but the CR since the last LF
      sinceLf = 0;
      lastCr = false;
      at = lf + 1;
      if (emptyLine) {
        this.#sinceLf = 0;
        this.#lastCr = false;
        return at;
      }
    }
    this.#sinceLf = sinceLf;
    this.#lastCr = lastCr;
    return -1;
  }

  /** Copies `buf[from, to)` after the carried bytes (which the size checks have bounded). */
  #carryOver(buf: Buffer, from: number, to: number): void {
    const needed = this.#carryBytes + (to - from);
    let carry = this.#carry;
    if (carry === null || carry.length < needed) {
      const grown = Buffer.allocUnsafe(Math.max(needed, 2 * (carry?.length ?? 0), 1024));
      if (carry !== null) carry.copy(grown, 0, 0, this.#carryBytes);
      carry = grown;
      this.#carry = carry;
    }
    if (to - from <= SHORT_READ_BYTES)
      for (let i = from, j = this.#carryBytes; i < to; i++, j++) carry[j] = buf[i]!;
    else buf.copy(carry, this.#carryBytes, from, to);
    this.#carryBytes = needed;
  }

  /**
   * The section (head or trailers) that ends at `found` in `buf` (or does not end in this read: -1), as latin1
   * text without its final CRLFCRLF; null when it continues in the next read. Throws when it grows past
   * `limit` bytes, CRLFCRLF included.
   */
  #takeSection(buf: Buffer, start: number, end: number, limit: number, found: number): string | null {
    const total = this.#carryBytes + ((found < 0 ? end : found) - start);
    if (total > limit) {
      throw new UpstreamProtocolError(
        "OSP_HEADERS_OVERFLOW",
        this.#state === HEAD ? "response head too large" : "chunked trailers too large",
      );
    }
    if (found < 0) {
      this.#carryOver(buf, start, end);
      return null;
    }
    if (this.#carryBytes === 0) return buf.toString("latin1", start, Math.max(start, found - 4));
    this.#carryOver(buf, start, found);
    const carry = this.#carry!;
    const text = carry.toString("latin1", 0, Math.max(0, this.#carryBytes - 4));
    this.#carryBytes = 0;
    if (carry.length > KEEP_CARRY_BYTES) this.#carry = null;
    return text;
  }

  #readHead(buf: Buffer, start: number, end: number): number {
    const found = this.#findSectionEnd(buf, start, end);
    const text = this.#takeSection(buf, start, end, this.#maxHeadBytes, found);
    if (text === null) return end;
    this.#parseHead(text);
    return found;
  }

  #parseHead(text: string): void {
    const lines = text.split("\r\n");
    const statusLine = lines[0] ?? "";
    if (!isStatusLine(statusLine))
      throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed status line");
    const http10 = statusLine.charCodeAt(7) === 48; // "HTTP/1.0"
    const status = Number(statusLine.slice(9, 12));
    const headers: Array<readonly [string, string]> = [];
    let contentLength = -1;
    let chunked = false;
    let transferEncoding = false;
    let sawClose = false;
    let sawKeepAlive = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = headerNameEnd(line);
      const name = line.slice(0, colon).toLowerCase();
      const value = headerValue(line, colon + 1);
      headers.push([name, value]);
      if (name === "content-length") {
        if (!isLength(value)) throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "invalid content-length");
        const n = Number(value);
        if (contentLength >= 0 && n !== contentLength) {
          throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "conflicting content-length headers");
        }
        contentLength = n;
      } else if (name === "transfer-encoding") {
        if (transferEncoding || value.toLowerCase() !== "chunked") {
          throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "unsupported transfer-encoding");
        }
        transferEncoding = true;
        chunked = true;
      } else if (name === "connection") {
        const tokens = value.toLowerCase().split(",");
        for (const token of tokens) {
          const t = trimBlanks(token); // not String#trim: that also strips NBSP (0xA0), which is no OWS
          if (t === "close") sawClose = true;
          else if (t === "keep-alive") sawKeepAlive = true;
        }
      }
    }
    if (status < 200) {
      if (status === 101) throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "unexpected protocol upgrade");
      // 100 Continue, 102, 103: an interim head; the final one follows. One that would not keep the connection
      // still closes it after the response (llhttp refuses the final head after it).
      if (sawClose || (http10 && !sawKeepAlive)) this.#closeAfter = true;
      this.#state = HEAD;
      return;
    }
    if (chunked && contentLength >= 0) {
      throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "both content-length and transfer-encoding");
    }
    // RFC 9112 §9.3: close wins; HTTP/1.0 keeps the connection only when it says keep-alive.
    this.#keepAlive = !sawClose && !this.#closeAfter && (!http10 || sawKeepAlive);
    this.#sink.onHead(status, headers);
    if (this.#state === DONE) return; // the sink aborted
    if (this.#bodiless || status === 204 || status === 304) {
      this.#complete();
    } else if (chunked) {
      this.#beginChunk();
    } else if (contentLength >= 0) {
      this.#remaining = contentLength;
      this.#state = FIXED;
      if (contentLength === 0) this.#complete();
    } else {
      this.#keepAlive = false;
      this.#state = UNTIL_CLOSE;
    }
  }

  // ---- chunked ----

  #beginChunk(): void {
    this.#state = CHUNK_SIZE;
    this.#chunkSize = 0;
    this.#sizeDigits = 0;
    this.#lineState = SIZE;
    this.#lineBytes = 0;
  }

  /**
   * chunk-size *( ";" ext-name [ "=" ( token / quoted-string ) ] ) CRLF, byte by byte, with no whitespace
   * (RFC 9112 §7.1.1 allows BWS around ";" and "=", llhttp refuses it, and no object store sends extensions).
   */
  #readChunkSize(buf: Buffer, start: number, end: number): number {
    let at = start;
    let state = this.#lineState;
    while (at < end) {
      const c = buf[at++]!;
      if (++this.#lineBytes > MAX_CHUNK_LINE_BYTES) {
        throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "chunk-size line too long");
      }
      switch (state) {
        case SIZE: {
          const digit = hexValue(c);
          if (digit >= 0) {
            this.#chunkSize = this.#chunkSize * 16 + digit;
            this.#sizeDigits++;
            if (this.#chunkSize > MAX_CHUNK_SIZE) {
              throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed chunk size");
            }
            continue;
          }
          if (this.#sizeDigits === 0 || (c !== CR && c !== 59) /* ; */) {
            throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed chunk-size line");
          }
          state = c === CR ? LINE_CR : EXT_NAME_START;
          continue;
        }
        case EXT_NAME_START:
        case EXT_VALUE_START:
          if (TOKEN[c] === 1) state = state === EXT_NAME_START ? EXT_NAME : EXT_VALUE_TOKEN;
          else if (c === 34 /* " */ && state === EXT_VALUE_START) state = EXT_QUOTED;
          else throw badExtension();
          continue;
        case EXT_NAME:
        case EXT_VALUE_TOKEN:
        case EXT_AFTER_QUOTED:
          if (c === CR) state = LINE_CR;
          else if (c === 59 /* ; */) state = EXT_NAME_START;
          else if (c === 61 /* = */ && state === EXT_NAME) state = EXT_VALUE_START;
          else if (TOKEN[c] !== 1 || state === EXT_AFTER_QUOTED) throw badExtension();
          continue;
        case EXT_QUOTED:
          if (c === 34 /* " */) state = EXT_AFTER_QUOTED;
          else if (c === 92 /* \\ */) state = EXT_QUOTED_PAIR;
          else if (QDTEXT[c] !== 1) throw badExtension();
          continue;
        case EXT_QUOTED_PAIR:
          if (FIELD_VALUE[c] !== 1) throw badExtension();
          state = EXT_QUOTED;
          continue;
        default: {
          // LINE_CR
          if (c !== LF) throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed chunk-size line");
          if (this.#chunkSize === 0) {
            // The trailer section: like a head, it ends with its first empty line (at once when there are none).
            this.#state = TRAILERS;
            this.#carryBytes = 0;
            this.#sinceLf = 0;
            this.#lastCr = false;
            return at;
          }
          this.#remaining = this.#chunkSize;
          this.#lineBytes = 0; // #readChunkEnd counts the CRLF after the data with it
          this.#state = CHUNK_DATA;
          return at;
        }
      }
    }
    this.#lineState = state;
    return at;
  }

  /** The CRLF that closes a chunk's data; `#lineBytes` counts how much of it was seen. */
  #readChunkEnd(buf: Buffer, at: number): number {
    const c = buf[at]!;
    if (this.#lineBytes === 0) {
      if (c !== CR) throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "chunk data longer than its size");
      this.#lineBytes = 1;
      return at + 1;
    }
    if (c !== LF) throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "chunk data longer than its size");
    this.#beginChunk();
    return at + 1;
  }

  /** Trailer lines up to the empty line: checked as header lines are (llhttp does), then dropped. */
  #readTrailers(buf: Buffer, start: number, end: number): number {
    // An empty section (one CRLF) reads as "": its text is everything before the final CRLFCRLF.
    const found = this.#findSectionEnd(buf, start, end);
    const text = this.#takeSection(buf, start, end, MAX_TRAILER_BYTES, found);
    if (text === null) return end;
    if (text.length > 0) {
      for (const line of text.split("\r\n")) headerValue(line, headerNameEnd(line) + 1);
    }
    this.#complete();
    return found;
  }

  #complete(): void {
    this.#state = DONE;
    this.#sink.onComplete(this.#keepAlive);
  }

  /** Stops parsing the current response (the caller gave up on it); the connection must not be reused. */
  abandon(): void {
    this.#state = DONE;
    this.#carryBytes = 0;
  }
}

/** `HTTP/1.x SP 3DIGIT [SP reason]` (a missing reason is tolerated, as RFC 9112 §4 allows); no regex. */
function isStatusLine(line: string): boolean {
  if (!line.startsWith("HTTP/1.") || line.length < 12) return false;
  const minor = line.charCodeAt(7);
  if ((minor !== 48 && minor !== 49) || line.charCodeAt(8) !== 32) return false;
  const first = line.charCodeAt(9);
  if (first < 49 || first > 57 || !isDigit(line.charCodeAt(10)) || !isDigit(line.charCodeAt(11)))
    return false;
  if (line.length === 12) return true;
  if (line.charCodeAt(12) !== 32) return false;
  // The reason phrase: HTAB, SP, VCHAR, obs-text; llhttp takes control bytes here, nothing reads them.
  for (let i = 13; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0 || c === CR || c === LF) return false;
  }
  return true;
}

/** The offset of the colon ending a header (or trailer) line's name; throws unless the name is a token. */
function headerNameEnd(line: string): number {
  let i = 0;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 58 /* : */) break;
    if (c > 255 || TOKEN[c] !== 1) throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "invalid header name");
  }
  if (i === 0 || i === line.length)
    throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed header line");
  return i;
}

/**
 * The value of a header line from `from`, without surrounding blanks (a loop: a regex trimming both ends is
 * quadratic in a run of blanks); throws on a byte no field value may hold.
 */
function headerValue(line: string, from: number): string {
  let first = line.length;
  let last = from - 1;
  for (let i = from; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (FIELD_VALUE[c] !== 1) throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "invalid header value");
    if (c !== 32 && c !== 9) {
      if (first === line.length) first = i;
      last = i;
    }
  }
  return first > last ? "" : line.slice(first, last + 1);
}

/** `text` without leading and trailing SP and HTAB (RFC 9110 §5.6.3 OWS). */
function trimBlanks(text: string): string {
  let first = 0;
  let last = text.length - 1;
  while (first <= last && (text.charCodeAt(first) === 32 || text.charCodeAt(first) === 9)) first++;
  while (last >= first && (text.charCodeAt(last) === 32 || text.charCodeAt(last) === 9)) last--;
  return text.slice(first, last + 1);
}

/** Decimal digits, at most 15 of them after leading zeros (an exact double, beyond any object size). */
function isLength(text: string): boolean {
  let significant = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) return false;
    if ((significant > 0 || c !== 48) && ++significant > 15) return false;
  }
  return text.length > 0;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function badExtension(): UpstreamProtocolError {
  return new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed chunk extension");
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
