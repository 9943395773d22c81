import assert from "node:assert/strict";
import { test } from "node:test";
import { S3Error } from "@osp/errors";
import {
  checkKeySegments,
  hasDotSegment,
  parseDeleteObjects,
  parseQuery,
  renderDeleteObjects,
  type S3Operation,
  upstreamQueryFor,
} from "../src/index.js";

test("dot segments are found in every position, with either separator", () => {
  for (const key of ["..", ".", "a/..", "../a", "a/../b", "a/./b", "a\\..\\b", "a/.", "./a", "a\\."]) {
    assert.equal(hasDotSegment(key), true, key);
    assert.ok(checkKeySegments(key, "safe") instanceof S3Error, key);
    assert.equal(checkKeySegments(key, "literal"), null, key);
  }
  for (const key of ["a..b", "...", "a/.../b", ".hidden", "a/.b/c", "a/b..", "", "a/"]) {
    assert.equal(hasDotSegment(key), false, key);
    assert.equal(checkKeySegments(key, "safe"), null, key);
  }
  // A listing prefix may end in "." (keys that start with a dot); not in "..".
  assert.equal(hasDotSegment("a/.", false), false);
  assert.equal(hasDotSegment("a/..", false), true);
  assert.equal(hasDotSegment("./a", false), true);
});

function forward(operation: S3Operation, raw: string, keys: "safe" | "literal" = "safe") {
  const query = parseQuery(raw);
  assert.ok(!(query instanceof S3Error));
  return upstreamQueryFor(operation, query, keys);
}

function params(operation: S3Operation, raw: string) {
  const got = forward(operation, raw);
  assert.ok(!(got instanceof S3Error), `${operation} ?${raw}: ${got instanceof S3Error ? got.message : ""}`);
  return got.params;
}

function refused(operation: S3Operation, raw: string, keys: "safe" | "literal" = "safe"): string {
  const got = forward(operation, raw, keys);
  assert.ok(got instanceof S3Error, `${operation} ?${raw} should be refused`);
  assert.equal(got.code, "InvalidArgument");
  return got.fields.find(([n]) => n === "ArgumentName")?.[1] ?? "";
}

test("what real clients send passes; auth parameters and x-id stay behind; selectors lose their value", () => {
  assert.deepEqual(forward("GetObject", "x-id=GetObject&versionId=abc&response-content-type=text%2Fplain"), {
    params: [
      ["versionId", "abc"],
      ["response-content-type", "text/plain"],
    ],
    hoisted: [],
  });
  assert.deepEqual(
    forward(
      "ListObjectsV2",
      "list-type=2&prefix=a%2F&delimiter=%2F&max-keys=1000&encoding-type=url&continuation-token=x%2By&fetch-owner=true",
    ),
    {
      params: [
        ["list-type", "2"],
        ["prefix", "a/"],
        ["delimiter", "/"],
        ["max-keys", "1000"],
        ["encoding-type", "url"],
        ["continuation-token", "x+y"],
        ["fetch-owner", "true"],
      ],
      hoisted: [],
    },
  );
  assert.deepEqual(params("UploadPart", "partNumber=7&uploadId=2~abc-DEF_1.x&x-id=UploadPart"), [
    ["partNumber", "7"],
    ["uploadId", "2~abc-DEF_1.x"],
  ]);
  assert.deepEqual(params("CreateMultipartUpload", "uploads=&x-id=CreateMultipartUpload"), [
    ["uploads", null],
  ]);
  assert.deepEqual(params("DeleteObjects", "delete"), [["delete", null]]);
  const presigned = forward(
    "PutObject",
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a&X-Amz-Date=b&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=c&x-amz-acl=private&x-id=PutObject",
  );
  assert.deepEqual(presigned, { params: [], hoisted: [["x-amz-acl", "private"]] });
});

test("parameters an operation does not take are refused, by name", () => {
  assert.equal(refused("HeadBucket", "prefix=secret%2Fs"), "prefix");
  assert.equal(refused("GetBucketLocation", "location&prefix=secret"), "prefix");
  assert.equal(refused("GetObject", "prefix=secret%2F"), "prefix");
  assert.equal(refused("GetObject", "foo=bar"), "foo");
  assert.equal(refused("PutObject", "partNumber=1"), "partNumber");
  assert.equal(refused("ListObjects", "continuation-token=x"), "continuation-token");
  assert.equal(refused("DeleteObject", "uploadId=x"), "uploadId");
});

test("a copy source hoisted into the query is handed back, never forwarded as a parameter", () => {
  const got = forward("UploadPartCopy", "x-amz-copy-source=data%2Fs.txt&partNumber=1&uploadId=x");
  assert.ok(!(got instanceof S3Error));
  assert.deepEqual(got.hoisted, [["x-amz-copy-source", "data/s.txt"]]);
  assert.ok(!got.params.some(([n]) => n.toLowerCase().startsWith("x-amz")));
});

