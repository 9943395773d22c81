import { accessSync, constants } from "node:fs";
import { checkRequestFraming, requestHasBody } from "./check-request-framing.js";
import { httpRejectedChannel } from "./http-channels.js";
import { HttpExchange, type ServerState } from "./http-exchange.js";
import { loadNativeUws } from "./load-native-uws.js";
import { headFacts, type IncomingRequest, readRequestHead } from "./read-request-head.js";
import type { RequestBody } from "./request-body.js";
import type { ResponseWriter } from "./response-writer.js";
import type { UwsApp, UwsListenSocket, UwsModule, UwsRequest, UwsResponse } from "./uws-types.js";

export interface HttpServerOptions {
  /** Address to bind (`127.0.0.1`, `0.0.0.0`, `::`). */
  readonly host: string;
  /** 0 picks a free port; `HttpServer.port` tells which. Bound with SO_REUSEPORT, so workers share it. */
  readonly port: number;
  /** PEM files; the key may be encrypted with `passphrase`. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly passphrase?: string };
  /**
   * Requests whose head (request line + headers) is larger are answered 431. This can only lower uWS's own
   * limit: this build closes the connection, without an answer, on any head over 4 KiB that reaches it in
   * more than one read, and on more than 48 header fields (README). Default: no check of our own.
   */
  readonly maxHeaderBytes?: number;
}

export type HttpHandler = (req: IncomingRequest, body: RequestBody, res: ResponseWriter) => void;

export interface HttpServer {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /**
   * Stops accepting connections; open connections and in-flight requests go on. From now on answers ask their
   * client to close, and their connection serves no other request; chunked answers are not marked, and 204s
   * and bodiless answers without a length only ask (README "Draining"). Idempotent.
   */
  close(): void;
  /** Stops accepting and closes every connection at once; in-flight responses see `onAborted`. */
  closeAll(): void;
}

/**
 * Listens with uWebSockets.js and hands every request to `handler`, synchronously inside the uWS callback:
 * the handler must attach what it needs (`body.onData`, `res.onAborted`) before its first `await`. Rejects
 * when uWS is its JS fallback, when the TLS files cannot be used, or when the address cannot be bound.
 */
export async function startHttpServer(options: HttpServerOptions, handler: HttpHandler): Promise<HttpServer> {
  checkOptions(options);
  const uws = loadNativeUws();
  // Hide uWS's own "uWebSockets: 20" response header (the key is matched by its character sum in uWS).
  uws._cfg("silent");
  const app = createApp(uws, options.tls);
  const state: ServerState = { draining: false };
  const maxHeaderBytes = options.maxHeaderBytes ?? Number.POSITIVE_INFINITY;
  app.any("/*", (res: UwsResponse, req: UwsRequest) => {
    const exchange = new HttpExchange(res, state);
    const request = readRequestHead(res, req);
    const rejection = checkRequestFraming(request, headFacts, maxHeaderBytes);
    if (rejection !== null) {
      if (httpRejectedChannel.hasSubscribers) {
        httpRejectedChannel.publish({
          ...rejection,
          method: request.method,
          remoteAddress: request.remoteAddress,
        });
      }
      exchange.reject(rejection.status);
      return;
    }
    exchange.accept(request.method === "HEAD", requestHasBody(headFacts));
    try {
      handler(request, exchange, exchange);
    } catch (err) {
      exchange.callbackFailed(err, "handler");
    }
  });
  const listenSocket = await listen(app, options.host, options.port);
  return new UwsHttpServer(uws, app, listenSocket, state);
}

class UwsHttpServer implements HttpServer {
  readonly port: number;
  readonly #uws: UwsModule;
  readonly #app: UwsApp;
  readonly #state: ServerState;
  #listenSocket: UwsListenSocket | null;

  constructor(uws: UwsModule, app: UwsApp, listenSocket: UwsListenSocket, state: ServerState) {
    this.#uws = uws;
    this.#app = app;
    this.#state = state;
    this.#listenSocket = listenSocket;
    this.port = uws.us_socket_local_port(listenSocket);
  }

  close(): void {
    this.#state.draining = true;
    if (this.#listenSocket === null) return;
    this.#uws.us_listen_socket_close(this.#listenSocket);
    this.#listenSocket = null;
  }

  closeAll(): void {
    this.close();
    this.#app.close();
  }
}

function checkOptions(options: HttpServerOptions): void {
  if (typeof options.host !== "string" || options.host === "")
    throw new TypeError("host must be a non-empty string");
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${options.port}`);
  }
  const max = options.maxHeaderBytes;
  if (max !== undefined && !(Number.isInteger(max) && max > 0)) {
    throw new RangeError(`maxHeaderBytes must be a positive integer, got ${max}`);
  }
}

function createApp(uws: UwsModule, tls: HttpServerOptions["tls"]): UwsApp {
  if (tls === undefined) return uws.App();
  // uWS only says "App construction failed": name the file that cannot be read first.
  for (const file of [tls.certFile, tls.keyFile]) {
    try {
      accessSync(file, constants.R_OK);
    } catch (err) {
      throw new Error(
        `TLS file ${file} cannot be read: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
        },
      );
    }
  }
  try {
    return uws.SSLApp({
      cert_file_name: tls.certFile,
      key_file_name: tls.keyFile,
      ...(tls.passphrase === undefined ? {} : { passphrase: tls.passphrase }),
    });
  } catch (err) {
    throw new Error(
      `TLS setup failed for certificate ${tls.certFile} and key ${tls.keyFile}: not a PEM pair, or a wrong passphrase`,
      { cause: err },
    );
  }
}

function listen(app: UwsApp, host: string, port: number): Promise<UwsListenSocket> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (listenSocket) => {
      if (listenSocket === false) reject(new Error(`cannot listen on ${host}:${port}`));
      else resolve(listenSocket);
    });
  });
}
