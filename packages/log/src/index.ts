export { type AccessLine, writeAccessLine } from "./access-line.js";
export { censorSecrets, SECRET_FIELDS } from "./censor-secrets.js";
export { createLogger, type Logger, type LogLevel } from "./create-logger.js";
export { createLineWriter, type LineWriter, type LineWriterOptions } from "./line-writer.js";
