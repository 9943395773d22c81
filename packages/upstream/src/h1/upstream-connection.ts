import net from "node:net";
import tls from "node:tls";
import type { BodySink, StreamedUpstreamBody } from "../upstream-body.js";
import { ResponseParser, type ResponseSink } from "./response-parser.js";

/**
 * One keep-alive HTTP/1.1 connection to an upstream origin, carrying one request at a time (no pipelining).
 *
 * Reads land in a buffer the connection owns and reuses (`onread`), not in a fresh Buffer per read as with a
 * socket's 'data' events: streaming a large object then allocates nothing per chunk, so the process's memory
 * stays flat instead of growing until V8 happens to collect the dropped chunks (bench/upstream-client measures
 * both). Body slices handed to the call are views into that buffer: valid until the call returns from
 * `onBody`, or, when it asked to pause, until it resumes. A pause lends the buffer to the call: the connection
 * reads into a second one meanwhile and takes the first back on resume (a response that completes while paused
 * leaves its buffer to the call for good).
 *
 * Returning false from `onread` stops a TCP socket's reads at once, but a TLS socket still delivers the rest of
 * the batch of records it has decrypted: those bytes are copied to a backlog and parsed on resume, so a paused
 * call hears nothing until it resumes, on either kind of socket.
 */

/** What the connection drives: implemented by the call in send-upstream.ts. */
export interface ConnectionCall {
  /** Request line and headers, one latin1 string. */
  readonly head: string;
  /** HEAD: the response has no body whatever its headers say. */
  readonly bodiless: boolean;
  readonly body: StreamedUpstreamBody | null;
  /** When the pool queued the call (all connections busy); the pool's sweeper times it out from there. */
  queuedAtMs: number;
  attached(conn: UpstreamConnection): void;
  onHead(status: number, headers: Array<readonly [string, string]>): void;
  /** False: pause reading after this read until `resume()`. */
  onBody(chunk: Buffer): boolean;
  onComplete(): void;
  /** `retryable`: a reused connection failed before any response byte (the origin had closed it). */
  onFailure(err: unknown, retryable: boolean): void;
}

/** The pool side of a connection. */
export interface ConnectionOwner {
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /** How long a call may keep its response paused. */
  readonly pausedTimeoutMs: number;
  /** The connection finished a response and may carry another (`idleTimeoutMs`: the origin's hint, or -1). */
  released(conn: UpstreamConnection, idleTimeoutMs: number): void;
  /** The connection is closed; called once. */
  gone(conn: UpstreamConnection): void;
  /** TLS session of the last handshake with this origin, offered for resumption. */
  tlsSession: Buffer | undefined;
}

export interface ConnectTarget {
  readonly host: string;
  readonly port: number;
  /** null: plain TCP. */
  readonly tls: { readonly servername: string | undefined; readonly secureContext: tls.SecureContext } | null;
}

/** A deadline passed; `code` names which (map-upstream-error.ts). */
export class UpstreamTimeoutError extends Error {
  readonly code: string;

  constructor(
    code:
      | "OSP_CONNECT_TIMEOUT"
      | "OSP_HEADERS_TIMEOUT"
      | "OSP_BODY_TIMEOUT"
      | "OSP_SEND_TIMEOUT"
      | "OSP_QUEUE_TIMEOUT"
      | "OSP_PAUSED_TIMEOUT",
    message: string,
  ) {
    super(message);
    this.name = "UpstreamTimeoutError";
    this.code = code;
  }
}

/** The socket closed under a request without an error of its own. */
export class UpstreamClosedError extends Error {
  readonly code: string;

  constructor(code: "OSP_SOCKET_CLOSED" | "OSP_POOL_DESTROYED", message: string) {
    super(message);
    this.name = "UpstreamClosedError";
    this.code = code;
  }
}

/**
 * Our side stays open when the origin ends its own: 'end' is handled by #onEnd (a response still in the backlog
 * is parsed first), and the socket closes only when the connection destroys it. Without this, a TLS socket that
 * read close_notify right behind a response closes itself while a paused call's backlog still holds that response.
 */
const allowHalfOpen = true;

/** 64 KiB: what one read of a busy socket returns on Linux; one buffer per connection. */
const READ_BUFFER_BYTES = 64 * 1024;
/** Response heads larger than this are refused (S3 metadata is limited to 2 KiB; Node's own limit is 16 KiB). */
const MAX_HEAD_BYTES = 64 * 1024;

const NO_DEADLINE = 0;
const CONNECTING = 1;
const AWAITING_HEAD = 2;
const READING_BODY = 3;
const IDLE = 4;
/** The request body's bytes wait in a full socket buffer for the origin to read them. */
const SENDING = 5;
/** The call paused the response (its client is not reading). */
const PAUSED = 6;

