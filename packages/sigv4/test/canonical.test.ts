/**
 * UriEncode and the canonical URI, query and headers, rule by rule (docs/s3-sigv4.md "Canonical request").
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalUri,
  formatAmzDate,
  normalizeHeaderValue,
  parseAmzDate,
  uriEncode,
} from "../src/index.js";
import { expectError } from "./support/assertions.js";

test("uriEncode keeps only A-Za-z0-9-._~ and writes upper-case hex of the UTF-8 bytes", () => {
  assert.equal(uriEncode("AZaz09-._~", false), "AZaz09-._~");
  assert.equal(uriEncode("a b+c/d", false), "a%20b%2Bc%2Fd");
  assert.equal(uriEncode("a b+c/d", true), "a%20b%2Bc/d");
  assert.equal(uriEncode("!'()*$&=;,@:", false), "%21%27%28%29%2A%24%26%3D%3B%2C%40%3A");
  assert.equal(uriEncode("é文😀", false), "%C3%A9%E6%96%87%F0%9F%98%80");
  assert.equal(uriEncode("\u0000\u007f\u0080", false), "%00%7F%C2%80");
  assert.equal(uriEncode("", true), "");
});

test("uriEncode matches encodeURIComponent plus !'()* on every BMP character and a lone surrogate", () => {
  const reference = (s: string) =>
    encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  for (let c = 0; c < 0x10000; c += 7) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const s = `x${String.fromCharCode(c)}y`;
    assert.equal(uriEncode(s, false), reference(s), `U+${c.toString(16)}`);
  }
  assert.equal(
    uriEncode("\ud800", false),
    "%EF%BF%BD",
    "a lone surrogate is encoded as U+FFFD, as Buffer.from does",
  );
});

test("canonicalUri decodes then re-encodes each segment and never normalises the path", () => {
  const cases: Array<[string, string]> = [
    ["/test$file.text", "/test%24file.text"],
    ["/a%7Eb/%7e", "/a~b/~"],
    ["/%41%62c", "/Abc"],
    ["/a%2fb", "/a/b"],
    ["/a%2Fb", "/a/b"],
    ["/a%3db", "/a%3Db"],
    ["/a//b/../c/./d/", "/a//b/../c/./d/"],
    ["/%2E%2E/x", "/../x"],
    ["/ünï", "/%C3%BCn%C3%AF"],
    ["/%c3%bc", "/%C3%BC"],
    ["/%FF%fe", "/%FF%FE"],
    ["/a%20b", "/a%20b"],
    ["/a b", "/a%20b"],
    ["/a%2Bb", "/a%2Bb"],
    ["", "/"],
    ["test$file.text", "/test%24file.text"],
  ];
  for (const [raw, expected] of cases) assert.equal(canonicalUri(raw, { plusIsSpace: true }), expected, raw);
});

test("canonicalUri reads a raw '+' as a space only when plusIsSpace", () => {
  assert.equal(canonicalUri("/libstdc++-docs", { plusIsSpace: true }), "/libstdc%20%20-docs");
  assert.equal(canonicalUri("/libstdc++-docs", { plusIsSpace: false }), "/libstdc%2B%2B-docs");
});

test("canonicalUri returns an already-canonical path unchanged", () => {
  const path = "/bucket/photos/2024/a%20b%2B~c.jpg";
  assert.equal(canonicalUri(path, { plusIsSpace: true }), path);
});

test("canonicalUri refuses malformed escapes with InvalidURI", () => {
  for (const raw of ["/%G1", "/a%", "/a%4", "/%%41", "/%4g"]) {
    expectError(canonicalUri(raw, { plusIsSpace: true }), "InvalidURI", 400);
  }
});

test("canonicalQuery encodes, gives valueless names an empty value and sorts by name then value bytewise", () => {
  const cases: Array<[string, string]> = [
    ["", ""],
    ["acl", "acl="],
    ["uploads=", "uploads="],
    ["uploads", "uploads="],
    ["versionId=abc&acl", "acl=&versionId=abc"],
    ["Zeta=1&alpha=2&Alpha=3", "Alpha=3&Zeta=1&alpha=2"],
    ["a=2&a=10&a=1", "a=1&a=10&a=2"],
    ["a-b=1&a=2", "a=2&a-b=1"],
    ["prefix=a+b", "prefix=a%20b"],
    ["prefix=a%2Bb", "prefix=a%2Bb"],
    ["delimiter=/&p=%2f", "delimiter=%2F&p=%2F"],
    ["k=a=b", "k=a%3Db"],
    ["%7e=%7E", "~=~"],
    ["name=文", "name=%E6%96%87"],
    ["a=1&&b=2&", "a=1&b=2"],
    ["=v", "=v"],
    ["x-id=GetObject", "x-id=GetObject"],
  ];
  for (const [raw, expected] of cases) assert.equal(canonicalQuery(raw), expected, raw);
});

test("canonicalQuery leaves out X-Amz-Signature only for presigned URLs", () => {
  const raw = "X-Amz-Signature=abc&X-Amz-Date=20130524T000000Z";
  assert.equal(canonicalQuery(raw), "X-Amz-Date=20130524T000000Z&X-Amz-Signature=abc");
  assert.equal(canonicalQuery(raw, { excludeSignature: true }), "X-Amz-Date=20130524T000000Z");
});

test("canonicalQuery refuses malformed escapes with InvalidURI", () => {
  for (const raw of ["a=%", "a=%zz", "%=1", "a=1&b=%4"]) expectError(canonicalQuery(raw), "InvalidURI", 400);
});

test("normalizeHeaderValue trims and collapses every whitespace run, obs-fold included", () => {
  const cases: Array<[string, string]> = [
    ["value", "value"],
    ["  value1 ", "value1"],
    ['"a   b   c"', '"a b c"'],
    ["a\t\tb", "a b"],
    ["value1\r\n  value2", "value1 value2"],
    ["   ", ""],
    ["", ""],
    ["a b", "a b"],
  ];
  for (const [raw, expected] of cases) assert.equal(normalizeHeaderValue(raw), expected, JSON.stringify(raw));
});

test("canonicalHeaders joins repeated headers with ',' in received order and lists absent ones empty", () => {
  const headers = [
    ["host", "example.com"],
    ["my-header1", "value2"],
    ["x-amz-date", "20150830T123600Z"],
    ["my-header1", "  value2 "],
    ["my-header1", "value1"],
  ] as const;
  assert.equal(
    canonicalHeaders(headers, ["host", "my-header1", "missing", "x-amz-date"]),
    "host:example.com\nmy-header1:value2,value2,value1\nmissing:\nx-amz-date:20150830T123600Z\n",
  );
});

test("canonicalHeaders gives the same answer for hostile header lists as for small ones", () => {
  const headers: Array<[string, string]> = [];
  for (let i = 0; i < 2000; i++) headers.push([`x-h${i % 50}`, `v${i}`]);
  const signed = Array.from({ length: 40 }, (_, i) => `x-h${i}`);
  const expected = signed
    .map(
      (name) =>
        `${name}:${headers
          .filter(([n]) => n === name)
          .map(([, v]) => v)
          .join(",")}\n`,
    )
    .join("");
  assert.equal(canonicalHeaders(headers, signed), expected);
});

test("parseAmzDate reads yyyyMMdd'T'HHmmss'Z' strictly and formatAmzDate writes it back", () => {
  assert.equal(parseAmzDate("20130524T000000Z"), Date.UTC(2013, 4, 24));
  assert.equal(parseAmzDate("20240229T235959Z"), Date.UTC(2024, 1, 29, 23, 59, 59));
  for (const bad of [
    "20230229T000000Z",
    "20130431T000000Z",
    "20131301T000000Z",
    "20130524T236000Z",
    "2013052AT000000Z",
    "00500101T000000Z",
    "20130524T000000z",
    "20130524T000000",
  ]) {
    assert.equal(parseAmzDate(bad), null, bad);
  }
  assert.equal(formatAmzDate(Date.UTC(2013, 4, 24, 1, 2, 3, 999)), "20130524T010203Z");
});
