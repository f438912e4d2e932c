import { ApolloLink } from '@apollo/client';
import { catchError, from, mergeMap, of, throwError, type Observable } from 'rxjs';
import { isTokenRefused } from '../errors.js';
import { SessionEndedError, type Session } from '../session.js';

type Result = ApolloLink.Result;

/**
 * authLink sends the session's access token with every HTTP operation.
 * When the server refuses it (HTTP 401 today, or a 200 with a GraphQL
 * error UNAUTHENTICATED for the request; see isTokenRefused), the
 * operation waits for the session's single refresh and is sent once more
 * with the new token. The server refuses a token before the operation
 * runs, so the retry repeats nothing.
 */
export function authLink(session: Session): ApolloLink {
  return new ApolloLink((operation, forward) => {
    const send = (token: string | null): Observable<Result> => {
      operation.setContext(({ headers }: { headers?: Record<string, string> }) => {
        const next = { ...headers };
        if (token) next.authorization = `Bearer ${token}`;
        else delete next.authorization;
        return { headers: next };
      });
      return forward(operation);
    };

    const attempt = (token: string | null, retried: boolean): Observable<Result> => {
      const again = !!token && !retried;
      return send(token).pipe(
        mergeMap((result) => (again && isTokenRefused(result) ? retry(token, { result }) : of(result))),
        catchError((error: unknown) => (again && isTokenRefused(error) ? retry(token, { error }) : throwError(() => error))),
      );
    };

    // When the sign-in turns out to be over, the caller gets the server's
    // refusal itself (and the session's onChange(null)).
    const retry = (stale: string, refusal: { result: Result } | { error: unknown }): Observable<Result> =>
      from(session.refresh(stale).catch((err: unknown) => {
        if (err instanceof SessionEndedError) return null;
        throw err;
      })).pipe(
        mergeMap((token) => {
          if (token !== null) return attempt(token, true);
          return 'result' in refusal ? of(refusal.result) : throwError(() => refusal.error);
        }),
      );

    // A sign-in found over before sending goes on signed out: public
    // fields still answer, the rest say UNAUTHENTICATED.
    const first = session.accessToken().catch((err: unknown) => {
      if (err instanceof SessionEndedError) return null;
      throw err;
    });
    return from(first).pipe(mergeMap((token) => attempt(token, false)));
  });
}
