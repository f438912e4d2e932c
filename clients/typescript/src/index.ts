export * from './generated/graphql.js';
export { createHealthmedClient, type HealthmedClient, type HealthmedClientOptions } from './client.js';
export { Session, SessionEndedError, type SessionOptions, type Tokens } from './session.js';
export { liveClient, type LiveClientOptions } from './live.js';
export { authLink } from './links/auth.js';
export { uploadLink, hasFiles, isBlob, type Uploadable, type IsUploadable, type UploadLinkOptions } from './links/upload.js';
export { errorCode, errorReason, graphQLErrors, isUnauthenticated, isTokenRefused, isRefetchRequired, type GraphQLErrorLike } from './errors.js';