test("values are validated: ids are never paths, numbers are numbers, enums are enums", () => {
  for (const raw of [
    "partNumber=1&uploadId=..%2F..%2Fdata%2Fsecret",
    "partNumber=1&uploadId=a%2Fb",
    "partNumber=1&uploadId=a%5Cb",
    "partNumber=1&uploadId=a..b",
    "partNumber=1&uploadId=a%0Ab",
    `partNumber=1&uploadId=${"a".repeat(1025)}`,
    "partNumber=b.txt._S3rver_object&uploadId=x",
    "partNumber=0&uploadId=x",
    "partNumber=10001&uploadId=x",
    "partNumber=1e3&uploadId=x",
    "partNumber=%201&uploadId=x",
    "partNumber=1&partNumber=2&uploadId=x",
    "partNumber=1&uploadId",
  ]) {
    refused("UploadPart", raw);
  }
  refused("GetObject", "versionId=..%2Fx");
  refused("GetObject", "response-content-type=text%2Fplain%0D%0AX-Evil%3A%201");
  refused("ListObjectsV2", "list-type=2&max-keys=abc");
  refused("ListObjectsV2", "list-type=2&encoding-type=xml");
  refused("ListObjectsV2", "list-type=2&prefix=a%2F..%2F");
  refused("ListObjectsV2", "list-type=2&start-after=..%2Fx");
  refused("ListObjectsV2", "list-type=2&prefix=a&prefix=b");
  refused("Unknown", "uploadId=..%2Fx&tagging");
  // A trailing "." in a prefix names dot-files, and ids of literal stores are opaque.
  assert.ok(!(forward("ListObjectsV2", "list-type=2&prefix=.") instanceof S3Error));
  assert.ok(!(forward("GetObject", "versionId=3%2FL4kqtJlcpXroDTDmJ%2Brm", "literal") instanceof S3Error));
  assert.ok(forward("GetObject", "versionId=3%2FL4kqtJlcpXroDTDmJ%2Brm") instanceof S3Error);
});

test("DeleteObjects bodies: read strictly, written back canonically", () => {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    "<Object><Key>a&amp;b&lt;&#46;&#x2e;</Key><VersionId>v1</VersionId></Object>\n" +
    "<Object><Key>plain</Key><ETag>&quot;e&quot;</ETag></Object><Quiet>true</Quiet></Delete>";
  const parsed = parseDeleteObjects(body);
  assert.ok(!(parsed instanceof S3Error));
  assert.deepEqual(parsed, {
    quiet: true,
    objects: [
      { key: "a&b<..", versionId: "v1", conditions: [] },
      { key: "plain", versionId: null, conditions: [["ETag", '"e"']] },
    ],
  });
  assert.deepEqual(parseDeleteObjects(renderDeleteObjects(parsed)), parsed);
  for (const bad of [
    "<Delete><Object><Key><![CDATA[../x]]></Key></Object></Delete>",
    "<Delete><!-- c --><Object><Key>a</Key></Object></Delete>",
    '<!DOCTYPE d [<!ENTITY e "..">]><Delete><Object><Key>&e;</Key></Object></Delete>',
    "<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>",
    "<Delete><Object><Key>a</Key><Foo>b</Foo></Object></Delete>",
    "<Delete><Object><Key>a</Key></Object></Delete><Delete/>",
    "<Delete></Delete>",
    "<Delete><Object><Key>a&#0;</Key></Object></Delete>",
    "<Delete><Object><Key>a\u0001</Key></Object></Delete>",
    '<Delete xmlns="urn:other"><Object><Key>a</Key></Object></Delete>',
    "<Delete><Object><Key>a</Key></Object>",
  ]) {
    const got = parseDeleteObjects(bad);
    assert.ok(got instanceof S3Error && got.code === "MalformedXML", bad);
  }
});

test("empty segments but the last are refused like dot segments (a file store joins them away)", () => {
  for (const key of ["/secret/s.txt", "a//b", "a/\\b", "\\a", "/"]) {
    assert.equal(hasDotSegment(key), true, key);
    assert.equal(checkKeySegments(key, "literal"), null, key);
  }
  for (const key of ["folder/", "a/b/", "a"]) assert.equal(hasDotSegment(key), false, key);
});

test("DeleteObjects bodies osp writes carry blanks as references, which no parser trims", () => {
  const xml = renderDeleteObjects({
    quiet: false,
    objects: [{ key: " secret/s.txt\t", versionId: null, conditions: [] }],
  });
  assert.match(xml, /<Key>&#32;secret\/s\.txt&#9;<\/Key>/);
  const back = parseDeleteObjects(xml);
  assert.ok(!(back instanceof S3Error));
  assert.equal(back.objects[0]?.key, " secret/s.txt\t");
});

test("a hoisted parameter that cannot be a header name is refused, not a 500 later", () => {
  for (const raw of ["x-amz-meta-a%0D%0Ax-amz-acl=1", "x-amz-meta-a%3Ab=1", "x-amz-meta-a%20b=1"]) {
    refused("PutObject", raw);
  }
  assert.deepEqual(forward("PutObject", "x-amz-meta-ok=1"), {
    params: [],
    hoisted: [["x-amz-meta-ok", "1"]],
  });
});

test("XML references: the five entities and Chars only; inherited object names are no entities", async () => {
  const { decodeXmlReference } = await import("../src/xml-text.js");
  assert.equal(decodeXmlReference("amp"), "&");
  assert.equal(decodeXmlReference("#46"), ".");
  assert.equal(decodeXmlReference("#x2E"), ".");
  assert.equal(decodeXmlReference("#x1F600"), "\u{1F600}");
  for (const ref of [
    "constructor",
    "__proto__",
    "toString",
    "#0",
    "#x0",
    "#xD800",
    "#x",
    "#",
    "#1a",
    "#x-1",
    "nbsp",
  ]) {
    assert.equal(decodeXmlReference(ref), undefined, ref);
  }
  const got = parseDeleteObjects("<Delete><Object><Key>a&constructor;</Key></Object></Delete>");
  assert.ok(got instanceof S3Error && got.code === "MalformedXML");
});
