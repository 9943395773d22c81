import assert from "node:assert/strict";
import { test } from "node:test";
import {
  buildUpstreamTarget,
  resolveTarget,
  type UpstreamEndpoint,
  type UpstreamTarget,
} from "../src/index.js";

const PATH: UpstreamEndpoint = { addressing: "path", host: "127.0.0.1:9000" };
const VIRTUAL: UpstreamEndpoint = {
  addressing: "virtual",
  host: "s3.eu-de.cloud-object-storage.appdomain.cloud",
};
const VIRTUAL_PORT: UpstreamEndpoint = { addressing: "virtual", host: "minio.internal:9000", tls: false };

const ROWS: ReadonlyArray<
  [
    name: string,
    endpoint: UpstreamEndpoint,
    bucket: string,
    key: string | null,
    query: string,
    expected: UpstreamTarget,
  ]
> = [
  [
    "puts bucket and key in a path-style path",
    PATH,
    "data-prod",
    "a/b.txt",
    "",
    { host: "127.0.0.1:9000", path: "/data-prod/a/b.txt", addressing: "path" },
  ],
  [
    "addresses a bucket path-style without a trailing slash",
    PATH,
    "data-prod",
    null,
    "list-type=2",
    { host: "127.0.0.1:9000", path: "/data-prod?list-type=2", addressing: "path" },
  ],
  [
    "encodes the key and keeps // and .. path-style",
    PATH,
    "data",
    "a//../b c+",
    "",
    { host: "127.0.0.1:9000", path: "/data/a//../b%20c%2B", addressing: "path" },
  ],
  [
    "keeps a leading slash of a key path-style",
    PATH,
    "data",
    "/etc",
    "",
    { host: "127.0.0.1:9000", path: "/data//etc", addressing: "path" },
  ],
  [
    "puts the bucket in front of the host virtual-hosted",
    VIRTUAL,
    "proxy-bucket01",
    "k",
    "",
    {
      host: "proxy-bucket01.s3.eu-de.cloud-object-storage.appdomain.cloud",
      path: "/k",
      addressing: "virtual",
    },
  ],
  [
    "addresses a bucket virtual-hosted as /",
    VIRTUAL,
    "proxy-bucket01",
    null,
    "uploads",
    {
      host: "proxy-bucket01.s3.eu-de.cloud-object-storage.appdomain.cloud",
      path: "/?uploads",
      addressing: "virtual",
    },
  ],
  [
    "keeps a leading slash of a key virtual-hosted",
    VIRTUAL,
    "b01",
    "/x",
    "",
    { host: "b01.s3.eu-de.cloud-object-storage.appdomain.cloud", path: "//x", addressing: "virtual" },
  ],
  [
    "keeps a non-default port in the virtual-hosted Host",
    VIRTUAL_PORT,
    "data",
    "€",
    "",
    { host: "data.minio.internal:9000", path: "/%E2%82%AC", addressing: "virtual" },
  ],
  [
    "virtual-hosts a dotted bucket without TLS",
    VIRTUAL_PORT,
    "my.data",
    "k",
    "",
    { host: "my.data.minio.internal:9000", path: "/k", addressing: "virtual" },
  ],
  [
    "falls back to path-style for a dotted bucket over TLS",
    VIRTUAL,
    "my.data",
    "k",
    "",
    { host: "s3.eu-de.cloud-object-storage.appdomain.cloud", path: "/my.data/k", addressing: "path" },
  ],
  [
    "falls back to path-style for an uppercase legacy bucket",
    VIRTUAL,
    "Legacy_Bucket",
    "k",
    "",
    { host: "s3.eu-de.cloud-object-storage.appdomain.cloud", path: "/Legacy_Bucket/k", addressing: "path" },
  ],
  [
    "falls back to path-style for an IPv4 endpoint",
    { addressing: "virtual", host: "10.0.0.5:9000" },
    "data",
    "k",
    "",
    { host: "10.0.0.5:9000", path: "/data/k", addressing: "path" },
  ],
  [
    "falls back to path-style for an IPv6 endpoint",
    { addressing: "virtual", host: "[::1]:9000" },
    "data",
    null,
    "",
    { host: "[::1]:9000", path: "/data", addressing: "path" },
  ],
  [
    "passes the query through unchanged",
    PATH,
    "data",
    "k",
    "x-id=GetObject&versionId=a%2Bb&prefix=a+b",
    { host: "127.0.0.1:9000", path: "/data/k?x-id=GetObject&versionId=a%2Bb&prefix=a+b", addressing: "path" },
  ],
];

for (const [name, endpoint, bucket, key, query, expected] of ROWS) {
  test(name, () => {
    assert.deepEqual(buildUpstreamTarget(endpoint, bucket, key, query), expected);
  });
}

test("gives back the same key when the upstream target is resolved again, both styles", () => {
  const keys = ["a", "a b", "a+b", "%", "a%2Fb", "//", "./..", "日本/😀", "~!*'()", "dir/"];
  for (const key of keys) {
    const p = buildUpstreamTarget(PATH, "data", key, "");
    const v = buildUpstreamTarget(VIRTUAL_PORT, "data", key, "");
    const opts = { virtualHostDomains: ["minio.internal:9000"], plusIsSpace: true };
    const viaPath = resolveTarget(p.path, p.host, opts);
    const viaVirtual = resolveTarget(v.path, v.host, opts);
    assert.ok(!(viaPath instanceof Error) && !(viaVirtual instanceof Error));
    assert.equal(viaPath.key, key);
    assert.equal(viaVirtual.key, key);
    assert.equal(viaVirtual.bucket, "data");
  }
});
