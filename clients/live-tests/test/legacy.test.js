// The legacy protocol (subscriptions-transport-ws, sub-protocol
// graphql-ws) keeps working, across a dropped network too: its client
// resends the subscription once reconnected and the server resumes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SubscriptionClient } from 'subscriptions-transport-ws';
import WebSocket from 'ws';
import { startCluster, newDoctor, createSlot, Received, sleep, receivedExactly } from './cluster.js';
import { agendaUpdated, record } from './setup.js';

let cluster;
before(async () => { cluster = await startCluster(); });
after(async () => { await cluster?.stop(); });

test('legacy protocol: an event sent while the network is down arrives once it is back', async () => {
  const { balancer, replicas } = cluster;
  const doctor = await newDoctor(replicas[0].url);
  const client = new SubscriptionClient(balancer.wsURL, {
    reconnect: true,
    connectionParams: async () => ({ authorization: `Bearer ${await doctor.accessToken()}` }),
  }, WebSocket);
  const received = new Received();
  const sub = client.request({ query: agendaUpdated }).subscribe(record(received));
  try {
    await sleep(1000);
    const first = await createSlot(replicas[0].url, doctor);
    assert.ok(await received.waitFor([first]), `the first event; got ${received.ids}\n${cluster.logs()}`);
    balancer.cut();
    const during = await createSlot(replicas[1].url, doctor);
    await sleep(1500);
    balancer.restore();
    const afterwards = await createSlot(replicas[1].url, doctor);
    const want = [first, during, afterwards];
    const r = await receivedExactly(received, want);
    assert.ok(r.ok, `want ${want.join(', ')} once each; got ${r.got}\n${cluster.logs()}`);
  } finally {
    sub.unsubscribe();
    client.close();
  }
});
