import type { Transform } from "node:stream";
import type { BodyVerifier } from "./body-verifier.js";
import { createPayloadVerifier, type PayloadVerifierOptions } from "./create-payload-verifier.js";
import { createVerifyTransform } from "./create-verify-transform.js";

/** `createPayloadVerifier` as a Node Transform; the verifier is exposed as `.verifier`. */
export function createPayloadVerifyStream(
  options: PayloadVerifierOptions,
): Transform & { readonly verifier: BodyVerifier } {
  return createVerifyTransform(createPayloadVerifier(options));
}
