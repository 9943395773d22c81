import assert from "node:assert/strict";
import { test } from "node:test";
import { forwardRequestHeaders, forwardResponseHeaders } from "../src/upstream/forward-headers.js";

const names = (headers: ReadonlyArray<readonly [string, string]>) => headers.map(([n]) => n);

test("drops what a Connection header names, in both directions, and keeps the rest in order", () => {
  const request: Array<[string, string]> = [
    ["connection", "keep-alive, X-Hop"],
    ["x-hop", "1"],
    ["content-type", "text/plain"],
    ["x-amz-meta-a", "b"],
  ];
  const options = { dropChecksums: true, dropCopySource: false };
  assert.deepEqual(names(forwardRequestHeaders(request, options)), ["content-type", "x-amz-meta-a"]);
  const response: Array<[string, string]> = [
    ["etag", '"x"'],
    ["x-internal", "y"],
    ["connection", "x-internal"],
  ];
  assert.deepEqual(names(forwardResponseHeaders(response)), ["etag"]);
});

test("never forwards a client's forwarding claims or ibm-service-instance-id", () => {
  const request: Array<[string, string]> = [
    ["x-forwarded-for", "10.0.0.1"],
    ["x-forwarded-host", "evil"],
    ["forwarded", "for=10.0.0.1"],
    ["x-real-ip", "10.0.0.1"],
    ["ibm-service-instance-id", "someone-else"],
    ["range", "bytes=0-1"],
  ];
  assert.deepEqual(names(forwardRequestHeaders(request, { dropChecksums: false, dropCopySource: false })), [
    "range",
  ]);
});

test("with checksums forwarded, the algorithm header goes only with a checksum value", () => {
  const forward = { dropChecksums: false, dropCopySource: false };
  // aws-chunked with a trailer checksum: the trailer is dropped with the framing, so is the algorithm.
  const trailer: Array<[string, string]> = [
    ["x-amz-sdk-checksum-algorithm", "CRC32"],
    ["x-amz-trailer", "x-amz-checksum-crc32"],
  ];
  assert.deepEqual(names(forwardRequestHeaders(trailer, forward)), []);
  const header: Array<[string, string]> = [
    ["x-amz-sdk-checksum-algorithm", "CRC32"],
    ["x-amz-checksum-crc32", "NhCmhg=="],
  ];
  assert.deepEqual(names(forwardRequestHeaders(header, forward)), [
    "x-amz-sdk-checksum-algorithm",
    "x-amz-checksum-crc32",
  ]);
  assert.deepEqual(names(forwardRequestHeaders(header, { ...forward, dropChecksums: true })), []);
});

test("an operation's policy decides what goes upstream; hoisted headers join when allowed", async () => {
  const { headerPolicy, isPrivilegedHeader } = await import("../src/upstream/header-policy.js");
  const request: Array<[string, string]> = [
    ["content-type", "text/plain"],
    ["x-amz-meta-a", "b"],
    ["x-amz-acl", "public-read"],
    ["x-amz-grant-read", "uri=http://acs.amazonaws.com/groups/global/AllUsers"],
    ["range", "bytes=0-1"],
    ["x-custom", "1"],
    ["content-encoding", "deflate, gzip"],
  ];
  const base = { dropChecksums: true, dropCopySource: false };
  assert.deepEqual(names(forwardRequestHeaders(request, { ...base, policy: headerPolicy("GetObject") })), [
    "range",
  ]);
  const put = forwardRequestHeaders(request, {
    ...base,
    policy: headerPolicy("PutObject"),
    hoisted: [
      ["x-amz-storage-class", "STANDARD"],
      ["x-amz-acl", "private"],
      ["x-amz-copy-source", "data/x"],
    ],
  });
  assert.deepEqual(names(put), [
    "content-type",
    "x-amz-meta-a",
    "x-amz-acl",
    "x-amz-grant-read",
    "content-encoding",
    "x-amz-storage-class",
  ]);
  // Forwarded byte for byte when there is no aws-chunked to take out.
  assert.equal(put.find(([n]) => n === "content-encoding")?.[1], "deflate, gzip");
  assert.deepEqual(
    names(forwardRequestHeaders(request, { ...base, policy: headerPolicy("ListObjectsV2") })),
    [],
  );
  assert.ok(isPrivilegedHeader("x-amz-acl") && isPrivilegedHeader("x-amz-grant-full-control"));
  assert.ok(isPrivilegedHeader("x-amz-bypass-governance-retention") && !isPrivilegedHeader("x-amz-meta-acl"));
});
