/**
 * The verify-pool configurations bench/pool compares, and "source only": the same upload loop with a
 * verifier that forwards bytes unchecked, so the figures of the others can be read as source + verification.
 */
import type { BodyVerifier } from "@osp/sigv4";
import { createVerifyPool, type VerifyOptions, type VerifyPool } from "@osp/verify";

const MIB = 1024 * 1024;

export interface Config {
  readonly name: string;
  /** `null`: the source-only baseline. */
  readonly options: VerifyOptions | null;
}

export const SOURCE_ONLY: Config = { name: "source only", options: null };

export const MAIN_CONFIGS: readonly Config[] = [
  { name: "inline", options: { mode: "inline", threads: 0 } },
  { name: "pool·1", options: { mode: "pool", threads: 1 } },
  { name: "pool·2", options: { mode: "pool", threads: 2 } },
  { name: "auto·1", options: { mode: "auto", threads: 1 } },
  { name: "auto·2", options: { mode: "auto", threads: 2 } },
];

/**
 * Pool mode's batch size (bytes per hand-off) and window (bytes in flight per body) around the default
 * (1 MiB, 2 MiB: the pool·1 rows).
 */
export const BATCH_CONFIGS: readonly Config[] = [
  [256, 2048],
  [512, 2048],
  [1024, 4096],
  [2048, 4096],
].map(([batchKiB, windowKiB]) => ({
  name: `pool·1 batch ${batchKiB} KiB window ${windowKiB! / 1024} MiB`,
  options: { mode: "pool", threads: 1, batchBytes: batchKiB! * 1024, windowBytes: windowKiB! * 1024 },
}));

export function createPool(config: Config): VerifyPool {
  return config.options === null ? sourceOnlyPool() : createVerifyPool(config.options);
}

/** A VerifyPool whose body verifiers check nothing (bodies only: signatures are not its business). */
function sourceOnlyPool(): VerifyPool {
  return {
    mode: "inline",
    threads: 0,
    queueLength: 0,
    verifyRequest() {
      throw new Error("source only: no signature checks");
    },
    createBodyVerifier(_spec, bodyBytes): BodyVerifier {
      return new PassThrough(bodyBytes);
    },
    close: () => Promise.resolve(),
  };
}

class PassThrough implements BodyVerifier {
  decodedBytes = 0;
  complete = false;
  heldBackBytes = 0;
  readonly #bodyBytes: number;
  #wireBytes = 0;
  constructor(bodyBytes: number) {
    this.#bodyBytes = bodyBytes;
  }
  /** Emits the payload's byte count from the wire bytes, so the upload's emitted-bytes check still holds. */
  write(chunk: Buffer, emit: (data: Buffer) => void): void {
    const take = Math.min(chunk.length, this.#bodyBytes - this.#wireBytes);
    this.#wireBytes += chunk.length;
    if (take > 0) emit(chunk.subarray(0, take));
    this.decodedBytes += Math.max(take, 0);
  }
  end(): void {
    this.complete = true;
  }
}

export { MIB };
