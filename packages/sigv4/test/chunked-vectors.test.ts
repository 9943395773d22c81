import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import {
  chunkStringToSign,
  createChunkedDecoder,
  encodeAwsChunked,
  signStringToSign,
  trailerStringToSign,
} from "../src/index.js";
import { type ChunkVector, feed, readVectors, vectorById, vectorSigning } from "./chunked-helpers.js";

const PAYLOAD = Buffer.alloc(66560, 0x61);

function header(v: ChunkVector, name: string): string | undefined {
  return v.headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

/** The expected wire bytes, rebuilt from the vector's chunk headers and trailer. */
function expectedWire(v: ChunkVector): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (const chunk of v.expected.chunks ?? []) {
    parts.push(Buffer.from(chunk.wireHeader, "latin1"));
    if (chunk.size > 0) parts.push(PAYLOAD.subarray(offset, offset + chunk.size), Buffer.from("\r\n"));
    offset += chunk.size;
  }
  parts.push(Buffer.from(v.expected.trailer?.wire ?? "\r\n", "latin1"));
  return Buffer.concat(parts);
}

describe("the AWS aws-chunked vectors", () => {
  for (const id of ["aws-s3-chunked-put-object", "aws-s3-chunked-put-object-signed-trailer"]) {
    const v = vectorById(id);
    const signing = vectorSigning(v);
    const scope = signing.scope;

    it(`${id}: every chunk string-to-sign and signature, chained from the seed`, () => {
      let previous = signing.seedSignature;
      let offset = 0;
      for (const chunk of v.expected.chunks ?? []) {
        const data = PAYLOAD.subarray(offset, offset + chunk.size);
        offset += chunk.size;
        const dataHash = createHash("sha256").update(data).digest("hex");
        assert.equal(dataHash, chunk.dataSha256);
        const stringToSign = chunkStringToSign(v.amzDate, scope, previous, dataHash);
        assert.equal(stringToSign, chunk.stringToSign);
        previous = signStringToSign(signing.signingKey, stringToSign);
        assert.equal(previous, chunk.signature);
      }
      const trailer = v.expected.trailer;
      if (trailer !== undefined) {
        const stringToSign = trailerStringToSign(v.amzDate, scope, previous, trailer.hashedTextSha256);
        assert.equal(stringToSign, trailer.stringToSign);
        assert.equal(signStringToSign(signing.signingKey, stringToSign), trailer.signature);
      }
    });

    it(`${id}: encodeAwsChunked produces the wire bytes byte for byte`, () => {
      const trailer = v.expected.trailer;
      const body = encodeAwsChunked(PAYLOAD, {
        chunkBytes: 65536,
        mode: trailer === undefined ? "streaming-signed" : "streaming-signed-trailer",
        signing,
        ...(trailer === undefined ? {} : { trailers: [["x-amz-checksum-crc32c", "sOO8/Q=="]] as const }),
      });
      assert.equal(body.length, v.expected.encodedBodyLength);
      assert.ok(body.equals(expectedWire(v)));
    });

    it(`${id}: the decoder releases the 66560 bytes and verifies every signature`, () => {
      const trailer = header(v, "x-amz-trailer");
      const decoder = createChunkedDecoder({
        mode: trailer === undefined ? "streaming-signed" : "streaming-signed-trailer",
        decodedContentLength: Number(header(v, "x-amz-decoded-content-length")),
        signing,
        announcedTrailers: trailer === undefined ? [] : [trailer],
      });
      const result = feed(decoder, expectedWire(v));
      assert.equal(result.error, undefined);
      assert.ok(result.output.equals(PAYLOAD));
      assert.equal(decoder.complete, true);
      assert.equal(decoder.decodedBytes, 66560);
      assert.deepEqual(
        decoder.trailers,
        trailer === undefined ? [] : [["x-amz-checksum-crc32c", "sOO8/Q=="]],
      );
    });
  }

  it("the unsigned-trailer wire example: encoded byte for byte, 66612 bytes, and decoded with its CRC32 checked", () => {
    const example = readVectors().unsignedTrailerWireExample;
    const wire = Buffer.from(
      example.wire
        .replaceAll("\\r\\n", "\r\n")
        .replace("<65536 x 'a'>", "a".repeat(65536))
        .replace("<1024 x 'a'>", "a".repeat(1024)),
      "latin1",
    );
    assert.equal(wire.length, example.encodedLength);
    const body = encodeAwsChunked(PAYLOAD, {
      chunkBytes: 65536,
      mode: "streaming-unsigned-trailer",
      trailers: [["x-amz-checksum-crc32", "sK4Y7A=="]],
    });
    assert.ok(body.equals(wire));

    const seed = vectorById("derived-streaming-unsigned-payload-trailer-seed");
    const decoder = createChunkedDecoder({
      mode: "streaming-unsigned-trailer",
      decodedContentLength: Number(header(seed, "x-amz-decoded-content-length")),
      signing: null,
      announcedTrailers: [header(seed, "x-amz-trailer") ?? ""],
    });
    const result = feed(decoder, wire);
    assert.equal(result.error, undefined);
    assert.ok(result.output.equals(PAYLOAD));
    assert.deepEqual(decoder.trailers, [["x-amz-checksum-crc32", "sK4Y7A=="]]);
  });
});
