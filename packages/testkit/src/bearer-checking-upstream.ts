import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { closeServer, listenOnLoopback } from "./listen-on-loopback.js";

export interface BearerUpstreamStats {
  requests: number;
  /** Requests whose bearer token was accepted. */
  accepted: number;
  /** Requests answered 403 AccessDenied for a missing, unknown or expired token. */
  denied: number;
}

export interface StoredObject {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

export interface BearerCheckingUpstream {
  /** `http://127.0.0.1:<port>`: an origin for `sendUpstream`. */
  readonly url: string;
  readonly port: number;
  readonly stats: BearerUpstreamStats;
  /** Objects by raw request path (`/bucket/key`, query dropped). */
  readonly objects: ReadonlyMap<string, StoredObject>;
  close(): Promise<void>;
}

/**
 * A tiny IBM-COS-like store on 127.0.0.1: every request needs `Authorization: Bearer <token>` with a token
 * `tokens.isValidToken()` accepts (a fake IAM's), else 403 AccessDenied in S3's XML. PUT stores the body in
 * memory (ETag = MD5), GET and HEAD serve it (404 NoSuchKey), DELETE removes it (204); `GET /` lists
 * `buckets` (ListBuckets, created at the Unix epoch plus one day).
 */
export async function startBearerCheckingUpstream(
  tokens: { isValidToken(token: string): boolean },
  buckets: readonly string[] = [],
): Promise<BearerCheckingUpstream> {
  const stats: BearerUpstreamStats = { requests: 0, accepted: 0, denied: 0 };
  const objects = new Map<string, StoredObject>();

  function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    stats.requests += 1;
    const path = (req.url ?? "/").split("?")[0]!;
    const match = /^bearer +(\S+)$/i.exec(req.headers.authorization ?? "");
    if (match === null || !tokens.isValidToken(match[1]!)) {
      stats.denied += 1;
      sendS3Error(req, res, 403, "AccessDenied", "Access Denied", path);
      return;
    }
    stats.accepted += 1;
    if (req.method === "GET" && path === "/") {
      const listed = buckets
        .map(
          (name) => `<Bucket><Name>${escapeXml(name)}</Name><CreationDate>${CREATED}</CreationDate></Bucket>`,
        )
        .join("");
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult><Owner><ID>cos</ID></Owner><Buckets>${listed}</Buckets></ListAllMyBucketsResult>`;
      res.writeHead(200, { "content-type": "application/xml", "content-length": Buffer.byteLength(xml) });
      res.end(xml);
      return;
    }
    const stored = objects.get(path);
    if (req.method === "PUT") {
      const etag = `"${createHash("md5").update(body).digest("hex")}"`;
      const contentType = req.headers["content-type"] ?? "application/octet-stream";
      objects.set(path, { body, contentType, etag });
      res.writeHead(200, { etag, "content-length": 0 });
      res.end();
    } else if (req.method === "GET" || req.method === "HEAD") {
      if (stored === undefined) {
        sendS3Error(req, res, 404, "NoSuchKey", "The specified key does not exist.", path);
        return;
      }
      res.writeHead(200, {
        etag: stored.etag,
        "content-type": stored.contentType,
        "content-length": stored.body.length,
      });
      res.end(req.method === "GET" ? stored.body : undefined);
    } else if (req.method === "DELETE") {
      objects.delete(path);
      res.writeHead(204);
      res.end();
    } else {
      sendS3Error(
        req,
        res,
        405,
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
        path,
      );
    }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => handle(req, res, Buffer.concat(chunks)));
  });
  const port = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${port}`, port, stats, objects, close: () => closeServer(server) };
}

const CREATED = "1970-01-02T00:00:00.000Z";

function sendS3Error(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  resource: string,
): void {
  const requestId = randomUUID();
  // HEAD errors carry no body in S3: status and headers only.
  const body =
    req.method === "HEAD"
      ? Buffer.alloc(0)
      : Buffer.from(
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
            `<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`,
        );
  res.writeHead(status, {
    "content-type": "application/xml",
    "content-length": body.length,
    "x-amz-request-id": requestId,
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
