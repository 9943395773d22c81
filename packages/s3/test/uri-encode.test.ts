import assert from "node:assert/strict";
import { test } from "node:test";
import { decodePercent, encodeKeyPath, resolveTarget, uriEncode } from "../src/index.js";

const KEY_ROWS: ReadonlyArray<[key: string, encoded: string]> = [
  ["plain/key.txt", "plain/key.txt"],
  ["a b", "a%20b"],
  ["a+b", "a%2Bb"],
  ["100%", "100%25"],
  ["!'()*", "%21%27%28%29%2A"],
  ["~user/-._", "~user/-._"],
  ["a//b/./../", "a//b/./../"],
  ["test$file.text", "test%24file.text"],
  ["€", "%E2%82%AC"],
  ["é", "%C3%A9"],
  ["😀", "%F0%9F%98%80"],
  ["\uFEFF", "%EF%BB%BF"],
  ["a\u0000\n", "a%00%0A"],
  ["?#[]@&=;:,", "%3F%23%5B%5D%40%26%3D%3B%3A%2C"],
  ["lone\uD800", "lone%EF%BF%BD"],
];

for (const [key, encoded] of KEY_ROWS) {
  test(`encodes the key ${JSON.stringify(key)} as ${encoded}`, () => {
    assert.equal(encodeKeyPath(key), encoded);
  });
}

test("encodes a slash in a query value or bucket but keeps it in a key", () => {
  assert.equal(uriEncode("a/b c"), "a%2Fb%20c");
  assert.equal(encodeKeyPath("a/b c"), "a/b%20c");
  assert.equal(uriEncode("AZaz09-._~"), "AZaz09-._~");
});

/** mulberry32: a tiny seeded PRNG, so a failure names a reproducible case. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TRICKY = [
  "/",
  "/",
  ".",
  "..",
  "+",
  "%",
  "%2F",
  " ",
  "~",
  "!",
  "*",
  "'",
  "(",
  ")",
  "?",
  "#",
  "\\",
  "&",
  "=",
];

function randomKey(next: () => number): string {
  const length = 1 + Math.floor(next() * 40);
  let key = "";
  for (let i = 0; i < length; i++) {
    const pick = next();
    if (pick < 0.3) key += TRICKY[Math.floor(next() * TRICKY.length)];
    else if (pick < 0.6) key += String.fromCharCode(0x20 + Math.floor(next() * 0x5f));
    else if (pick < 0.7) key += String.fromCharCode(Math.floor(next() * 0x20));
    else if (pick < 0.9) {
      let code = 0x80 + Math.floor(next() * (0xfffe - 0x80));
      if (code >= 0xd800 && code <= 0xdfff) code -= 0x800;
      key += String.fromCharCode(code);
    } else key += String.fromCodePoint(0x10000 + Math.floor(next() * 0xfffff));
  }
  return key;
}

/** An independent UriEncode: encodeURIComponent plus the five characters it leaves alone, `/` kept. */
function referenceEncodeKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, "/");
}

test("round-trips 5000 random keys through encodeKeyPath and resolveTarget in both plus modes", () => {
  const next = prng(20240601);
  for (let i = 0; i < 5000; i++) {
    const key = randomKey(next);
    const encoded = encodeKeyPath(key);
    assert.match(
      encoded,
      /^(?:[A-Za-z0-9\-._~/]|%[0-9A-F]{2})*$/,
      `bad characters for ${JSON.stringify(key)}`,
    );
    assert.equal(
      encoded,
      referenceEncodeKey(key),
      `differs from encodeURIComponent for ${JSON.stringify(key)}`,
    );
    assert.equal(decodePercent(encoded, true), key);
    for (const plusIsSpace of [true, false]) {
      const got = resolveTarget(`/data/${encoded}`, null, {
        virtualHostDomains: [],
        plusIsSpace,
        maxKeyBytes: 8192,
      });
      assert.deepEqual(
        got,
        { style: "path", bucket: "data", key, rawKey: encoded },
        `case ${i}: ${JSON.stringify(key)}`,
      );
    }
  }
});

test("round-trips random query values through uriEncode and decodePercent", () => {
  const next = prng(7);
  for (let i = 0; i < 2000; i++) {
    const value = randomKey(next);
    const encoded = uriEncode(value);
    assert.ok(!encoded.includes("/"));
    assert.equal(decodePercent(encoded, true), value);
  }
});
