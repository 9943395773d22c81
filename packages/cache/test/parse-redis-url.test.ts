import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { parseRedisUrl } from "../src/index.js";

const SECRET = "s3cr3t-P@ss/word";
const ENCODED = encodeURIComponent(SECRET);

const valid: ReadonlyArray<readonly [string, object]> = [
  ["redis://127.0.0.1:6390", { kind: "standalone", host: "127.0.0.1", port: 6390, tls: false, db: 0 }],
  ["redis://cache.internal", { kind: "standalone", host: "cache.internal", port: 6379, tls: false, db: 0 }],
  [
    "rediss://cache.internal:6380/3",
    { kind: "standalone", host: "cache.internal", port: 6380, tls: true, db: 3 },
  ],
  ["redis://[::1]:7000/", { kind: "standalone", host: "::1", port: 7000, tls: false, db: 0 }],
  [`redis://:${ENCODED}@h:1`, { kind: "standalone", host: "h", port: 1, tls: false, db: 0 }],
  [
    `redis://app:${ENCODED}@h:1/2`,
    { kind: "standalone", username: "app", host: "h", port: 1, tls: false, db: 2 },
  ],
  [
    "redis+sentinel://s1:26379,s2:26380,s3/mymaster",
    {
      kind: "sentinel",
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26380 },
        { host: "s3", port: 26379 },
      ],
      masterName: "mymaster",
      db: 0,
    },
  ],
  [
    `redis+sentinel://u:${ENCODED}@s1:1/m/5`,
    { kind: "sentinel", username: "u", sentinels: [{ host: "s1", port: 1 }], masterName: "m", db: 5 },
  ],
  [
    "redis+cluster://10.0.0.1:7000,10.0.0.2:7001",
    {
      kind: "cluster",
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "10.0.0.2", port: 7001 },
      ],
    },
  ],
];

for (const [url, expected] of valid) {
  test(`parses ${url.replace(ENCODED, "<password>")}`, () => {
    const parsed = parseRedisUrl(url);
    const { redacted: _, ...visible } = parsed;
    assert.deepEqual(visible, expected);
  });
}

test("decodes the password but keeps it out of JSON, inspect and the redacted form", () => {
  const parsed = parseRedisUrl(`redis://app:${ENCODED}@cache.internal:6390/1`);
  assert.equal(parsed.password, SECRET);
  assert.equal(parsed.redacted, "redis://app:***@cache.internal:6390/1");
  for (const text of [JSON.stringify(parsed), inspect(parsed, { depth: 5 }), parsed.redacted]) {
    assert.ok(!text.includes(SECRET) && !text.includes(ENCODED), text);
  }
});

test("takes an unencoded @ in the password up to the last @", () => {
  const parsed = parseRedisUrl("redis://:p@ss@h:1");
  assert.equal(parsed.password, "p@ss");
  assert.equal(parsed.kind === "standalone" && parsed.host, "h");
});

const invalid: ReadonlyArray<readonly [string, RegExp]> = [
  [`http://u:${SECRET}@h:1`, /must start with redis:\/\//],
  [`redis://u:${SECRET}@h:99999`, /port of host #1/],
  [`redis://u:${SECRET}@h:1,g:2`, /one host/],
  [`redis://u:${SECRET}@h:1/db`, /database must be a number/],
  [`redis://u:${SECRET}@h:1?tls=1`, /query strings/],
  [`redis+sentinel://u:${SECRET}@s:1`, /master name/],
  [`redis+cluster://u:${SECRET}@a:1,b:2/0`, /takes no path/],
  [`redis+cluster://u:${SECRET}@a:1,,b:2`, /host #2/],
  [`redis://u:%E0%A4%A${SECRET}@h:1`, /percent-encoding/],
  [`redis://${SECRET}`, /database must be a number/],
  [`redis://u:${SECRET.replace("@", "")}/h:1`, /host #1/],
  ["redis://u:secret-no-at:1:2", /host #1/],
];

for (const [url, message] of invalid) {
  test(`rejects ${url.split("//")[0]}//… (${message.source}) without quoting the password`, () => {
    assert.throws(
      () => parseRedisUrl(url),
      (err: unknown) => {
        assert.ok(err instanceof TypeError);
        assert.match(err.message, message);
        for (const secret of [SECRET, ENCODED, "s3cr3t", "secret-no-at", "word"]) {
          assert.ok(!err.message.includes(secret), err.message);
        }
        return true;
      },
    );
  });
}
