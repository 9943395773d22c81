import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { closeServer, listenOnLoopback } from "./listen-on-loopback.js";

/** One request as the proxy received it. */
export interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * A pass-through HTTP proxy to `target` that hands each request's method, path and headers, as the gateway
 * sent them, to `recorded.push` (an array, or anything with a `push`) before forwarding it: stores such as the
 * bearer-checking one keep no headers themselves. `exact`: the Host header and a bodiless request's framing
 * go on as received (Node would make the latter chunked), which a store checking signatures (radosgw) or
 * refusing Transfer-Encoding (s3rver) needs.
 */
export async function startRecordingProxy(
  target: string,
  recorded: { push(request: Recorded): unknown },
  options: { exact?: boolean } = {},
): Promise<{ url: string; close(): Promise<void> }> {
  const to = new URL(target);
  const server = createServer((req, res) => {
    recorded.push({ method: req.method ?? "", url: req.url ?? "", headers: { ...req.headers } });
    const headers = { ...req.headers, host: options.exact === true ? req.headers.host : to.host };
    if (
      options.exact === true &&
      headers["content-length"] === undefined &&
      headers["transfer-encoding"] === undefined
    ) {
      headers["content-length"] = "0";
    }
    const upstream = httpRequest(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  const port = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}
