// The client set-up the README gives front-end developers, and nothing
// more: a connectionParams function (called again on every reconnect, so
// it hands over a fresh access token) and retries on anything, without
// a limit. The
// server resumes each subscription where the sign-in left it.
import { createClient } from 'graphql-ws';
import { ApolloClient, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import WebSocket from 'ws';
import assert from 'node:assert/strict';
import { Received, sleep, receivedExactly } from './cluster.js';

// Apollo's link reads the browser's WebSocket global; Node 20 has none.
globalThis.WebSocket ??= WebSocket;

export function liveClient(url, auth) {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: async () => ({ authorization: `Bearer ${await auth.accessToken()}` }),
    retryAttempts: Infinity,
    // A lost network shows as an error, not a close: retry that too.
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((r) => setTimeout(r, Math.min(250 * 2 ** retries, 4000) + Math.random() * 250)),
  });
}

export const agendaUpdated = 'subscription { agendaUpdated { id kind slot { id } } }';

// record hands each event's slot to received, and errors and completions
// too, so that a test sees them.
export function record(received) {
  return {
    next: (m) => m.data?.agendaUpdated && received.add(m.data.agendaUpdated.slot?.id),
    error: (e) => received.add('ERROR ' + JSON.stringify(e?.code ?? e?.message ?? e)),
    complete: () => received.add('COMPLETE'),
  };
}

// followers subscribe to the doctor's agenda over a graphql-ws client,
// directly or through Apollo Client's GraphQLWsLink, and return what
// ends the subscription. Each case runs with both.
export const followers = {
  'graphql-ws': (client, received) => client.subscribe({ query: agendaUpdated }, record(received)),
  'Apollo': (client, received) => {
    const apollo = new ApolloClient({ link: new GraphQLWsLink(client), cache: new InMemoryCache() });
    const sub = apollo.subscribe({ query: gql(agendaUpdated) }).subscribe(record(received));
    return () => { sub.unsubscribe(); apollo.stop(); };
  },
};

// following opens the README's client on wsURL for doctor (watch, when
// given, sees it before it connects), follows the doctor's agenda with
// follow and gives the subscription a second to start; body(received)
// then returns the slots whose events must arrive, each exactly once
// (logs() is shown when they do not). The client is closed whatever
// happens.
export async function following({ wsURL, doctor, follow, logs, watch }, body) {
  const client = liveClient(wsURL, doctor);
  watch?.(client);
  const received = new Received();
  const dispose = follow(client, received);
  try {
    await sleep(1000);
    const want = await body(received);
    const r = await receivedExactly(received, want);
    assert.ok(r.ok, `want ${want.join(', ')} once each; got ${r.got}\n${logs()}`);
  } finally {
    dispose();
    await client.dispose();
  }
}
