/**
 * Copies of request body chunks, and the collection of the ones already sent on.
 *
 * uWS lends each body chunk only for the duration of its callback, so every chunk is copied into a Buffer that
 * lives until the upstream socket has written it. Those Buffers are small JS objects with large off-heap
 * backing stores: V8 collects them only when its young generation fills (rarely: each costs it ~100 bytes) or
 * when off-heap memory has grown by its external limit (~64 MiB), so an upload grew a worker's RSS by ~40 MiB
 * of already-sent copies. A scavenge (minor GC) frees them; asking for one after every `GC_EVERY_BYTES` copied
 * keeps uploads flat at a cost of well under a millisecond per 8 MiB (bench/proxy memory-1g and put-1m show
 * both). It needs `gc` exposed (`--expose-gc`, which `osp serve` gives its workers); without it nothing is
 * asked and V8's own heuristics apply.
 */

/** 8 MiB: memory-1g peaks ~10 MiB lower than at 16 MiB, and the scavenges stay under 1 % of an upload's CPU. */
const GC_EVERY_BYTES = 8 * 1024 * 1024;

type MinorGc = (options: { type: "minor" }) => void;
const gc = (globalThis as { gc?: MinorGc }).gc ?? null;
let copiedSinceGc = 0;

/** A Buffer holding `length` bytes of `data` (a uWS body chunk about to be detached). */
export function copyBodyChunk(data: ArrayBuffer, length: number): Buffer {
  const copy = Buffer.allocUnsafe(length);
  copy.set(new Uint8Array(data));
  if (gc !== null) {
    copiedSinceGc += length;
    if (copiedSinceGc >= GC_EVERY_BYTES) {
      copiedSinceGc = 0;
      gc({ type: "minor" });
    }
  }
  return copy;
}
