export { formatRemoteAddress } from "./format-remote-address.js";
export {
  HTTP_CALLBACK_ERROR_CHANNEL,
  HTTP_REJECTED_CHANNEL,
  type HttpCallbackErrorEvent,
  type HttpRejectedEvent,
} from "./http-channels.js";
export { assertNativeUws, describeNonNativeUws, NativeUwsError } from "./load-native-uws.js";
export type { IncomingRequest } from "./read-request-head.js";
export type { RequestBody } from "./request-body.js";
export type { ResponseWriter } from "./response-writer.js";
export {
  type HttpHandler,
  type HttpServer,
  type HttpServerOptions,
  startHttpServer,
} from "./start-http-server.js";
