export type { AuthOptions, ChecksumAlgorithm, CredentialScope, PayloadMode, RequestFacts } from "./types.js";
