import assert from "node:assert/strict";
import { test } from "node:test";
import { isValidBucketName, isVirtualHostableBucket } from "../src/index.js";

const VALID: ReadonlyArray<string> = [
  "abc",
  "a".repeat(63),
  "proxy-bucket01",
  "data",
  "my.bucket.name",
  "0bucket9",
  "a-b",
  "123",
  "1.2.3", // three dotted numbers are not an IPv4 address
  "1.2.3.4.5",
  "xn-single-hyphen",
  "s3alias", // only the suffix -s3alias is reserved
  "bucket-mrap", // only the suffix .mrap is reserved
  "a-.b", // not DNS-friendly, but the general-purpose rules allow it
  "sthree", // only the prefix sthree- is reserved
];

const INVALID: ReadonlyArray<[name: string, why: string]> = [
  ["", "is empty"],
  ["ab", "is shorter than 3 characters"],
  ["a".repeat(64), "is longer than 63 characters"],
  ["MyBucket", "has uppercase letters"],
  ["my_bucket", "has an underscore"],
  ["my bucket", "has a space"],
  ["bücket", "has a non-ASCII letter"],
  ["a/b", "has a slash"],
  ["-bucket", "begins with a hyphen"],
  [".bucket", "begins with a dot"],
  ["bucket-", "ends with a hyphen"],
  ["bucket.", "ends with a dot"],
  ["my..bucket", "has two adjacent dots"],
  ["..", "is only dots"],
  ["...", "is only dots, three long"],
  ["192.168.5.4", "is formatted as an IPv4 address"],
  ["999.999.999.999", "is formatted like an IPv4 address with out-of-range parts"],
  ["xn--bucket", "has the reserved prefix xn--"],
  ["sthree-bucket", "has the reserved prefix sthree-"],
  ["sthree-configurator", "has the reserved prefix sthree-configurator"],
  ["amzn-s3-demo-bucket", "has the reserved prefix amzn-s3-demo-"],
  ["bucket-s3alias", "has the reserved suffix -s3alias"],
  ["bucket--ol-s3", "has the reserved suffix --ol-s3"],
  ["bucket.mrap", "has the reserved suffix .mrap"],
  ["bucket--x-s3", "has the reserved suffix --x-s3"],
  ["bucket--table-s3", "has the reserved suffix --table-s3"],
];

for (const name of VALID) {
  test(`accepts the bucket name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}… (${name.length})` : name)}`, () => {
    assert.equal(isValidBucketName(name), true);
  });
}

for (const [name, why] of INVALID) {
  test(`refuses a bucket name that ${why}`, () => {
    assert.equal(isValidBucketName(name), false);
  });
}

const HOSTABLE: ReadonlyArray<[name: string, allowDots: boolean, expected: boolean]> = [
  ["data", false, true],
  ["proxy-bucket01", false, true],
  ["my.bucket", false, false],
  ["my.bucket", true, true],
  ["my.-bucket", true, false],
  ["a-.b", true, false],
  ["MyBucket", true, false],
  ["my_bucket", true, false],
  ["10.0.0.1", true, false],
  ["ab", true, false],
  ["a".repeat(64), true, false],
];

for (const [name, allowDots, expected] of HOSTABLE) {
  test(`${expected ? "can" : "cannot"} put ${name.length > 20 ? "a 64-character name" : name} in front of a host name${allowDots ? " without TLS" : " over TLS"}`, () => {
    assert.equal(isVirtualHostableBucket(name, allowDots), expected);
  });
}
