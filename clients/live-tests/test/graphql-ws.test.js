// graphql-ws (the graphql-transport-ws protocol) across a dropped
// network, a rolling restart and access-token refreshes: every event
// arrives exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, newDoctor, createSlot, Received, sleep } from './cluster.js';
import { liveClient, agendaUpdated } from './setup.js';

let cluster;
before(async () => { cluster = await startCluster({ HEALTHMED_TOKEN_TTL: '8s' }); });
after(async () => { await cluster?.stop(); });

// subscribe follows the doctor's agenda and records each event's slot.
function subscribe(client, received) {
  return client.subscribe({ query: agendaUpdated }, {
    next: (m) => m.data?.agendaUpdated && received.add(m.data.agendaUpdated.slot?.id),
    error: (e) => received.add('ERROR ' + JSON.stringify(e?.code ?? e?.message ?? e)),
    complete: () => received.add('COMPLETE'),
  });
}

async function expectExactly(received, want, what) {
  const ok = await received.waitFor(want);
  assert.ok(ok, `${what}: waited for ${want.join(', ')}; got ${received.ids.join(', ')}\n${cluster.logs()}`);
  assert.deepEqual([...received.ids].sort(), [...want].sort(), `${what}: every event exactly once`);
}

test('an event sent while the network is down arrives once it is back', async () => {
  const { balancer, replicas } = cluster;
  const doctor = await newDoctor(replicas[0].url);
  const client = liveClient(balancer.wsURL, doctor);
  const received = new Received();
  const dispose = subscribe(client, received);
  try {
    await sleep(1000);
    const first = await createSlot(replicas[0].url, doctor);
    assert.ok(await received.waitFor([first]), 'the first event');
    balancer.cut();
    const during = [await createSlot(replicas[1].url, doctor), await createSlot(replicas[0].url, doctor)];
    await sleep(3000);
    balancer.restore();
    const afterwards = await createSlot(replicas[1].url, doctor);
    await expectExactly(received, [first, ...during, afterwards], 'drop');
  } finally {
    dispose();
    await client.dispose();
  }
});

test('a rolling restart moves the subscription to the other replica without a loss', async () => {
  const { balancer, replicas } = cluster;
  const doctor = await newDoctor(replicas[1].url);
  balancer.prefer = 0;
  const client = liveClient(balancer.wsURL, doctor);
  const received = new Received();
  const dispose = subscribe(client, received);
  try {
    await sleep(1000);
    const first = await createSlot(replicas[1].url, doctor);
    assert.ok(await received.waitFor([first]), 'the first event');
    const stopping = replicas[0].stop();
    const during = await createSlot(replicas[1].url, doctor);
    await stopping;
    const afterwards = await createSlot(replicas[1].url, doctor);
    await expectExactly(received, [first, during, afterwards], 'restart');
  } finally {
    dispose();
    await client.dispose();
    if (!replicas[0].alive) await replicas[0].start();
  }
});

test('the subscription lives on across access-token refreshes', async () => {
  const { balancer, replicas } = cluster;
  const doctor = await newDoctor(replicas[0].url);
  const client = liveClient(balancer.wsURL, doctor);
  const received = new Received();
  const dispose = subscribe(client, received);
  try {
    await sleep(1000);
    const want = [];
    // the token lives 8 s: 20 s is at least two expiries
    for (let i = 0; i < 5; i++) {
      want.push(await createSlot(replicas[i % 2].url, doctor));
      await sleep(4000);
    }
    await expectExactly(received, want, 'refresh');
  } finally {
    dispose();
    await client.dispose();
  }
});
