/**
 * ListBuckets: osp asks each endpoint that serves a configured bucket or glob for its
 * own listing (`GET /`, signed with the endpoint's credentials; once per IBM COS service instance named on
 * it), keeps each answer for `cache.listBucketsTtl`, maps the store's names back to client names
 * (bucket-patterns.ts) and merges them. A bucket the store does not have is not listed; one it has that no
 * key serves is not either. Dates and owner are the store's. An endpoint that fails is left out with a log
 * line and a metric (`osp_list_buckets_failures_total`); only when every endpoint fails is the listing an
 * error (503, clients retry), since an empty list would read as "no buckets".
 */
import { errorMessage, S3Error } from "@osp/errors";
import type { Logger } from "@osp/log";
import { type BucketOwner, type ListBucketsResult, type ListedBucket, parseListBuckets } from "@osp/s3";
import type { SigningKeyCache } from "@osp/sigv4";
import { sendUpstreamBuffered, type UpstreamPools } from "@osp/upstream";
import { type ListBucketsFailureEvent, listBucketsFailureChannel } from "../gateway-channels.js";
import { signUpstream } from "../upstream/sign-upstream.js";
import { clientBucketName } from "./bucket-patterns.js";
import type { Endpoint, Routes } from "./routes.js";

/** SHA-256 of an empty body: the listing request has none. */
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/** A listing of tens of thousands of buckets fits; a store sending more is refused (InternalError). */
const MAX_LISTING_BYTES = 16 * 1024 * 1024;
/** The longest one listing may take, beyond the pool's own connect and header timeouts. */
const LISTING_TIMEOUT_MS = 15_000;

/** Every bucket a caller could be shown, before authorization. */
export interface BucketListing {
  readonly buckets: readonly ListedBucket[];
  /** The first store's owner that gave one, null when none did. */
  readonly owner: BucketOwner | null;
}

interface Source {
  readonly endpoint: Endpoint;
  readonly instance: string | null;
}

interface CachedListing {
  readonly expiresAtMs: number;
  /** The store's answer, or null when asking it failed (also kept for the TTL, so a dead endpoint costs once). */
  readonly result: Promise<ListBucketsResult | null>;
}

export interface BucketListingsDeps {
  readonly routes: Routes;
  readonly pools: UpstreamPools;
  readonly signingKeys: SigningKeyCache;
  readonly log: Logger;
  readonly ttlMs: number;
}

/** The per-worker listing cache; one per gateway core. */
export class BucketListings {
  readonly #deps: BucketListingsDeps;
  /** Each (endpoint, instance) that serves a bucket key, in config order. */
  readonly #sources: readonly Source[];
  readonly #cache = new Map<Source, CachedListing>();

  constructor(deps: BucketListingsDeps) {
    this.#deps = deps;
    const sources: Source[] = [];
    const add = (endpoint: Endpoint, instance: string | null): void => {
      if (!sources.some((s) => s.endpoint === endpoint && s.instance === instance))
        sources.push({ endpoint, instance });
    };
    for (const route of deps.routes.byBucket.values()) add(route.endpoint, route.instance);
    for (const pattern of deps.routes.patterns) add(pattern.endpoint, pattern.instance);
    this.#sources = sources;
  }

  /** Every store's buckets under their client names, sorted by nothing in particular. */
  async list(): Promise<BucketListing> {
    const results = await Promise.all(this.#sources.map((source) => this.#listingOf(source)));
    const byName = new Map<string, ListedBucket>();
    let owner: BucketOwner | null = null;
    let answered = 0;
    for (let i = 0; i < results.length; i++) {
      const result = results[i];
      if (result === null || result === undefined) continue;
      answered++;
      owner ??= result.owner;
      const endpoint = this.#sources[i]!.endpoint;
      for (const bucket of result.buckets) {
        const name = clientBucketName(this.#deps.routes, endpoint, bucket.name);
        if (name !== null && !byName.has(name)) byName.set(name, { name, creationDate: bucket.creationDate });
      }
    }
    if (answered === 0 && this.#sources.length > 0) {
      throw new S3Error("ServiceUnavailable", "No endpoint answered the bucket listing.", {
        source: "upstream",
      });
    }
    return { buckets: [...byName.values()], owner };
  }

  #listingOf(source: Source): Promise<ListBucketsResult | null> {
    const now = Date.now();
    const cached = this.#cache.get(source);
    if (cached !== undefined && cached.expiresAtMs > now) return cached.result;
    const result = this.#fetch(source).catch((err: unknown) => {
      this.#failed(source, errorMessage(err));
      return null;
    });
    // Concurrent requests share the one in flight; a TTL of 0 keeps nothing.
    this.#cache.set(source, { expiresAtMs: now + Math.max(this.#deps.ttlMs, 1), result });
    return result;
  }

  /**
   * `GET /` on the endpoint, signed with its own credentials; rejects with what went wrong. An IAM token the
   * store refuses (revoked, clocks apart) is dropped as the pipeline drops it (iam-tokens.ts), and the
   * listing asked once more when that gives a different token.
   */
  async #fetch(source: Source): Promise<ListBucketsResult> {
    const { endpoint, instance } = source;
    const auth = endpoint.auth;
    let refused: { token: string; status: number } | null = null;
    for (;;) {
      const headers: Array<[string, string]> = [["host", endpoint.host]];
      if (instance !== null) headers.push(["ibm-service-instance-id", instance]);
      const bearer = await signUpstream(auth, "GET", "/", "", headers, EMPTY_SHA256, this.#deps.signingKeys);
      // No fresher token to try (one was dropped moments ago for another refusal): the refusal stands.
      if (refused !== null && bearer === refused.token)
        throw new Error(`the store answered ${refused.status}`);
      const response = await sendUpstreamBuffered(
        this.#deps.pools,
        { origin: endpoint.origin, method: "GET", path: "/", headers, body: null },
        { maxResponseBytes: MAX_LISTING_BYTES, timeoutMs: LISTING_TIMEOUT_MS },
      );
      const { status } = response;
      if ((status === 401 || status === 403) && auth.type === "iam" && bearer !== null && refused === null) {
        auth.tokens.invalidate(bearer);
        refused = { token: bearer, status };
        continue;
      }
      return this.#parse(response.status, response.body);
    }
  }

  #parse(status: number, body: Buffer): ListBucketsResult {
    if (status !== 200) throw new Error(`the store answered ${status}`);
    const parsed = parseListBuckets(body.toString("utf8"));
    if (parsed === null) throw new Error("the store's answer is not a ListAllMyBucketsResult");
    return parsed;
  }

  #failed(source: Source, reason: string): void {
    const endpoint = source.endpoint.name;
    this.#deps.log.warn(
      { endpoint, instance: source.instance, reason },
      "an endpoint's bucket listing failed; its buckets are left out of ListBuckets",
    );
    if (listBucketsFailureChannel.hasSubscribers) {
      const event: ListBucketsFailureEvent = { endpoint };
      listBucketsFailureChannel.publish(event);
    }
  }
}
