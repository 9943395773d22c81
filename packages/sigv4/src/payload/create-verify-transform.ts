/** The Node-facing wrapper: any `BodyVerifier` as a `Transform` stream. */
import { Transform, type TransformCallback } from "node:stream";
import type { BodyVerifier } from "./body-verifier.js";

/**
 * A Transform that writes every chunk through `verifier` and pushes what it releases; the first S3Error
 * becomes the stream's error (`'error'`), so a `pipeline()` into the upstream request destroys it before the
 * held-back tail was ever pushed. `flush` runs the final verdict (`verifier.end`).
 */
export function createVerifyTransform<V extends BodyVerifier>(
  verifier: V,
): Transform & { readonly verifier: V } {
  const stream = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      try {
        verifier.write(chunk, push);
      } catch (error) {
        callback(error as Error);
        return;
      }
      callback();
    },
    flush(callback: TransformCallback): void {
      try {
        verifier.end(push);
      } catch (error) {
        callback(error as Error);
        return;
      }
      callback();
    },
  });
  const push = (data: Buffer): void => {
    stream.push(data);
  };
  return Object.assign(stream, { verifier });
}
