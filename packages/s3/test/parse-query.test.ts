import assert from "node:assert/strict";
import { test } from "node:test";
import { S3Error } from "@osp/errors";
import { type ParsedQuery, parseQuery } from "../src/index.js";

const ROWS: ReadonlyArray<[name: string, raw: string, expected: ParsedQuery | "InvalidURI"]> = [
  ["gives nothing for an empty query", "", []],
  ["gives null for a name without =", "acl", [["acl", null]]],
  ["gives an empty value for a name with =", "uploads=", [["uploads", ""]]],
  [
    "keeps order and duplicates",
    "b=2&a=1&b=1",
    [
      ["b", "2"],
      ["a", "1"],
      ["b", "1"],
    ],
  ],
  [
    "skips empty pieces",
    "&a&&b=&",
    [
      ["a", null],
      ["b", ""],
    ],
  ],
  ["splits at the first =", "a=b=c", [["a", "b=c"]]],
  ["decodes escapes in names and values", "pre%66ix=a%2Fb%20c", [["prefix", "a/b c"]]],
  ["decodes a raw + to a space", "prefix=a+b", [["prefix", "a b"]]],
  ["decodes %2B to a plus", "prefix=a%2Bb", [["prefix", "a+b"]]],
  ["decodes UTF-8 values", "prefix=%E2%82%AC", [["prefix", "€"]]],
  ["keeps an empty name", "=v", [["", "v"]]],
  [
    "keeps names case-sensitive",
    "ACL&acl",
    [
      ["ACL", null],
      ["acl", null],
    ],
  ],
  [
    "keeps a prototype-like name as plain data",
    "__proto__=x&constructor",
    [
      ["__proto__", "x"],
      ["constructor", null],
    ],
  ],
  ["refuses a bad escape in a value", "prefix=%G1", "InvalidURI"],
  ["refuses a lone % in a name", "a%=1", "InvalidURI"],
  ["refuses a value that is not UTF-8", "prefix=%FF", "InvalidURI"],
];

for (const [name, raw, expected] of ROWS) {
  test(`parseQuery ${name}`, () => {
    const got = parseQuery(raw);
    if (expected === "InvalidURI") {
      assert.ok(got instanceof S3Error);
      assert.equal(got.code, "InvalidURI");
    } else {
      assert.deepEqual(got, expected);
    }
  });
}
