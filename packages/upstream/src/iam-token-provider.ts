import { S3Error } from "@osp/errors";
import { parseIamErrorResponse, parseIamTokenResponse } from "./parse-iam-token-response.js";
import { type BufferedResponse, sendUpstreamBuffered } from "./send-upstream-buffered.js";
import { type IamTokenEvent, iamTokenChannel } from "./upstream-channels.js";
import type { UpstreamPools } from "./upstream-pools.js";

/** An IAM access token and when it stops being usable (already `expirySkewMs` early). */
export interface IamToken {
  readonly accessToken: string;
  readonly expiresAtMs: number;
}

export interface IamTokenProviderOptions {
  /** Token endpoint, e.g. `https://iam.cloud.ibm.com/identity/token`. Plain http only to a loopback host. */
  readonly iamUrl: string;
  readonly apiKey: string;
  /** Requests go through the shared pools (keep-alive to IAM, same timeouts and TLS rules as every origin). */
  readonly pools: UpstreamPools;
  /** Clock (epoch ms); tests pass a fake one. */
  readonly nowMs?: () => number;
  /** Refresh once this fraction of a token's life has passed (IBM SDK core: 0.8). */
  readonly refreshFraction?: number;
  /** Treat tokens as expired this much early, so none dies mid-request (IBM SDK core: 10 s). */
  readonly expirySkewMs?: number;
  /** First wait after a failed fetch; doubles per consecutive failure up to `backoffMaxMs`. */
  readonly backoffInitialMs?: number;
  /** Longest wait between fetches after failures (IBM SDK core waits 60 s); also caps `Retry-After`. */
  readonly backoffMaxMs?: number;
  /** Deadline of one token request, whatever the pool's timeouts: callers wait on it (default 15 s). */
  readonly requestTimeoutMs?: number;
}

interface CachedToken extends IamToken {
  readonly refreshAtMs: number;
}

type FetchResult =
  | { readonly ok: true; readonly token: CachedToken }
  | { readonly ok: false; readonly error: S3Error; readonly retryAfterMs: number };

/**
 * The grant type, already form-encoded (IBM Cloud docs, "Generating an IBM Cloud IAM token by using an API
 * key").
 */
const GRANT = "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=";
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["127.0.0.1", "[::1]", "localhost"]);
/** IAM's answers to a key it does not accept: unknown (400 BXNIM0415E), or not allowed to get a token. */
const KEY_REFUSED_STATUSES: ReadonlySet<number> = new Set([400, 401, 403]);

/**
 * IBM IAM access tokens for one (iamUrl, apiKey), cached in process, mirroring IBM's SDK core: refresh in the
 * background after 80 % of the life while the current token keeps serving; expired 10 s early; one fetch in
 * flight at a time; after a failure no new fetch before the backoff ends (callers without a valid token get the
 * last error at once, so an IAM outage is not turned into a request storm). Errors are `S3Error`
 * ServiceUnavailable, source upstream, but for a key IAM refuses (400/401/403): that is InternalError, since no
 * retry helps until the configuration is fixed, and no fetch is tried again before `backoffMaxMs`; its event
 * says `apiKeyRefused` (the server logs it). The API key lives in private fields only: no error, event, message or
 * `util.inspect` output contains it.
 */
export class IamTokenProvider {
  /** The token endpoint; safe to log. */
  readonly iamUrl: string;
  readonly #form: Buffer;
  readonly #pools: UpstreamPools;
  readonly #origin: string;
  readonly #path: string;
  readonly #headers: ReadonlyArray<readonly [string, string]>;
  readonly #now: () => number;
  readonly #refreshFraction: number;
  readonly #skewMs: number;
  readonly #backoffInitialMs: number;
  readonly #backoffMaxMs: number;
  readonly #requestTimeoutMs: number;
  #current: CachedToken | null = null;
  #inflight: Promise<CachedToken> | null = null;
  #failures = 0;
  #retryAtMs = 0;
  #lastError: S3Error | null = null;

