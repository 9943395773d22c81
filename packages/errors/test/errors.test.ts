import assert from "node:assert/strict";
import { test } from "node:test";
import { renderErrorXml, S3Error } from "../src/index.js";

test("renders S3's error document with fields in order and escaped text", () => {
  const err = new S3Error("AccessDenied", "There were headers present in the request which were not signed", {
    fields: [["HeadersNotSigned", "x-amz-acl"]],
  });
  const xml = renderErrorXml(err, "REQ1", "/b/a&b<c>");
  assert.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>There were headers present in the request which were not signed</Message><HeadersNotSigned>x-amz-acl</HeadersNotSigned><Resource>/b/a&amp;b&lt;c&gt;</Resource><RequestId>REQ1</RequestId></Error>',
  );
  assert.equal(err.status, 403);
});

test("takes each status from the table and marks 5xx and SlowDown retryable", () => {
  assert.equal(new S3Error("MissingContentLength").status, 411);
  assert.equal(new S3Error("NotImplemented").status, 501);
  assert.equal(new S3Error("SlowDown").retryable, true);
  assert.equal(new S3Error("InternalError").retryable, true);
  assert.equal(new S3Error("SignatureDoesNotMatch").retryable, false);
});

test("survives a trip through plain data", () => {
  const err = new S3Error("BadDigest", "The CRC32 you specified did not match the calculated checksum.", {
    fields: [["ExpectedDigest", "abc"]],
    headers: [["x-amz-bucket-region", "eu-de"]],
    source: "downstream",
  });
  const back = S3Error.fromData(structuredClone(err.toData()));
  assert.deepEqual(back.toData(), err.toData());
  assert.ok(back instanceof S3Error);
});

test("drops characters XML 1.0 cannot carry", () => {
  const xml = renderErrorXml(new S3Error("InvalidURI", "bad\u0001key"), "R");
  assert.match(xml, /<Message>badkey<\/Message>/);
});

test("errorMessage reads anything thrown", async () => {
  const { errorMessage } = await import("../src/index.js");
  assert.equal(errorMessage(new TypeError("boom")), "boom");
  assert.equal(errorMessage("text"), "text");
  assert.equal(errorMessage(null), "null");
  assert.equal(errorMessage(undefined), "undefined");
  assert.equal(errorMessage(Object.create(null)), "[object Object]");
});
