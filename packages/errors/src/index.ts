export {
  errorMessage,
  escapeXml,
  isS3Error,
  renderErrorXml,
  S3_ERRORS,
  S3Error,
  type S3ErrorCode,
  type S3ErrorData,
  type S3ErrorFields,
} from "./errors.js";
