export { type AccessLine, writeAccessLine } from "./access-line.js";
export { CENSOR, censorSecrets, SECRET_FIELDS } from "./censor-secrets.js";
export { createLogger, type Logger, type LogLevel } from "./create-logger.js";
export { BATCH_BYTES, createLineWriter, type LineWriter, type LineWriterOptions } from "./line-writer.js";