/** Codes after which a request on a reused connection may be sent again on a fresh one. */
const STALE_CONNECTION_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "OSP_INCOMPLETE_RESPONSE",
  "OSP_SOCKET_CLOSED",
]);

export class UpstreamConnection implements ResponseSink, BodySink {
  readonly #owner: ConnectionOwner;
  readonly #socket: net.Socket;
  readonly #parser: ResponseParser;
  /** Where the next socket read lands (what `onread.buffer()` returns after each read). */
  #readBuffer: Buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  /** The buffer a paused call holds views of; back to `#spareBuffer` on resume. */
  #lentBuffer: Buffer | null = null;
  #spareBuffer: Buffer | null = null;
  /** Copies of what a TLS socket delivered after reading was stopped, parsed on resume. */
  #backlog: Buffer[] = [];
  /** The socket ended while the backlog still held bytes: handled once they are parsed. */
  #endPending = false;
  /** The call returned false from `onBody` during the current read: it keeps views of the read's buffer. */
  #viewsHeld = false;
  #connected = false;
  #closed = false;
  #call: ConnectionCall | null = null;
  /** Requests started on this connection, this one included. */
  #requests = 0;
  #responseBytes = 0;
  #pauseRequested = false;
  #readStopped = false;
  /** The parser is running: a `resume()` from inside the call's `onBody` only lifts the pause. */
  #ingesting = false;
  /** Set while `execute` runs when the response completed; decides reuse once the read is processed. */
  #completed = false;
  #reusable = true;
  #idleTimeoutMs = -1;
  #deadline = 0;
  #deadlineKind = NO_DEADLINE;

