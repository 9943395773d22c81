export {
  createAsyncDestination,
  createLogger,
  type Logger,
  type LogLevel,
  REDACTED_PATHS,
} from "./create-logger.js";
