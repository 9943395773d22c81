/**
 * The two nginx instances of a run, each its own process tree so that their CPU is counted apart:
 * - the origin: static files (the GET objects) and WebDAV PUT into a tmpfs directory (the uploads; the
 *   body is read in full and stored, then renamed over the previous copy);
 * - the proxy: `proxy_pass` to the origin (and to the bearer upstream) with upstream keep-alive, request
 *   and response bodies streamed as osp streams them, `worker_processes` = osp's workers.
 */
import { execSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Child, HOST, startChild } from "./children.js";

export const NGINX = process.env.OSP_BENCH_NGINX ?? "/usr/sbin/nginx";

export function nginxVersion(): string {
  return execSync(`${NGINX} -v 2>&1`, { encoding: "utf8" })
    .trim()
    .replace(/^nginx version: /, "");
}

/** True when this nginx can take PUT (the Debian nginx-light/-core builds have the dav module). */
export function nginxHasDav(): boolean {
  return existsSync(NGINX) && execSync(`${NGINX} -V 2>&1`, { encoding: "utf8" }).includes("http_dav_module");
}

function common(name: string, dir: string, workers: number): string {
  const temp = (what: string) => {
    const path = join(dir, `${name}-${what}`);
    mkdirSync(path, { recursive: true });
    return path;
  };
  // As root, nginx's workers would switch to `nobody`, who may not read the temp dir.
  return `${process.getuid?.() === 0 ? "user root;\n" : ""}worker_processes ${workers};
error_log ${join(dir, `${name}-error.log`)} warn;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http {
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  client_body_temp_path ${temp("client_body")};
  proxy_temp_path ${temp("proxy")};
  fastcgi_temp_path ${temp("fastcgi")};
  uwsgi_temp_path ${temp("uwsgi")};
  scgi_temp_path ${temp("scgi")};
`;
}

export interface OriginOptions {
  readonly dir: string;
  readonly port: number;
  readonly workers: number;
  /** Served at `/` (objects at root/bench/…); uploads land in root/bench/put/. */
  readonly root: string;
}

export function originConf(o: OriginOptions): string {
  return `${common("origin", o.dir, o.workers)}
  server {
    listen ${HOST}:${o.port} backlog=4096;
    root ${o.root};
    location /bench/put/ {
      dav_methods PUT;
      create_full_put_path on;
      client_max_body_size 64m;
      # dav always spools the body to a file; a larger buffer changes nothing for it.
    }
  }
}
`;
}

export interface ProxyOptions {
  readonly dir: string;
  readonly port: number;
  readonly workers: number;
  readonly originPort: number;
  /** The bearer-checking upstream, for /ibm/ (the IAM scenario); null without it. */
  readonly bearerPort: number | null;
  /** Idle upstream connections kept per worker: at least the client connections, else it reconnects. */
  readonly keepalive: number;
}

export function proxyConf(o: ProxyOptions): string {
  const location = (path: string, upstream: string) => `
    location ${path} {
      proxy_pass http://${upstream};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # stream both bodies, as osp does, instead of spooling them to temp files
      proxy_request_buffering off;
      proxy_max_temp_file_size 0;
      client_max_body_size 64m;
    }`;
  const bearer = o.bearerPort === null ? "" : `server ${HOST}:${o.bearerPort}; keepalive ${o.keepalive};`;
  return `${common("proxy", o.dir, o.workers)}
  upstream origin { server ${HOST}:${o.originPort}; keepalive ${o.keepalive}; }
  ${bearer === "" ? "" : `upstream bearer { ${bearer} }`}
  server {
    listen ${HOST}:${o.port} backlog=4096;${location("/", "origin")}${o.bearerPort === null ? "" : location("/ibm/", "bearer")}
  }
}
`;
}

/** Writes the config and runs nginx in the foreground (its master is the root of the tree). */
export function startNginx(
  name: string,
  dir: string,
  conf: string,
  onEarlyExit: (message: string) => void,
): Child {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, conf);
  return startChild(
    `nginx ${name}`,
    NGINX,
    ["-p", dir, "-c", file, "-g", `daemon off; pid ${join(dir, `${name}.pid`)};`],
    onEarlyExit,
  );
}
