/**
 * Content-MD5 and `x-amz-checksum-*` request headers sent with an aws-chunked body describe the decoded data:
 * the decoder checks them like trailers, and holds back the tail until they match.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import {
  type ChunkedMode,
  createChecksum,
  createChunkedDecoder,
  encodeAwsChunked,
  HELD_BACK_BYTES,
} from "../src/index.js";
import { assertS3Error, feed } from "./chunked-helpers.js";

const SIGNING = {
  signingKey: createHash("sha256").update("test key").digest(),
  amzDate: "20250115T101112Z",
  scope: { date: "20250115", region: "eu-de", service: "s3" },
  seedSignature: createHash("sha256").update("seed").digest("hex"),
};
const data = Buffer.from("the decoded object, which the declared digests describe ".repeat(40));
const crc32 = (bytes: Buffer) => {
  const c = createChecksum("CRC32");
  c.update(bytes);
  return c.digestBase64();
};
const md5 = (bytes: Buffer) => createHash("md5").update(bytes).digest("base64");

for (const mode of [
  "streaming-signed",
  "streaming-unsigned-trailer",
] as const satisfies readonly ChunkedMode[]) {
  const body = encodeAwsChunked(data, {
    chunkBytes: 512,
    mode,
    ...(mode === "streaming-signed" ? { signing: SIGNING } : {}),
    trailers: [],
  });
  const decoder = (declared: {
    contentMd5Base64?: string;
    checksums?: Array<{ algorithm: "CRC32"; base64: string }>;
  }) =>
    createChunkedDecoder({
      mode,
      decodedContentLength: data.length,
      signing: mode === "streaming-signed" ? SIGNING : null,
      announcedTrailers: [],
      declared,
    });

  test(`${mode}: matching header CRC32 and Content-MD5 pass, and the whole object comes out`, () => {
    const result = feed(
      decoder({ contentMd5Base64: md5(data), checksums: [{ algorithm: "CRC32", base64: crc32(data) }] }),
      body,
      [100, 700],
    );
    assert.equal(result.error, undefined);
    assert.ok(result.output.equals(data));
  });

  test(`${mode}: a header CRC32 of other data is BadDigest, and the tail is never released`, () => {
    const other = Buffer.from(data);
    other[0] = other[0]! ^ 1;
    const result = feed(decoder({ checksums: [{ algorithm: "CRC32", base64: crc32(other) }] }), body, [333]);
    assertS3Error(result.error, "BadDigest", 400);
    assert.ok(result.output.length <= data.length - HELD_BACK_BYTES, "the held-back tail was released");
  });

  test(`${mode}: a Content-MD5 of other data is BadDigest`, () => {
    const result = feed(decoder({ contentMd5Base64: md5(Buffer.from("something else")) }), body);
    assertS3Error(result.error, "BadDigest", 400);
  });

  test(`${mode}: a malformed header checksum is refused before any byte`, () => {
    assert.throws(
      () => decoder({ checksums: [{ algorithm: "CRC32", base64: "not base64!" }] }),
      (e: unknown) => assertS3Error(e, "InvalidRequest", 400) !== undefined,
    );
  });
}
