/**
 * A raw TCP HTTP/1.1 client for the tests: it sends exactly the bytes it is given and parses exactly what comes
 * back, so the tests see what uWS really puts on the wire (node:http would normalise both).
 */
import net from "node:net";
import { type HttpHandler, type HttpServer, type HttpServerOptions, startHttpServer } from "../src/index.js";

export interface RawResponse {
  readonly status: number;
  /** The head as received, for exact assertions. */
  readonly head: string;
  /** Lower-cased names, in order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

export class RawConnection {
  readonly socket: net.Socket;
  /** Received and not yet taken; concatenated only when looked into, so large bodies cost O(n). */
  #parts: Buffer[];
  #partsLength: number;
  #ended: boolean;
  #error: Error | null;
  #wake: (() => void) | null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.#parts = [];
    this.#partsLength = 0;
    this.#ended = false;
    this.#error = null;
    this.#wake = null;
    socket.on("data", (data: Buffer) => {
      this.#parts.push(data);
      this.#partsLength += data.length;
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (err) => {
      this.#error = err;
      this.#ended = true;
      this.#notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
  }

  static open(port: number, host = "127.0.0.1"): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host, () => resolve(new RawConnection(socket)));
      socket.once("error", reject);
    });
  }

  write(data: string | Uint8Array): void {
    this.socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }

  /** Reads one response; `noBody` for HEAD and interim responses. */
  async readResponse(noBody = false): Promise<RawResponse> {
    const headEnd = await this.#waitFor(() => this.#buffered().indexOf("\r\n\r\n"));
    const head = this.#take(headEnd + 4).toString("latin1");
    const lines = head.slice(0, -4).split("\r\n");
    const status = Number(lines[0]!.split(" ")[1]);
    const headers = lines.slice(1).map((line): [string, string] => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    });
    const find = (name: string) => headers.find(([k]) => k === name)?.[1];
    if (noBody || status < 200 || status === 204 || status === 304) {
      return { status, head, headers, body: Buffer.alloc(0) };
    }
    const length = find("content-length");
    if (length !== undefined) {
      const n = Number(length);
      await this.#waitFor(() => (this.#partsLength >= n ? n : -1));
      return { status, head, headers, body: this.#take(n) };
    }
    if (find("transfer-encoding") === "chunked")
      return { status, head, headers, body: await this.#readChunked() };
    throw new Error(`response without a length: ${head}`);
  }

  /** Everything until the server closes the connection. */
  async readUntilClose(): Promise<{ data: Buffer; error: Error | null }> {
    await this.#waitFor(() => (this.#ended ? 0 : -1), true);
    return { data: this.#take(this.#partsLength), error: this.#error };
  }

  /** What has arrived so far, without waiting. */
  snapshot(): { bytes: number; ended: boolean } {
    return { bytes: this.#partsLength, ended: this.#ended };
  }

  close(): void {
    this.socket.destroy();
  }

  async #readChunked(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = await this.#waitFor(() => this.#buffered().indexOf("\r\n"));
      const size = Number.parseInt(this.#take(lineEnd + 2).toString("latin1"), 16);
      await this.#waitFor(() => (this.#partsLength >= size + 2 ? 0 : -1));
      parts.push(this.#take(size));
      assertCrlf(this.#take(2));
      if (size === 0) return Buffer.concat(parts);
    }
  }

  #buffered(): Buffer {
    if (this.#parts.length > 1) this.#parts = [Buffer.concat(this.#parts)];
    return this.#parts[0] ?? Buffer.alloc(0);
  }

  #take(n: number): Buffer {
    const all = this.#buffered();
    this.#parts = all.length > n ? [all.subarray(n)] : [];
    this.#partsLength -= n;
    return all.subarray(0, n);
  }

  /** Resolves with `probe()` once it is not -1; rejects if the connection ends first (unless `untilEnd`). */
  async #waitFor(probe: () => number, untilEnd = false): Promise<number> {
    for (;;) {
      const found = probe();
      if (found !== -1) return found;
      if (this.#ended && !untilEnd) {
        throw new Error(
          `connection ended (${this.#error?.message ?? "closed"}) with ${this.#partsLength} bytes unread`,
        );
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

function assertCrlf(bytes: Buffer): void {
  if (bytes.toString("latin1") !== "\r\n")
    throw new Error(`expected CRLF after a chunk, got ${JSON.stringify(bytes)}`);
}

/** A server on 127.0.0.1 and a free port. */
export function startTestServer(
  handler: HttpHandler,
  options: Partial<HttpServerOptions> = {},
): Promise<HttpServer> {
  return startHttpServer({ host: "127.0.0.1", port: 0, ...options }, handler);
}

/** A request head with a Host header, the way the tests write them. */
export function requestHead(method: string, target: string, headers: ReadonlyArray<string> = []): string {
  return `${method} ${target} HTTP/1.1\r\nHost: localhost\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n`;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
