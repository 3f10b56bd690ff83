export type * from "./types";
export { ApiClient, type ApiClientOptions } from "./client";
export { ApiError, ApiUnreachableError } from "./errors";
export type { EventSubscription } from "./eventClient";
export type { EventFeed, EventView } from "./eventStream";
export { mapError, type MappedError } from "./codes";
export { isLoopbackHost, startApiServer, startLocalApi, type ApiServer, type ApiServerOptions, type LocalApiOptions } from "./server";
export {
  API_INFO_FILE,
  ApiFileError,
  TOKEN_FILE,
  ensureApiToken,
  readApiInfo,
  readApiToken,
  removeApiInfo,
  writeApiInfo,
  type ApiInfoFile,
} from "./token";
export { METHODS, WireFormatError, type MethodName } from "./wire";
