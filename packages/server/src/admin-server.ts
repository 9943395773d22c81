/**
 * The admin listener of the primary (node:http: a few requests a minute, so no need for uWS): `/metrics`
 * for Prometheus, `/healthz` and `/readyz` for the load balancer, `/workers` for people. Bound to
 * 127.0.0.1 by default; with `admin.token` every request needs `Authorization: Bearer <token>`.
 */

import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { errorMessage } from "@osp/errors";
import type { Logger } from "@osp/log";

export interface AdminHandlers {
  /** Prometheus text of the whole cluster. */
  metrics(): Promise<{ contentType: string; text: string }>;
  /** Whether the cluster takes traffic, and why (the JSON body of /readyz). */
  readiness(): { ready: boolean; body: unknown };
  /** Per-worker details (JSON body of /workers). */
  workers(): Promise<unknown>;
}

export interface AdminServer {
  readonly port: number;
  /** Applies a reloaded `admin.token` (`null`: no token needed). */
  setToken(token: string | null): void;
  close(): Promise<void>;
}

export async function startAdminServer(
  options: { host: string; port: number; token: string | null },
  handlers: AdminHandlers,
  log: Logger,
): Promise<AdminServer> {
  let expected = digest(options.token);
  const server = createServer((req, res) => {
    void answer(req, res).catch((err: unknown) => {
      log.error({ err: errorMessage(err), path: pathOf(req) }, "admin request failed");
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error\n");
      else res.destroy();
    });
  });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (expected !== null && !authorized(req.headers.authorization, expected)) {
      res.setHeader("www-authenticate", 'Bearer realm="osp-admin"');
      send(res, 401, "text/plain; charset=utf-8", "unauthorized\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
      return;
    }
    switch (pathOf(req)) {
      case "/metrics": {
        const { contentType, text } = await handlers.metrics();
        send(res, 200, contentType, text);
        return;
      }
      case "/healthz":
        send(res, 200, "text/plain; charset=utf-8", "ok\n");
        return;
      case "/readyz": {
        const { ready, body } = handlers.readiness();
        sendJson(res, ready ? 200 : 503, body);
        return;
      }
      case "/workers":
        sendJson(res, 200, await handlers.workers());
        return;
      default:
        send(res, 404, "text/plain; charset=utf-8", "not found: /metrics /healthz /readyz /workers\n");
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : options.port,
    setToken(token) {
      expected = digest(token);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Comparing digests takes the same time whatever the token's length and wherever it differs. */
function digest(token: string | null): Buffer | null {
  return token === null ? null : createHash("sha256").update(token).digest();
}

function authorized(header: string | undefined, expected: Buffer): boolean {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  const given = createHash("sha256")
    .update(match?.[1] ?? "")
    .digest();
  return timingSafeEqual(given, expected) && match !== null;
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? "/").split("?")[0]!;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, "application/json", `${JSON.stringify(body)}\n`);
}
