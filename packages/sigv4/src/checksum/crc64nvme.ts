/**
 * CRC-64/NVME for S3's `x-amz-checksum-crc64nvme` (docs/s3-sigv4.md "Checksums"): reflected polynomial
 * 0x9A6C9329AC4BC9B5 (0xAD93D23594C93659 unreflected), init and xorout all ones,
 * check("123456789") = 0xAE8B14860A799888.
 *
 * The 64-bit register is kept as two uint32 halves so the hot loop stays in small integers (a BigInt per
 * byte would be ~100× slower); slice-by-8 consumes 8 bytes per iteration, which for a 64-bit CRC shifts
 * the whole register out, so each step is the xor of 8 table lookups with no residual shift.
 */

const POLY_HI = 0x9a6c9329;
const POLY_LO = 0xac4bc9b5;

/** `HI/LO[k * 256 + n]` = CRC of byte n followed by k zero bytes (high and low 32 bits). */
const HI = new Int32Array(8 * 256);
const LO = new Int32Array(8 * 256);
buildTables();

function buildTables(): void {
  for (let n = 0; n < 256; n++) {
    let hi = 0;
    let lo = n;
    for (let k = 0; k < 8; k++) {
      const carry = lo & 1;
      lo = (lo >>> 1) | ((hi & 1) << 31);
      hi = hi >>> 1;
      if (carry) {
        hi ^= POLY_HI;
        lo ^= POLY_LO;
      }
    }
    HI[n] = hi;
    LO[n] = lo;
  }
  for (let n = 0; n < 256; n++) {
    let hi = HI[n]!;
    let lo = LO[n]!;
    for (let k = 1; k < 8; k++) {
      // c = T[c & 0xff] ^ (c >>> 8), in halves.
      const idx = lo & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ LO[idx]!;
      hi = (hi >>> 8) ^ HI[idx]!;
      HI[k * 256 + n] = hi;
      LO[k * 256 + n] = lo;
    }
  }
}

/** Running CRC-64/NVME state: the register before the final xor, as two int32 halves. */
export class Crc64Nvme {
  #hi = -1;
  #lo = -1;

  update(data: Uint8Array): void {
    let hi = this.#hi;
    let lo = this.#lo;
    let i = 0;
    const n = data.length;
    const end8 = n - (n % 8);
    while (i < end8) {
      const a = lo ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
      const b = hi ^ (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24));
      const i7 = 1792 + (a & 0xff);
      const i6 = 1536 + ((a >>> 8) & 0xff);
      const i5 = 1280 + ((a >>> 16) & 0xff);
      const i4 = 1024 + (a >>> 24);
      const i3 = 768 + (b & 0xff);
      const i2 = 512 + ((b >>> 8) & 0xff);
      const i1 = 256 + ((b >>> 16) & 0xff);
      const i0 = b >>> 24;
      hi = HI[i7]! ^ HI[i6]! ^ HI[i5]! ^ HI[i4]! ^ HI[i3]! ^ HI[i2]! ^ HI[i1]! ^ HI[i0]!;
      lo = LO[i7]! ^ LO[i6]! ^ LO[i5]! ^ LO[i4]! ^ LO[i3]! ^ LO[i2]! ^ LO[i1]! ^ LO[i0]!;
      i += 8;
    }
    while (i < n) {
      const idx = (lo ^ data[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ LO[idx]!;
      hi = (hi >>> 8) ^ HI[idx]!;
      i++;
    }
    this.#hi = hi;
    this.#lo = lo;
  }

  /** The 8-byte big-endian digest (after the final xor). */
  digest(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32BE(~this.#hi >>> 0, 0);
    out.writeUInt32BE(~this.#lo >>> 0, 4);
    return out;
  }
}
