/**
 * The SHA-256 block function (FIPS 180-4 §6.2.2) in JS on int32 math, for the HMAC of each aws-chunked chunk
 * signature (see `ChunkSignatureChain` for why not OpenSSL). ~0.6 µs per 64-byte block on the 2-core VM,
 * ~12× slower than OpenSSL's SHA-NI per byte, but with no per-call cost: it only ever hashes ~6 blocks.
 */

// biome-ignore format: the FIPS 180-4 round constants, eight per line
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
/** The initial hash value H(0). */
export const H0 = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
export const BLOCK_BYTES = 64;

/** Plain SHA-256 (for keys longer than a block). */
export function sha256(data: Uint8Array, w: Int32Array): Uint8Array {
  const buffer = Buffer.alloc(data.length + 2 * BLOCK_BYTES);
  buffer.set(data);
  const state = H0.slice();
  digestInto(state, w, buffer, data.length, 0);
  const out = Buffer.alloc(32);
  writeState(state, out, 0);
  return out;
}

/**
 * Pads `buffer[0, length)` in place (the buffer has room for the padding) and compresses it into `state`;
 * `prefixBytes` = bytes already compressed into `state` (counted in the length field).
 */
function digestInto(
  state: Int32Array,
  w: Int32Array,
  buffer: Uint8Array,
  length: number,
  prefixBytes: number,
): void {
  const bits = (length + prefixBytes) * 8;
  let end = length + 1;
  buffer[length] = 0x80;
  while (end % BLOCK_BYTES !== 56) buffer[end++] = 0;
  // Lengths here stay far below 2^32 bits: the high word is 0.
  buffer[end] = 0;
  buffer[end + 1] = 0;
  buffer[end + 2] = 0;
  buffer[end + 3] = 0;
  buffer[end + 4] = bits >>> 24;
  buffer[end + 5] = (bits >>> 16) & 0xff;
  buffer[end + 6] = (bits >>> 8) & 0xff;
  buffer[end + 7] = bits & 0xff;
  end += 8;
  for (let offset = 0; offset < end; offset += BLOCK_BYTES) compress(state, w, buffer, offset);
}

export function writeState(state: Int32Array, out: Uint8Array, offset: number): void {
  for (let i = 0; i < 8; i++) {
    const v = state[i]!;
    out[offset + i * 4] = v >>> 24;
    out[offset + i * 4 + 1] = (v >>> 16) & 0xff;
    out[offset + i * 4 + 2] = (v >>> 8) & 0xff;
    out[offset + i * 4 + 3] = v & 0xff;
  }
}

/** One SHA-256 block (FIPS 180-4 §6.2.2) of `block[offset, offset + 64)` into `state`. */
export function compress(state: Int32Array, w: Int32Array, block: Uint8Array, offset: number): void {
  for (let t = 0; t < 16; t++) {
    const i = offset + t * 4;
    w[t] = (block[i]! << 24) | (block[i + 1]! << 16) | (block[i + 2]! << 8) | block[i + 3]!;
  }
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15]!;
    const y = w[t - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[t]! + w[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}
