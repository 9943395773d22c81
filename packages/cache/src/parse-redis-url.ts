/**
 * Parses the `redis.url` setting. WHATWG `URL` cannot hold a host list (`h:p,h:p`), so this is a small
 * parser of its own. Errors are TypeErrors that quote no part of the input but the scheme: a malformed
 * URL may have its password where a host was expected, and these messages end up in logs.
 */

export interface RedisHost {
  readonly host: string;
  readonly port: number;
}

interface Credentials {
  readonly username?: string;
  /** Not enumerable: JSON, pino and `util.inspect` leave it out. */
  readonly password?: string;
  /** The URL with the password replaced by `***`: the form to log. */
  readonly redacted: string;
}

export type ParsedRedisUrl =
  | (Credentials & {
      readonly kind: "standalone";
      readonly host: string;
      readonly port: number;
      readonly tls: boolean;
      readonly db: number;
    })
  | (Credentials & {
      readonly kind: "sentinel";
      readonly sentinels: readonly RedisHost[];
      readonly masterName: string;
      readonly db: number;
    })
  | (Credentials & { readonly kind: "cluster"; readonly nodes: readonly RedisHost[] });

const SCHEMES = {
  "redis:": "standalone",
  "rediss:": "standalone",
  "redis+sentinel:": "sentinel",
  "redis+cluster:": "cluster",
} as const;
const HOST_NAME = /^[A-Za-z0-9._-]+$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

function fail(problem: string): never {
  throw new TypeError(`redis url: ${problem}`);
}

/**
 * `redis://[user:pass@]host[:port][/db]`, `rediss://…` (TLS), `redis+sentinel://[user:pass@]h:p,h:p/<master>[/db]`
 * (the credentials are the master's), `redis+cluster://[user:pass@]h:p,h:p`. Credentials are percent-decoded.
 */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  const schemeEnd = url.indexOf("//");
  const scheme = schemeEnd > 0 ? url.slice(0, schemeEnd) : "";
  if (!Object.hasOwn(SCHEMES, scheme)) {
    fail("must start with redis://, rediss://, redis+sentinel:// or redis+cluster://");
  }
  const kind = SCHEMES[scheme as keyof typeof SCHEMES];
  let rest = url.slice(schemeEnd + 2);
  // The last "@" ends the credentials: hosts and paths never contain one, an unencoded password may.
  const at = rest.lastIndexOf("@");
  let username: string | undefined;
  let password: string | undefined;
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(":");
    username = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, "the credentials");
    password = colon >= 0 ? decode(userinfo.slice(colon + 1), "the credentials") : undefined;
    if (username === "") username = undefined;
    if (password === "") password = undefined;
  }
  if (rest.includes("?") || rest.includes("#")) fail("query strings and fragments are not supported");
  const slash = rest.indexOf("/");
  const hostList = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash + 1) : "";
  const hosts = hostList.split(",").map((h, i) => parseHost(h, i + 1, kind === "sentinel" ? 26379 : 6379));
  const userPart =
    username === undefined && password === undefined
      ? ""
      : `${username === undefined ? "" : encodeURIComponent(username)}${password === undefined ? "" : ":***"}@`;
  const redacted = `${scheme}//${userPart}${hostList}${path === "" ? "" : `/${path}`}`;
  const base = (fields: object): ParsedRedisUrl => {
    const out = { ...fields, ...(username === undefined ? {} : { username }), redacted };
    if (password !== undefined)
      Object.defineProperty(out, "password", { value: password, enumerable: false });
    return Object.freeze(out) as ParsedRedisUrl;
  };
  if (kind === "standalone") {
    if (hosts.length !== 1)
      fail("redis:// and rediss:// take one host; use redis+cluster:// or redis+sentinel://");
    const [{ host, port }] = hosts as [RedisHost];
    return base({ kind, host, port, tls: scheme === "rediss:", db: parseDb(path === "" ? [] : [path]) });
  }
  if (kind === "cluster") {
    if (path !== "") fail("redis+cluster:// takes no path (a cluster has only database 0)");
    return base({ kind, nodes: hosts });
  }
  const [master, ...dbPart] = path.split("/");
  const masterName = decode(master ?? "", "the master name");
  if (masterName === "") fail("redis+sentinel:// needs the master name as its path: /<master>[/db]");
  return base({ kind, sentinels: hosts, masterName, db: parseDb(dbPart) });
}

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return fail(`${what} are not valid percent-encoding`);
  }
}

function parseHost(text: string, index: number, defaultPort: number): RedisHost {
  let host: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    host = close > 0 ? text.slice(1, close) : "";
    const after = close > 0 ? text.slice(close + 1) : "";
    if (host === "" || !IPV6.test(host) || (after !== "" && !after.startsWith(":"))) {
      fail(`host #${index} is not a valid [IPv6]:port`);
    }
    portText = after === "" ? undefined : after.slice(1);
  } else {
    const parts = text.split(":");
    if (parts.length > 2) fail(`host #${index} has more than one ":" (IPv6 addresses go in brackets)`);
    host = parts[0] ?? "";
    portText = parts[1];
    if (!HOST_NAME.test(host)) fail(`host #${index} is empty or has characters a host name cannot have`);
  }
  if (portText === undefined) return { host, port: defaultPort };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : 0;
  if (port < 1 || port > 65535) fail(`the port of host #${index} must be a number from 1 to 65535`);
  return { host, port };
}

function parseDb(parts: readonly string[]): number {
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "")) return 0;
  if (parts.length > 1 || !/^\d{1,9}$/.test(parts[0] ?? "")) fail("the database must be a number (…/<db>)");
  return Number(parts[0]);
}
