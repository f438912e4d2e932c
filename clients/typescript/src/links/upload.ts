import { ApolloLink } from '@apollo/client';
import { ServerError, ServerParseError } from '@apollo/client/errors';
import { print } from 'graphql';
import { Observable } from 'rxjs';

/**
 * A file the platform's FormData takes: a File or Blob in browsers and
 * Node, or React Native's `{ uri, name, type }`.
 */
export type Uploadable = Blob | { uri: string; name: string; type: string };

export type IsUploadable = (value: unknown) => value is Uploadable;

/** Blobs and Files; give uploadLink your own test for React Native's objects. */
export const isBlob: IsUploadable = (value): value is Uploadable =>
  typeof Blob !== 'undefined' && value instanceof Blob;

/** Whether the variables hold a file anywhere. */
export function hasFiles(variables: unknown, isUploadable: IsUploadable = isBlob): boolean {
  if (isUploadable(variables)) return true;
  if (variables === null || typeof variables !== 'object') return false;
  return Object.values(variables).some((v) => hasFiles(v, isUploadable));
}

/**
 * Replaces each file in value by null and records where it was (the
 * object paths of the GraphQL multipart request spec); a file given twice
 * is sent once.
 */
function extractFiles(value: unknown, path: string, files: Map<Uploadable, string[]>, isUploadable: IsUploadable): unknown {
  if (isUploadable(value)) {
    const paths = files.get(value);
    if (paths) paths.push(path);
    else files.set(value, [path]);
    return null;
  }
  if (Array.isArray(value)) return value.map((v, i) => extractFiles(v, `${path}.${i}`, files, isUploadable));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, extractFiles(v, `${path}.${k}`, files, isUploadable)]));
  }
  return value;
}

export interface UploadLinkOptions {
  uri: string;
  fetch?: typeof fetch;
  isUploadable?: IsUploadable;
}

/**
 * uploadLink sends an operation whose variables hold files as a GraphQL
 * multipart request (github.com/jaydenseric/graphql-multipart-request-spec),
 * with the headers of the operation's context (the auth link's token).
 * Its failures take the shapes of Apollo's HttpLink, so the auth link
 * treats a refused upload like any other operation.
 */
export function uploadLink(opts: UploadLinkOptions): ApolloLink {
  const isUploadable = opts.isUploadable ?? isBlob;
  return new ApolloLink((operation) => new Observable<ApolloLink.Result>((observer) => {
    const files = new Map<Uploadable, string[]>();
    const variables = extractFiles(operation.variables, 'variables', files, isUploadable);
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: print(operation.query), operationName: operation.operationName, variables }));
    const map: Record<string, string[]> = {};
    [...files.values()].forEach((paths, i) => { map[i] = paths; });
    form.append('map', JSON.stringify(map));
    [...files.keys()].forEach((file, i) => {
      if (file instanceof Blob) form.append(String(i), file, 'name' in file && typeof file.name === 'string' ? file.name : 'blob');
      else form.append(String(i), file as unknown as Blob);
    });

    const { headers = {} } = operation.getContext() as { headers?: Record<string, string> };
    // FormData sets the content type with its boundary.
    const sent = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'content-type'));
    const controller = new AbortController();
    const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    doFetch(opts.uri, { method: 'POST', headers: sent, body: form, signal: controller.signal })
      .then(async (response) => {
        const bodyText = await response.text();
        if (response.status >= 300) {
          throw new ServerError(`Response not successful: Received status code ${response.status}`, { response, bodyText });
        }
        let result: ApolloLink.Result;
        try {
          result = JSON.parse(bodyText) as ApolloLink.Result;
        } catch (err) {
          throw new ServerParseError(err, { response, bodyText });
        }
        observer.next(result);
        observer.complete();
      })
      .catch((err: unknown) => {
        if (!controller.signal.aborted) observer.error(err);
      });
    return () => controller.abort();
  }));
}
