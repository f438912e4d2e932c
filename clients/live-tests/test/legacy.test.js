// The legacy protocol (subscriptions-transport-ws, sub-protocol
// graphql-ws) keeps working, across a dropped network too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SubscriptionClient } from 'subscriptions-transport-ws';
import WebSocket from 'ws';
import { startCluster, newDoctor, createSlot, Received, sleep } from './cluster.js';
import { agendaUpdated } from './setup.js';

let cluster;
before(async () => { cluster = await startCluster(); });
after(async () => { await cluster?.stop(); });

test('legacy protocol: events arrive, and once again after a dropped network', async () => {
  const { balancer, replicas } = cluster;
  const doctor = await newDoctor(replicas[0].url);
  const client = new SubscriptionClient(balancer.wsURL, {
    reconnect: true,
    connectionParams: async () => ({ authorization: `Bearer ${await doctor.accessToken()}` }),
  }, WebSocket);
  const received = new Received();
  const sub = client.request({ query: agendaUpdated }).subscribe({
    next: (r) => r.data?.agendaUpdated && received.add(r.data.agendaUpdated.slot?.id),
    error: (e) => received.add('ERROR ' + JSON.stringify(e)),
    complete: () => received.add('COMPLETE'),
  });
  try {
    await sleep(1000);
    const first = await createSlot(replicas[0].url, doctor);
    assert.ok(await received.waitFor([first]), `the first event; got ${received.ids}\n${cluster.logs()}`);
    balancer.cut();
    await sleep(1500);
    balancer.restore();
    // the legacy client resubscribes by itself once reconnected
    await sleep(3000);
    const afterwards = await createSlot(replicas[1].url, doctor);
    assert.ok(await received.waitFor([first, afterwards]), `got ${received.ids}\n${cluster.logs()}`);
    assert.ok(!received.ids.includes('COMPLETE'), 'the subscription is not completed');
  } finally {
    sub.unsubscribe();
    client.close();
  }
});