  constructor(owner: ConnectionOwner, target: ConnectTarget) {
    this.#owner = owner;
    this.#parser = new ResponseParser(this, MAX_HEAD_BYTES);
    const onread = {
      buffer: () => this.#readBuffer,
      callback: (n: number, buf: Buffer) => this.#onRead(n, buf),
    };
    if (target.tls === null) {
      this.#socket = net.connect({
        host: target.host,
        port: target.port,
        onread,
        noDelay: true,
        allowHalfOpen,
      });
      this.#socket.once("connect", () => this.#onConnect());
    } else {
      // Node's TLS sockets take `onread` and `allowHalfOpen` like net ones; its type declarations only list them
      // for net.
      const options: tls.ConnectionOptions & { onread: typeof onread; allowHalfOpen: boolean } = {
        host: target.host,
        port: target.port,
        rejectUnauthorized: true,
        secureContext: target.tls.secureContext,
        ALPNProtocols: ["http/1.1"],
        onread,
        allowHalfOpen,
      };
      if (target.tls.servername !== undefined) options.servername = target.tls.servername;
      if (owner.tlsSession !== undefined) options.session = owner.tlsSession;
      const socket = tls.connect(options);
      socket.setNoDelay(true);
      socket.on("session", (session: Buffer) => {
        owner.tlsSession = session;
      });
      socket.once("secureConnect", () => this.#onConnect());
      this.#socket = socket;
    }
    this.#setDeadline(CONNECTING, owner.connectTimeoutMs);
    this.#socket.on("error", (err) => this.#fail(err));
    this.#socket.on("end", () => this.#onEnd());
    this.#socket.on("close", () => this.#destroy());
    this.#socket.on("drain", () => this.#onDrain());
  }

  /** Sends `call`'s request: now, or once connected. */
  start(call: ConnectionCall): void {
    this.#call = call;
    this.#requests++;
    this.#responseBytes = 0;
    this.#completed = false;
    this.#pauseRequested = false;
    this.#lentBuffer = null;
    this.#parser.expect(call.bodiless);
    call.attached(this);
    this.#resumeReading(); // a previous response may have completed while its reads were stopped
    if (this.#connected) this.#writeRequest(call);
    else this.#setDeadline(CONNECTING, this.#owner.connectTimeoutMs);
  }

  /** The call gave up (client abort): the socket goes, and the call hears nothing more. */
  abortCall(call: ConnectionCall): void {
    if (this.#call !== call) return;
    this.#call = null;
    this.#destroy();
  }

  /** Fails the current call with `err` (pool destroyed) and closes. */
  destroyWith(err: Error): void {
    this.#fail(err);
    this.#destroy();
  }

  /** Lets a paused response flow again: first what the backlog holds, then the socket. */
  resume(call: ConnectionCall): void {
    if (this.#call !== call || !this.#pauseRequested) return;
    this.#pauseRequested = false;
    if (this.#lentBuffer !== null) {
      this.#spareBuffer = this.#lentBuffer;
      this.#lentBuffer = null;
    }
    // Called from the call's own onBody while the parser delivers a read: the read (or the backlog loop below,
    // one frame up) goes on by itself; parsing here would hand the call later bytes before the rest of this read.
    if (this.#ingesting) return;
    this.#setDeadline(READING_BODY, this.#owner.bodyTimeoutMs);
    while (this.#backlog.length > 0) {
      const bytes = this.#backlog.shift()!;
      this.#ingest(bytes, bytes.length);
      if (this.#closed) return;
      if (this.#pauseRequested) {
        this.#viewsHeld = false; // backlog copies are the call's to keep: nothing to lend
        this.#setDeadline(PAUSED, this.#owner.pausedTimeoutMs);
        return;
      }
    }
    if (this.#endPending) {
      this.#endPending = false;
      this.#onEnd();
      return;
    }
    this.#resumeReading();
  }

  /** Closes an idle connection, or lets a busy one finish first. */
  close(): void {
    this.#reusable = false;
    if (this.#call === null) this.#destroy();
  }

  /** Called by the pool's sweeper: fails the call (or closes an idle socket) whose deadline passed. */
  checkDeadline(nowMs: number): void {
    if (this.#deadlineKind === NO_DEADLINE || nowMs < this.#deadline) return;
    switch (this.#deadlineKind) {
      case IDLE:
        this.#destroy();
        return;
      case CONNECTING:
        this.#fail(new UpstreamTimeoutError("OSP_CONNECT_TIMEOUT", "connect timeout"));
        return;
      case AWAITING_HEAD:
        this.#fail(new UpstreamTimeoutError("OSP_HEADERS_TIMEOUT", "no response head in time"));
        return;
      case SENDING:
        this.#fail(
          new UpstreamTimeoutError("OSP_SEND_TIMEOUT", "the origin stopped reading the request body"),
        );
        return;
      case PAUSED:
        this.#fail(new UpstreamTimeoutError("OSP_PAUSED_TIMEOUT", "the response stayed paused too long"));
        return;
      default:
        this.#fail(new UpstreamTimeoutError("OSP_BODY_TIMEOUT", "response body stalled"));
    }
  }

  /** Marks the connection idle in the pool until `nowMs + idleMs`. */
  idleUntil(idleMs: number): void {
    this.#setDeadline(IDLE, idleMs);
  }

  /** An idle connection whose keep-alive deadline has passed (the sweeper has not closed it yet). */
  idleExpired(nowMs: number): boolean {
    return this.#deadlineKind === IDLE && nowMs >= this.#deadline;
  }

  // ---- BodySink ----

  writeBody(chunk: Buffer): boolean {
    if (this.#socket.write(chunk)) return true;
    // The origin must take the bytes within the body timeout (an origin that stopped reading would otherwise
    // hold the request forever: no response deadline runs while the body is still going out).
    if (this.#deadlineKind === NO_DEADLINE) this.#setDeadline(SENDING, this.#owner.bodyTimeoutMs);
    return false;
  }

  endBody(): void {
    if (this.#call !== null && !this.#parser.inBody) {
      this.#setDeadline(AWAITING_HEAD, this.#owner.headersTimeoutMs);
    }
  }

  // ---- ResponseSink ----

  onHead(status: number, headers: Array<readonly [string, string]>): void {
    this.#idleTimeoutMs = keepAliveHintMs(headers);
    this.#setDeadline(READING_BODY, this.#owner.bodyTimeoutMs);
    this.#call?.onHead(status, headers);
  }

  onBody(chunk: Buffer): void {
    const call = this.#call;
    if (call !== null && !call.onBody(chunk)) {
      this.#pauseRequested = true;
      this.#viewsHeld = true;
    }
  }

  onComplete(keepAlive: boolean): void {
    const call = this.#call;
    this.#call = null;
    this.#completed = true;
    this.#deadlineKind = NO_DEADLINE;
    if (!keepAlive) this.#reusable = false;
    if (call === null) return;
    if (call.body !== null && !call.body.sent) {
      // The origin answered before taking the whole body (an early error): the rest cannot follow on this
      // connection, and the producer must not wait for a drain that will not come.
      this.#reusable = false;
      call.body.discard();
    }
    // A paused call may still hold views of its buffer until it has written them out: the buffer stays its own.
    this.#pauseRequested = false;
    this.#lentBuffer = null;
    call.onComplete();
  }

  // ---- socket ----

  #onConnect(): void {
    this.#connected = true;
    const call = this.#call;
    if (call === null) {
      this.#deadlineKind = NO_DEADLINE;
      return;
    }
    this.#writeRequest(call);
  }

  #writeRequest(call: ConnectionCall): void {
    this.#deadlineKind = NO_DEADLINE;
    const socket = this.#socket;
    if (call.body === null) {
      socket.write(call.head, "latin1");
      this.#setDeadline(AWAITING_HEAD, this.#owner.headersTimeoutMs);
      return;
    }
    // The head and whatever body bytes are already queued leave in one write.
    socket.cork();
    socket.write(call.head, "latin1");
    call.body.attach(this);
    socket.uncork();
  }

  #onDrain(): void {
    if (this.#deadlineKind === SENDING) this.#deadlineKind = NO_DEADLINE;
    this.#call?.body?.flush();
  }

  #onRead(n: number, buf: Buffer): boolean {
    if (this.#readStopped || this.#backlog.length > 0) {
      // A TLS socket delivering the rest of a decrypted batch after reads were stopped: keep it for resume().
      this.#backlog.push(Buffer.from(buf.subarray(0, n)));
      return false;
    }
    this.#viewsHeld = false;
    const more = this.#ingest(buf, n);
    if (this.#viewsHeld) {
      // The call keeps views of `buf` past this read (paused, or completed while paused): read into another.
      this.#viewsHeld = false;
      if (this.#readBuffer === buf) {
        this.#readBuffer = this.#spareBuffer ?? Buffer.allocUnsafe(READ_BUFFER_BYTES);
        this.#spareBuffer = null;
      }
      if (this.#pauseRequested) this.#lentBuffer = buf;
    }
    return more;
  }

  /** Parses `n` bytes of `buf`; false when the socket should stop reading (paused, or closed). */
  #ingest(buf: Buffer, n: number): boolean {
    const call = this.#call;
    if (call === null) {
      // Bytes nobody asked for (after a complete response, or on an idle socket): the stream is out of step.
      this.#destroy();
      return false;
    }
    this.#responseBytes += n;
    if (this.#deadlineKind === READING_BODY) this.#deadline = Date.now() + this.#owner.bodyTimeoutMs;
    let parsed: number;
    this.#ingesting = true;
    try {
      parsed = this.#parser.execute(buf, 0, n);
    } catch (err) {
      this.#ingesting = false;
      this.#fail(err);
      return false;
    }
    this.#ingesting = false;
    if (this.#completed) {
      this.#completed = false;
      // Reused only when the read ended exactly with the response and the origin has not ended its side.
      if (parsed < n || this.#backlog.length > 0 || this.#endPending || !this.#reusable || this.#closed) {
        this.#destroy();
        return false;
      }
      this.#owner.released(this, this.#idleTimeoutMs);
      return true;
    }
    if (this.#pauseRequested && this.#call !== null) {
      this.#readStopped = true;
      // A paused response is not a stalled one; a response paused for ever is (a client that stopped reading).
      this.#setDeadline(PAUSED, this.#owner.pausedTimeoutMs);
      return false;
    }
    return !this.#closed;
  }

  #onEnd(): void {
    if (this.#backlog.length > 0) {
      this.#endPending = true; // the backlog's bytes come first
      return;
    }
    const call = this.#call;
    if (call === null) {
      this.#destroy();
      return;
    }
    try {
      this.#parser.finish();
    } catch (err) {
      this.#fail(err);
      return;
    }
    this.#destroy();
  }

  #fail(err: unknown): void {
    const call = this.#call;
    this.#call = null;
    this.#parser.abandon();
    const retryable =
      this.#requests > 1 &&
      this.#responseBytes === 0 &&
      STALE_CONNECTION_CODES.has((err as { code?: unknown }).code as string);
    this.#destroy();
    call?.onFailure(err, retryable);
  }

  #destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deadlineKind = NO_DEADLINE;
    this.#parser.abandon();
    this.#socket.destroy();
    const call = this.#call;
    this.#call = null;
    this.#owner.gone(this);
    // A socket that closed by itself under a request: fail it (#fail clears #call before destroying).
    const retryable = this.#requests > 1 && this.#responseBytes === 0;
    call?.onFailure(new UpstreamClosedError("OSP_SOCKET_CLOSED", "connection closed"), retryable);
  }

  #resumeReading(): void {
    if (!this.#readStopped) return;
    this.#readStopped = false;
    this.#socket.resume();
  }

  #setDeadline(kind: number, ms: number): void {
    this.#deadlineKind = kind;
    this.#deadline = Date.now() + ms;
  }
}

/** `Keep-Alive: timeout=N` from the origin, minus a second of margin; -1 when absent. */
function keepAliveHintMs(headers: ReadonlyArray<readonly [string, string]>): number {
  for (const [name, value] of headers) {
    if (name !== "keep-alive") continue;
    const match = /(?:^|[\s,])timeout=(\d+)/i.exec(value);
    if (match !== null) return Math.max(Number(match[1]) * 1000 - 1000, 500);
  }
  return -1;
}