  /** Throws `TypeError` for a bad option (the message never contains the key). */
  constructor(options: IamTokenProviderOptions) {
    const url = parseIamUrl(options.iamUrl);
    if (typeof options.apiKey !== "string" || !/^[\x21-\x7e]+$/.test(options.apiKey)) {
      throw new TypeError("apiKey must be a non-empty string of visible ASCII characters");
    }
    this.iamUrl = url.origin + url.pathname;
    this.#form = Buffer.from(GRANT + encodeURIComponent(options.apiKey), "latin1");
    this.#pools = options.pools;
    this.#origin = url.origin;
    this.#path = url.pathname + url.search;
    this.#headers = [
      ["host", url.host],
      ["content-type", "application/x-www-form-urlencoded"],
      ["accept", "application/json"],
    ];
    this.#now = options.nowMs ?? Date.now;
    this.#refreshFraction = checkRange("refreshFraction", options.refreshFraction ?? 0.8, 0.05, 1);
    this.#skewMs = checkRange("expirySkewMs", options.expirySkewMs ?? 10_000, 0, 600_000);
    this.#backoffInitialMs = checkRange("backoffInitialMs", options.backoffInitialMs ?? 1_000, 1, 3_600_000);
    this.#backoffMaxMs = checkRange(
      "backoffMaxMs",
      options.backoffMaxMs ?? 60_000,
      this.#backoffInitialMs,
      3_600_000,
    );
    this.#requestTimeoutMs = checkRange("requestTimeoutMs", options.requestTimeoutMs ?? 15_000, 1, 600_000);
  }

  /** A valid access token: the cached one, or the result of the one fetch in flight. Rejects with S3Error. */
  getToken(): Promise<string> {
    const token = this.tryGetToken();
    return token !== null ? Promise.resolve(token) : this.#fetchWhenAllowed();
  }

  /**
   * The cached token if it is still valid, else `null` (then call `getToken()`); synchronous, for the hot path.
   * Starts the background refresh when the token is past its refresh point.
   */
  tryGetToken(): string | null {
    const current = this.#current;
    if (current === null) return null;
    const now = this.#now();
    if (now >= current.expiresAtMs) return null;
    if (now >= current.refreshAtMs && this.#inflight === null && now >= this.#retryAtMs) {
      // A failure is recorded here (backoff, last error) and published on osp:upstream:iam-token, whose
      // subscriber in @osp/server (log-channels.ts) logs it; the current token keeps serving meanwhile.
      this.#startFetch(now, true).catch(ignore);
    }
    return current.accessToken;
  }

  /** The cached token, valid or not, without fetching (for a shared cache layer); `null` when none. */
  peek(): IamToken | null {
    const current = this.#current;
    return current === null ? null : { accessToken: current.accessToken, expiresAtMs: current.expiresAtMs };
  }

  /**
   * Fetches a new token now (joining a fetch already in flight), for a shared cache that does its own
   * caching; still one fetch at a time, and no fetch before a failure's backoff ends (rejects with the last
   * error meanwhile). `refreshAtMs` is when the caller should start the next one.
   */
  async fetchToken(): Promise<IamToken & { readonly refreshAtMs: number }> {
    const token = this.#inflight !== null ? await this.#inflight : null;
    if (token !== null) return token;
    const now = this.#now();
    if (now < this.#retryAtMs && this.#lastError !== null) throw this.#lastError;
    return this.#startFetch(now, false);
  }

  /** COS answered 401/403 to `token`: forget it, unless a newer token has replaced it already. */
  invalidate(token: string): void {
    if (this.#current !== null && this.#current.accessToken === token) this.#current = null;
  }

  async #fetchWhenAllowed(): Promise<string> {
    if (this.#inflight !== null) return (await this.#inflight).accessToken;
    const now = this.#now();
    if (now < this.#retryAtMs && this.#lastError !== null) throw this.#lastError;
    return (await this.#startFetch(now, false)).accessToken;
  }

  #startFetch(now: number, background: boolean): Promise<CachedToken> {
    const inflight = this.#requestToken(now, background).then((result) => {
      this.#inflight = null;
      if (result.ok) {
        this.#current = result.token;
        this.#failures = 0;
        this.#retryAtMs = 0;
        this.#lastError = null;
        return result.token;
      }
      this.#failures += 1;
      const backoffMs = Math.min(this.#backoffMaxMs, this.#backoffInitialMs * 2 ** (this.#failures - 1));
      this.#retryAtMs = this.#now() + Math.min(this.#backoffMaxMs, Math.max(backoffMs, result.retryAfterMs));
      this.#lastError = result.error;
      throw result.error;
    });
    this.#inflight = inflight;
    return inflight;
  }

  async #requestToken(startedAtMs: number, background: boolean): Promise<FetchResult> {
    const t0 = performance.now();
    let response: BufferedResponse;
    try {
      response = await sendUpstreamBuffered(
        this.#pools,
        { origin: this.#origin, method: "POST", path: this.#path, headers: this.#headers, body: this.#form },
        { maxResponseBytes: 64 * 1024, timeoutMs: this.#requestTimeoutMs },
      );
    } catch (cause) {
      this.#publish(t0, background, "error", 0, null, false);
      return { ok: false, error: iamError("IBM IAM could not be reached.", cause), retryAfterMs: 0 };
    }
    const { status, body } = response;
    if (status === 200) {
      const parsed = parseIamTokenResponse(body, this.#now());
      this.#publish(t0, background, parsed === null ? "error" : "ok", status, null, false);
      if (parsed === null) {
        return {
          ok: false,
          error: iamError("IBM IAM answered with an unexpected token response."),
          retryAfterMs: 0,
        };
      }
      // Times count from when the request was sent: the token cannot be younger than that.
      const token: CachedToken = {
        accessToken: parsed.accessToken,
        expiresAtMs: startedAtMs + parsed.lifetimeMs - this.#skewMs,
        refreshAtMs: startedAtMs + parsed.lifetimeMs * this.#refreshFraction,
      };
      return { ok: true, token };
    }
    const { errorCode, requestId } = parseIamErrorResponse(body);
    const keyRefused = KEY_REFUSED_STATUSES.has(status);
    this.#publish(t0, background, "error", status, errorCode, keyRefused);
    const detail = [`HTTP ${status}`, errorCode, requestId === null ? null : `request id ${requestId}`]
      .filter((part) => part !== null)
      .join(", ");
    if (keyRefused) {
      // A wrong, disabled or deleted key (IAM answers 400 BXNIM0415E for an unknown one): only a config change
      // helps, so clients get osp's own failure rather than a 503 inviting them to retry, and IAM is asked again
      // only after the longest backoff.
      const error = new S3Error(
        "InternalError",
        `IBM IAM refused the API key of this endpoint (${detail}); the gateway's configuration must be fixed.`,
        { source: "upstream" },
      );
      return { ok: false, error, retryAfterMs: this.#backoffMaxMs };
    }
    const what =
      status === 429
        ? "IBM IAM is rate-limiting token requests"
        : status >= 500
          ? "IBM IAM failed to issue a token"
          : "IBM IAM did not issue a token";
    return { ok: false, error: iamError(`${what} (${detail}).`), retryAfterMs: retryAfterMs(response) };
  }

  #publish(
    t0: number,
    background: boolean,
    outcome: IamTokenEvent["outcome"],
    status: number,
    iamErrorCode: string | null,
    apiKeyRefused: boolean,
  ): void {
    if (!iamTokenChannel.hasSubscribers) return;
    const event: IamTokenEvent = {
      iamUrl: this.iamUrl,
      outcome,
      status,
      durationMs: performance.now() - t0,
      background,
      iamErrorCode,
      apiKeyRefused,
    };
    iamTokenChannel.publish(event);
  }
}

function iamError(message: string, cause?: unknown): S3Error {
  return new S3Error(
    "ServiceUnavailable",
    message,
    cause === undefined ? { source: "upstream" } : { source: "upstream", cause },
  );
}

/** `Retry-After` in seconds (IAM sends no dates); 0 when absent or unusable. */
function retryAfterMs(response: BufferedResponse): number {
  for (const [name, value] of response.headers) {
    if (name === "retry-after" && /^\d{1,6}$/.test(value.trim())) return Number(value.trim()) * 1000;
  }
  return 0;
}

function parseIamUrl(iamUrl: string): URL {
  let url: URL;
  try {
    url = new URL(iamUrl);
  } catch {
    throw new TypeError("iamUrl must be an absolute URL");
  }
  if (url.username !== "" || url.password !== "" || url.hash !== "") {
    throw new TypeError("iamUrl must not carry credentials or a fragment");
  }
  // The API key travels in the body: only TLS, or a loopback address (tests, a local sidecar).
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new TypeError("iamUrl must be https (plain http is allowed for loopback hosts only)");
  }
  return url;
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new TypeError(`${name} must be a number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function ignore(): void {}
