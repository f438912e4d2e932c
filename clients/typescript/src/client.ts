import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { OperationTypeNode } from 'graphql';
import type { Client } from 'graphql-ws';
import { authLink } from './links/auth.js';
import { hasFiles, isBlob, uploadLink, type IsUploadable } from './links/upload.js';
import { liveClient } from './live.js';
import { Session, type Tokens } from './session.js';

export interface HealthmedClientOptions {
  /** The HTTP endpoint, e.g. `https://api.example.org/graphql`. */
  url: string;
  /** The websocket endpoint; by default url with ws(s):. */
  wsUrl?: string;
  /** A session to share (with another client, another endpoint); by default a new one. */
  session?: Session;
  /** A pair kept from an earlier run, for a new session. */
  tokens?: Tokens | null;
  /** Where a new session reports each new pair, and null when the sign-in ends. */
  onTokens?: (tokens: Tokens | null) => void;
  fetch?: typeof fetch;
  /** The device's clock, for a new session (see SessionOptions.now). */
  now?: () => number;
  /** Where the platform has no WebSocket global (Node: the `ws` package). */
  webSocketImpl?: unknown;
  /** React Native's `{ uri, name, type }` files, say. */
  isUploadable?: IsUploadable;
  cache?: InMemoryCache;
}

export interface HealthmedClient {
  apollo: ApolloClient;
  session: Session;
  /** The subscriptions' graphql-ws client. */
  live: Client;
  /** Signs in with a login or registration answer. */
  signIn(tokens: Tokens): void;
  /** Ends the sign-in on the server, closes the websocket and empties the cache. */
  signOut(): Promise<void>;
  /** Closes the websocket and stops the client. */
  dispose(): Promise<void>;
}

/**
 * createHealthmedClient wires Apollo Client 4 the way the server expects:
 * subscriptions over graphql-ws, uploads as multipart requests, the rest
 * over HTTP, both HTTP paths behind the auth link's single-flight refresh.
 */
export function createHealthmedClient(opts: HealthmedClientOptions): HealthmedClient {
  const session = opts.session ?? new Session({ url: opts.url, tokens: opts.tokens, onChange: opts.onTokens, fetch: opts.fetch, now: opts.now });
  const live = liveClient({ url: opts.wsUrl ?? opts.url.replace(/^http/, 'ws'), session, webSocketImpl: opts.webSocketImpl });
  const isUploadable = opts.isUploadable ?? isBlob;
  const http = ApolloLink.split(
    (op) => hasFiles(op.variables, isUploadable),
    uploadLink({ uri: opts.url, fetch: opts.fetch, isUploadable }),
    new HttpLink({ uri: opts.url, fetch: opts.fetch }),
  );
  const link = ApolloLink.split(
    (op) => op.operationType === OperationTypeNode.SUBSCRIPTION,
    new GraphQLWsLink(live),
    ApolloLink.from([authLink(session), http]),
  );
  const apollo = new ApolloClient({ link, cache: opts.cache ?? new InMemoryCache() });

  return {
    apollo,
    session,
    live,
    signIn: (tokens) => session.signIn(tokens),
    async signOut() {
      await session.signOut();
      live.terminate();
      await apollo.clearStore();
    },
    async dispose() {
      await live.dispose();
      apollo.stop();
    },
  };
}
