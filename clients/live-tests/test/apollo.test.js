// Apollo Client 4 with GraphQLWsLink, set up as the README says: an event
// during a dropped network arrives exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import WebSocket from 'ws';
import { startCluster, newDoctor, createSlot, Received, sleep } from './cluster.js';
import { liveClient, agendaUpdated } from './setup.js';

// Apollo's link reads the browser's WebSocket global; Node 20 has none.
globalThis.WebSocket ??= WebSocket;

let cluster;
before(async () => { cluster = await startCluster(); });
after(async () => { await cluster?.stop(); });

test('Apollo: an event sent while the network is down arrives once it is back', async () => {
  const { balancer, replicas } = cluster;
  const doctor = await newDoctor(replicas[0].url);
  const ws = liveClient(balancer.wsURL, doctor);
  const apollo = new ApolloClient({ link: new GraphQLWsLink(ws), cache: new InMemoryCache() });
  const received = new Received();
  const sub = apollo.subscribe({ query: gql(agendaUpdated) }).subscribe({
    next: (r) => r.data?.agendaUpdated && received.add(r.data.agendaUpdated.slot?.id),
    error: (e) => received.add('ERROR ' + e.message),
    complete: () => received.add('COMPLETE'),
  });
  try {
    await sleep(1000);
    const first = await createSlot(replicas[0].url, doctor);
    assert.ok(await received.waitFor([first]), `the first event; got ${received.ids}`);
    balancer.cut();
    const during = await createSlot(replicas[1].url, doctor);
    await sleep(3000);
    balancer.restore();
    const afterwards = await createSlot(replicas[0].url, doctor);
    const want = [first, during, afterwards];
    assert.ok(await received.waitFor(want), `waited for ${want}; got ${received.ids}\n${cluster.logs()}`);
    assert.deepEqual([...received.ids].sort(), want.sort(), 'every event exactly once');
  } finally {
    sub.unsubscribe();
    await ws.dispose();
    apollo.stop();
  }
});
