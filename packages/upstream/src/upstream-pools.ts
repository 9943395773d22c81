import { isIP } from "node:net";
import { createSecureContext } from "node:tls";
import { S3Error } from "@osp/errors";
import { OriginPool } from "./h1/origin-pool.js";
import { DEFAULT_ORIGIN_OPTIONS, type OriginOptions, resolveOriginOptions } from "./origin-options.js";
import { readCaFile } from "./read-ca-file.js";

/**
 * One `OriginPool` per origin (`scheme://host[:port]`, exactly the string the config gives), created lazily
 * and kept for the life of the process. Origins come from configuration only; nothing a client sends picks one.
 */
export class UpstreamPools {
  readonly #defaults: OriginOptions;
  readonly #perOrigin: ReadonlyMap<string, OriginOptions>;
  readonly #caPem: ReadonlyMap<string, Buffer>;
  readonly #pools = new Map<string, OriginPool>();
  #closed = false;

  /**
   * Validates every option and reads every `caFile` now, so configuration mistakes surface at start-up.
   * Throws `TypeError` naming the key: a bad value, or a CA file that cannot be read or holds no certificate.
   */
  constructor(
    defaults: Partial<OriginOptions> = DEFAULT_ORIGIN_OPTIONS,
    perOrigin: ReadonlyMap<string, Partial<OriginOptions>> = new Map(),
  ) {
    this.#defaults = resolveOriginOptions(DEFAULT_ORIGIN_OPTIONS, defaults, "upstream.defaults");
    const resolved = new Map<string, OriginOptions>();
    for (const [origin, overrides] of perOrigin) {
      resolved.set(origin, resolveOriginOptions(this.#defaults, overrides, `upstream.origins[${origin}]`));
    }
    this.#perOrigin = resolved;
    const caPem = new Map<string, Buffer>();
    const where = ["upstream.defaults", ...[...resolved.keys()].map((o) => `upstream.origins[${o}]`)];
    [this.#defaults, ...resolved.values()].forEach((options, i) => {
      if (options.caFile !== null && !caPem.has(options.caFile)) {
        caPem.set(options.caFile, readCaFile(options.caFile, `${where[i]}.caFile`));
      }
    });
    this.#caPem = caPem;
  }

  /** The settings that apply to `origin`. */
  optionsFor(origin: string): OriginOptions {
    return this.#perOrigin.get(origin) ?? this.#defaults;
  }

  /**
   * The pool of `origin`, created on first use. Throws `S3Error` ServiceUnavailable (source internal) after
   * `close()`/`destroy()`, and InternalError for an origin that is not `http(s)://host[:port]`.
   */
  poolFor(origin: string): OriginPool {
    const existing = this.#pools.get(origin);
    if (existing !== undefined) return existing;
    if (this.#closed) {
      throw new S3Error("ServiceUnavailable", "The gateway is shutting down.", { source: "internal" });
    }
    const created = this.#createPool(origin);
    this.#pools.set(origin, created);
    return created;
  }

  /** Stops taking requests and resolves once every in-flight request has finished and sockets are closed. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pools.values()].map((p) => p.close()));
  }

  /** Tears every socket down now; in-flight requests fail with ServiceUnavailable (source internal). */
  async destroy(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#pools.values()].map((p) => p.destroy()));
  }

  #createPool(origin: string): OriginPool {
    const url = parseOrigin(origin);
    const options = this.optionsFor(origin);
    const https = url.protocol === "https:";
    const ca = options.caFile === null ? undefined : this.#caPem.get(options.caFile);
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === "" ? (https ? 443 : 80) : Number(url.port);
    // TLS: the server name is the origin's host, never the request's host header (virtual-hosted buckets share
    // sockets); IP literals send none. Verification is always on; a `ca` replaces Node's roots for this origin.
    // One secure context per pool: tls.connect() would build one per connection from `ca` (0.32 ms each).
    const tls = https
      ? {
          servername: isIP(host) === 0 ? host : undefined,
          secureContext: createSecureContext(ca === undefined ? {} : { ca }),
        }
      : null;
    return new OriginPool(origin, options, { host, port, tls });
  }
}

function parseOrigin(origin: string): URL {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw invalidOrigin();
  }
  const plain =
    (url.protocol === "https:" || url.protocol === "http:") &&
    url.username === "" &&
    url.password === "" &&
    url.pathname === "/" &&
    url.search === "" &&
    url.hash === "";
  if (!plain) throw invalidOrigin();
  return url;
}

function invalidOrigin(): S3Error {
  // The origin comes from the config, so this is the gateway's fault; the text never reaches clients verbatim.
  return new S3Error("InternalError", "An upstream origin is not of the form scheme://host[:port].", {
    source: "internal",
  });
}
