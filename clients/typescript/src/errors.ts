import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';

/** An error of a GraphQL response, as the server writes it. */
export interface GraphQLErrorLike {
  message: string;
  path?: readonly (string | number)[] | null;
  extensions?: { code?: unknown; reason?: unknown; [key: string]: unknown } | null;
}

/** The error's `extensions.code` (UNAUTHENTICATED, CONFLICT, ...). */
export function errorCode(err: GraphQLErrorLike | undefined | null): string | undefined {
  const code = err?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The error's `extensions.reason` (SLOT_TAKEN, REFETCH_REQUIRED, ...). */
export function errorReason(err: GraphQLErrorLike | undefined | null): string | undefined {
  const reason = err?.extensions?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

/** The GraphQL errors an error Apollo raised carries, wherever they came from. */
export function graphQLErrors(err: unknown): readonly GraphQLErrorLike[] {
  if (CombinedGraphQLErrors.is(err)) return err.errors;
  if (ServerError.is(err)) return bodyErrors(err.bodyText);
  if (Array.isArray((err as { errors?: unknown } | null)?.errors)) return (err as { errors: GraphQLErrorLike[] }).errors;
  return [];
}

/**
 * Whether the server refused the caller's token. Both shapes count: an
 * HTTP 401 (Apollo's ServerError) and a GraphQL error with code
 * UNAUTHENTICATED in a 200 answer, whatever its reason (TOKEN_EXPIRED...).
 */
export function isUnauthenticated(err: unknown): boolean {
  if (ServerError.is(err) && err.statusCode === 401) return true;
  return graphQLErrors(err).some((e) => errorCode(e) === 'UNAUTHENTICATED');
}

/**
 * Whether the server refused the token the request carried, as opposed to
 * credentials given to a field (a login's wrong password is
 * UNAUTHENTICATED too, on that field's path): an HTTP 401, or an
 * UNAUTHENTICATED error of the whole request (no path) or whose reason
 * names the token (TOKEN_EXPIRED...). Only these are worth a refresh.
 */
export function isTokenRefused(err: unknown): boolean {
  if (ServerError.is(err) && err.statusCode === 401) return true;
  return graphQLErrors(err).some((e) =>
    errorCode(e) === 'UNAUTHENTICATED' && (!e.path?.length || /TOKEN/.test(errorReason(e) ?? '')));
}

/**
 * A resumption the server cannot serve (too many missed events, or older
 * than it keeps): read the state again and subscribe without `after`.
 */
export function isRefetchRequired(err: unknown): boolean {
  return graphQLErrors(err).some((e) => errorCode(e) === 'CONFLICT' && errorReason(e) === 'REFETCH_REQUIRED');
}

function bodyErrors(text: string): GraphQLErrorLike[] {
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    return Array.isArray(body.errors) ? (body.errors as GraphQLErrorLike[]) : [];
  } catch {
    return [];
  }
}
