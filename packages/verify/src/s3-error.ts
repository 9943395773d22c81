/**
 * The gateway's one error class, for rebuilding verdicts that crossed a thread boundary: errors that cross a
 * thread are rebuilt from plain data, `S3Error.toData` / `S3Error.fromData`.
 */
import { S3Error } from "@osp/errors";

export { S3Error, type S3ErrorData } from "@osp/errors";

/** Only S3Errors are verdicts; anything else thrown while verifying is a gateway fault (500 InternalError). */
export function toS3Error(error: unknown): S3Error {
  if (error instanceof S3Error) return error;
  return new S3Error("InternalError", undefined, { source: "internal", cause: error });
}
