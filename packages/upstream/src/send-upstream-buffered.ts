import { S3Error } from "@osp/errors";
import { sendUpstream } from "./send-upstream.js";
import { createUpstreamBody } from "./upstream-body.js";
import type { UpstreamPools } from "./upstream-pools.js";

/** A whole small response, for control-plane calls (IAM tokens, webhooks), never for object data. */
export interface BufferedResponse {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
}

export interface BufferedRequest {
  readonly origin: string;
  readonly method: string;
  /** Raw request target, as for `UpstreamRequest.path`. */
  readonly path: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer | null;
}

/**
 * Sends `req` and collects the response body, up to `maxResponseBytes` (default 1 MiB; more fails the call with
 * InternalError so a misbehaving server cannot fill memory) and within `timeoutMs` overall (default: none beyond
 * the pool's timeouts; past it the call is aborted with ServiceUnavailable). Rejects with the same `S3Error`s as
 * `sendUpstream`.
 */
export function sendUpstreamBuffered(
  pools: UpstreamPools,
  req: BufferedRequest,
  options: { maxResponseBytes?: number; timeoutMs?: number } = {},
): Promise<BufferedResponse> {
  const maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
  return new Promise((resolve, reject) => {
    let body = null;
    if (req.body !== null) {
      body = createUpstreamBody(req.body.length);
      body.write(req.body);
      body.end();
    }
    let status = 0;
    let headers: ReadonlyArray<readonly [string, string]> = [];
    const chunks: Buffer[] = [];
    let received = 0;
    let timer: NodeJS.Timeout | null = null;
    const fail = (err: S3Error) => {
      if (timer !== null) clearTimeout(timer);
      reject(err);
    };
    const call = sendUpstream(
      pools,
      { origin: req.origin, method: req.method, path: req.path, headers: req.headers, body },
      {
        onHeaders(s, h) {
          status = s;
          headers = h;
        },
        onData(chunk) {
          received += chunk.length;
          if (received > maxResponseBytes) {
            call.abort();
            fail(
              new S3Error("InternalError", "The upstream response was larger than expected.", {
                source: "upstream",
              }),
            );
            return false;
          }
          chunks.push(Buffer.from(chunk)); // a view of the connection's read buffer: copied to keep
          return true;
        },
        onComplete() {
          if (timer !== null) clearTimeout(timer);
          resolve({ status, headers, body: Buffer.concat(chunks, received) });
        },
        onError: fail,
      },
    );
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        call.abort();
        fail(
          new S3Error("ServiceUnavailable", "The upstream did not answer in time.", { source: "upstream" }),
        );
      }, options.timeoutMs);
    }
  });
}
