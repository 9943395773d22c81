import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import { closeServer, listenOnLoopback } from "./listen-on-loopback.js";

export interface FakeIamOptions {
  /** API keys that get a token; default `["osp-test-api-key"]`. */
  readonly validApiKeys?: readonly string[];
  /** `expires_in` of issued tokens; default 3600 (IBM: "valid for up to 60 minutes"). */
  readonly tokenLifetimeSeconds?: number;
  /** The fake's clock (epoch ms) for `expiration` and token validity; default `Date.now`. */
  readonly nowMs?: () => number;
}

export interface FakeIamStats {
  /** Every request that reached the server, whatever its fate. */
  requests: number;
  tokensIssued: number;
  /** 4xx answers to bad requests or keys (injected failures not included). */
  rejected: number;
  injectedFailures: number;
}

export interface FakeIamServer {
  /** The token endpoint: `http://127.0.0.1:<port>/identity/token`. */
  readonly url: string;
  readonly port: number;
  readonly stats: FakeIamStats;
  close(): Promise<void>;
  /** The next `count` (default 1) token requests answer `status` (429, 500, 503…), with `Retry-After` if given. */
  failNext(status: number, options?: { count?: number; retryAfterSeconds?: number }): void;
  setTokenLifetimeSeconds(seconds: number): void;
  /** True for a token this server issued that has not expired on its clock. */
  isValidToken(token: string): boolean;
}

const TOKEN_PATH = "/identity/token";

interface Answer {
  readonly status: number;
  readonly json: unknown;
  readonly retryAfterSeconds: number | null;
}
const GRANT_TYPE = "urn:ibm:params:oauth:grant-type:apikey";

/**
 * A real HTTP server on 127.0.0.1 answering `POST /identity/token` as IBM IAM documents it (IBM Cloud docs,
 * "Generating an IBM Cloud IAM token by using an API key"): form-encoded
 * `grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=…` in, JSON
 * `{access_token, refresh_token: "not_supported", token_type: "Bearer", expires_in, expiration, …}` out;
 * errors in IBM's `{errorCode, errorMessage, context}` shape. BXNIM0415E (unknown key) is IBM's documented
 * code; the other BXNIM codes here are stand-ins: clients must key on the status, not on them.
 */
export async function startFakeIamServer(options: FakeIamOptions = {}): Promise<FakeIamServer> {
  const validKeys = new Set(options.validApiKeys ?? ["osp-test-api-key"]);
  const now = options.nowMs ?? Date.now;
  let lifetimeSeconds = options.tokenLifetimeSeconds ?? 3600;
  const issued = new Map<string, number>(); // token → expiry (epoch ms)
  const failures: Array<{ status: number; retryAfterSeconds: number | null }> = [];
  const stats: FakeIamStats = { requests: 0, tokensIssued: 0, rejected: 0, injectedFailures: 0 };

  /** IBM's error body: `{errorCode, errorMessage, context}`. */
  function errorAnswer(status: number, errorCode: string, errorMessage: string): Answer {
    const context = {
      requestId: randomUUID(),
      requestType: "incoming.OIDC_Token",
      url: "http://127.0.0.1",
      locale: "en_US",
    };
    return { status, json: { errorCode, errorMessage, context }, retryAfterSeconds: null };
  }

  function refuse(status: number, errorCode: string, errorMessage: string): Answer {
    stats.rejected += 1;
    return errorAnswer(status, errorCode, errorMessage);
  }

  function answer(req: IncomingMessage, body: Buffer): Answer {
    stats.requests += 1;
    const path = (req.url ?? "").split("?")[0];
    if (path !== TOKEN_PATH) return refuse(404, "BXNIM0404E", "Not found");
    if (req.method !== "POST") return refuse(405, "BXNIM0405E", "Method not allowed");
    const injected = failures.shift();
    if (injected !== undefined) {
      stats.injectedFailures += 1;
      return { ...errorAnswer(injected.status, "BXNIM9999E", "Injected failure"), ...injected };
    }
    const contentType = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (contentType !== "application/x-www-form-urlencoded") {
      return refuse(400, "BXNIM0109E", "Property missing or empty. Content-Type must be form-urlencoded");
    }
    const form = new URLSearchParams(body.toString("utf8"));
    const grantType = form.get("grant_type");
    const apiKey = form.get("apikey");
    if (grantType === null || grantType === "") return refuse(400, "BXNIM0109E", "Property missing or empty");
    if (grantType !== GRANT_TYPE) return refuse(400, "BXNIM0103E", "Unsupported grant type");
    if (apiKey === null || apiKey === "") return refuse(400, "BXNIM0109E", "Property missing or empty");
    if (!validKeys.has(apiKey)) return refuse(400, "BXNIM0415E", "Provided API key could not be found");

    const issuedAtSeconds = Math.floor(now() / 1000);
    const expiration = issuedAtSeconds + lifetimeSeconds;
    const token = fakeJwt(issuedAtSeconds, expiration);
    issued.set(token, expiration * 1000);
    stats.tokensIssued += 1;
    const json = {
      access_token: token,
      refresh_token: "not_supported",
      ims_user_id: 1234567,
      token_type: "Bearer",
      expires_in: lifetimeSeconds,
      expiration,
      scope: "ibm openid",
    };
    return { status: 200, json, retryAfterSeconds: null };
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const { status, json, retryAfterSeconds } = answer(req, Buffer.concat(chunks));
      const payload = Buffer.from(JSON.stringify(json));
      res.setHeader("content-type", "application/json");
      res.setHeader("content-length", payload.length);
      if (retryAfterSeconds !== null) res.setHeader("retry-after", String(retryAfterSeconds));
      res.writeHead(status);
      res.end(payload);
    });
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}${TOKEN_PATH}`,
    port,
    stats,
    close: () => closeServer(server),
    failNext(status, failOptions = {}) {
      for (let i = 0; i < (failOptions.count ?? 1); i += 1) {
        failures.push({ status, retryAfterSeconds: failOptions.retryAfterSeconds ?? null });
      }
    },
    setTokenLifetimeSeconds(seconds) {
      lifetimeSeconds = seconds;
    },
    isValidToken(token) {
      const expiresAtMs = issued.get(token);
      return expiresAtMs !== undefined && now() < expiresAtMs;
    },
  };
}

/** JWT-shaped like IBM's tokens (header.payload.signature, base64url); the signature is random bytes. */
function fakeJwt(iat: number, exp: number): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const header = encode({ kid: "fake", alg: "RS256" });
  const payload = encode({
    iam_id: "iam-ServiceId-fake",
    sub: "ServiceId-fake",
    iat,
    exp,
    jti: randomUUID(),
  });
  return `${header}.${payload}.${randomBytes(32).toString("base64url")}`;
}
