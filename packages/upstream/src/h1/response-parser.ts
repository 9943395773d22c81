/**
 * An incremental HTTP/1.1 response parser (RFC 9112) for one connection: fed whatever each socket read
 * returned, it reports heads and body slices without copying the body. Strict where a lenient reading would
 * let an upstream smuggle a second response into one (both Content-Length and Transfer-Encoding, two
 * different lengths, a codings list other than `chunked`, bare LF, obs-fold); anything else is an
 * `UpstreamProtocolError` and the connection must be closed.
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

const CR = 13;
const LF = 10;
/** A chunk-size line longer than this is hostile (16 hex digits + a generous extension). */
const MAX_CHUNK_LINE_BYTES = 4096;
/** Chunked trailers are read and dropped; more than this is hostile. */
const MAX_TRAILER_BYTES = 16 * 1024;

/** RFC 9110 token characters, for header names. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TOKEN[c.charCodeAt(0)] = 1;
}

export class ResponseParser {
  readonly #sink: ResponseSink;
  readonly #maxHeadBytes: number;
  #state = DONE;
  #bodiless = false;
  /** Head bytes carried over from earlier reads (a head split across reads); null when none. */
  #partial: Buffer | null = null;
  #remaining = 0;
  #keepAlive = true;
  #lineBytes = 0;
  #chunkSize = 0;
  #sizeDigits = 0;
  #inExtension = false;
  #afterSizeBlank = false;
  #sawCr = false;

  constructor(sink: ResponseSink, maxHeadBytes: number) {
    this.#sink = sink;
    this.#maxHeadBytes = maxHeadBytes;
  }

  /** Prepares for the response to a new request; `bodiless` for HEAD (no body whatever the headers say). */
  expect(bodiless: boolean): void {
    this.#state = HEAD;
    this.#bodiless = bodiless;
    this.#partial = null;
    this.#keepAlive = true;
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
   * `UpstreamProtocolError`; the sink's own exceptions propagate.
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

  #readHead(buf: Buffer, start: number, end: number): number {
    // Bytes past `end` are left over from an earlier read of a reused buffer: never look at them.
    let data = end === buf.length ? buf : buf.subarray(0, end);
    let from = start;
    let to = end;
    let carried = 0;
    if (this.#partial !== null) {
      carried = this.#partial.length;
      data = Buffer.concat([this.#partial, buf.subarray(start, end)]);
      from = 0;
      to = data.length;
    }
    // The head ends at the first CRLFCRLF; search from a little before the new bytes.
    const headEnd = data.indexOf("\r\n\r\n", Math.max(from, carried - 3), "latin1");
    if (headEnd < 0 ? to - from > this.#maxHeadBytes : headEnd + 4 - from > this.#maxHeadBytes) {
      throw new UpstreamProtocolError("OSP_HEADERS_OVERFLOW", "response head too large");
    }
    if (headEnd < 0) {
      // Copied: the read buffer is reused by the next read.
      this.#partial = Buffer.from(data.subarray(from, to));
      return end;
    }
    this.#partial = null;
    const consumedNew = headEnd + 4 - carried - from; // bytes of `buf` that belong to this head
    this.#parseHead(data.toString("latin1", from, headEnd));
    return start + consumedNew;
  }

  #parseHead(text: string): void {
    const lines = text.split("\r\n");
    const statusLine = lines[0] ?? "";
    // HTTP-version SP 3DIGIT SP [reason]; a missing reason (no second SP) is tolerated, as RFC 9112 allows.
    if (!/^HTTP\/1\.[01] [1-9][0-9][0-9](?: [^\r\n\0]*)?$/.test(statusLine)) {
      throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed status line");
    }
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
      const colon = line.indexOf(":");
      if (colon <= 0) throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed header line");
      for (let j = 0; j < colon; j++) {
        const c = line.charCodeAt(j);
        if (c > 127 || TOKEN[c] !== 1) {
          throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "invalid header name");
        }
      }
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
      if (/[\0\r\n]/.test(value)) throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "invalid header value");
      headers.push([name, value]);
      if (name === "content-length") {
        if (!/^[0-9]{1,15}$/.test(value)) {
          throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "invalid content-length");
        }
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
          const t = token.trim();
          if (t === "close") sawClose = true;
          else if (t === "keep-alive") sawKeepAlive = true;
        }
      }
    }
    if (status < 200) {
      if (status === 101) throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "unexpected protocol upgrade");
      // 100 Continue, 102, 103: an interim head; the final one follows.
      this.#state = HEAD;
      return;
    }
    if (chunked && contentLength >= 0) {
      throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "both content-length and transfer-encoding");
    }
    // RFC 9112 §9.3: close wins; HTTP/1.0 keeps the connection only when it says keep-alive.
    this.#keepAlive = !sawClose && (!http10 || sawKeepAlive);
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
    this.#inExtension = false;
    this.#afterSizeBlank = false;
    this.#sawCr = false;
    this.#lineBytes = 0;
  }

  /** chunk-size [; ext] CRLF */
  #readChunkSize(buf: Buffer, start: number, end: number): number {
    let at = start;
    while (at < end) {
      const c = buf[at++]!;
      if (++this.#lineBytes > MAX_CHUNK_LINE_BYTES) {
        throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "chunk-size line too long");
      }
      if (this.#sawCr) {
        if (c !== LF || this.#sizeDigits === 0) {
          throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed chunk-size line");
        }
        if (this.#chunkSize === 0) {
          this.#state = TRAILERS;
          this.#lineBytes = 0;
          this.#sawCr = false;
          this.#remaining = 0; // bytes of the current trailer line
          return at;
        }
        this.#remaining = this.#chunkSize;
        this.#lineBytes = 0; // #readChunkEnd counts the CRLF after the data with it
        this.#state = CHUNK_DATA;
        return at;
      }
      if (c === CR) {
        this.#sawCr = true;
      } else if (this.#inExtension) {
        if (c === LF || c === 0)
          throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed chunk extension");
      } else if (c === 59 /* ; */) {
        if (this.#sizeDigits === 0) {
          throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed chunk-size line");
        }
        this.#inExtension = true;
      } else if (c === 32 || c === 9) {
        // RFC 9112 §7.1.1: whitespace after the size may only lead to an extension.
        if (this.#sizeDigits === 0) {
          throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed chunk-size line");
        }
        this.#afterSizeBlank = true;
      } else if (this.#afterSizeBlank) {
        throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed chunk-size line");
      } else {
        const digit = hexValue(c);
        // 13 hex digits = 2^52: beyond any object size and still an exact double.
        if (digit < 0 || this.#sizeDigits >= 13) {
          throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed chunk size");
        }
        this.#chunkSize = this.#chunkSize * 16 + digit;
        this.#sizeDigits++;
      }
    }
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

  /** Trailer lines (dropped) up to the empty line; `#remaining` counts the current line's bytes. */
  #readTrailers(buf: Buffer, start: number, end: number): number {
    let at = start;
    while (at < end) {
      const c = buf[at++]!;
      if (++this.#lineBytes > MAX_TRAILER_BYTES) {
        throw new UpstreamProtocolError("OSP_HEADERS_OVERFLOW", "chunked trailers too large");
      }
      if (this.#sawCr) {
        if (c !== LF) throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed trailer line");
        this.#sawCr = false;
        if (this.#remaining === 0) {
          this.#complete();
          return at;
        }
        this.#remaining = 0;
      } else if (c === CR) {
        this.#sawCr = true;
      } else if (c === LF || c === 0) {
        throw new UpstreamProtocolError("OSP_BAD_RESPONSE", "malformed trailer line");
      } else {
        this.#remaining++;
      }
    }
    return at;
  }

  #complete(): void {
    this.#state = DONE;
    this.#sink.onComplete(this.#keepAlive);
  }

  /** Stops parsing the current response (the caller gave up on it); the connection must not be reused. */
  abandon(): void {
    this.#state = DONE;
    this.#partial = null;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
