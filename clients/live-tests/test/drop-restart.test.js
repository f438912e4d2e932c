// graphql-ws (the graphql-transport-ws protocol), directly and through
// Apollo Client's GraphQLWsLink, across a dropped network and a rolling
// restart: every event arrives exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, newDoctor, createSlot, Received, sleep, receivedExactly } from './cluster.js';
import { liveClient, followers } from './setup.js';

let cluster;
before(async () => { cluster = await startCluster(); });
after(async () => { await cluster?.stop(); });

for (const [name, follow] of Object.entries(followers)) {
  test(`${name}: an event sent while the network is down arrives once it is back`, async () => {
    const { balancer, replicas } = cluster;
    const doctor = await newDoctor(replicas[0].url);
    const client = liveClient(balancer.wsURL, doctor);
    const received = new Received();
    const dispose = follow(client, received);
    try {
      await sleep(1000);
      const first = await createSlot(replicas[0].url, doctor);
      assert.ok(await received.waitFor([first]), 'the first event');
      balancer.cut();
      const during = [await createSlot(replicas[1].url, doctor), await createSlot(replicas[0].url, doctor)];
      await sleep(3000);
      balancer.restore();
      const afterwards = await createSlot(replicas[1].url, doctor);
      const want = [first, ...during, afterwards];
      const r = await receivedExactly(received, want);
      assert.ok(r.ok, `want ${want.join(', ')} once each; got ${r.got}\n${cluster.logs()}`);
    } finally {
      dispose();
      await client.dispose();
    }
  });

  test(`${name}: a rolling restart moves the subscription to the other replica without a loss`, async () => {
    const { balancer, replicas } = cluster;
    const doctor = await newDoctor(replicas[1].url);
    balancer.prefer = 0;
    const client = liveClient(balancer.wsURL, doctor);
    const received = new Received();
    const dispose = follow(client, received);
    try {
      await sleep(1000);
      const first = await createSlot(replicas[1].url, doctor);
      assert.ok(await received.waitFor([first]), 'the first event');
      const stopping = replicas[0].stop();
      const during = await createSlot(replicas[1].url, doctor);
      await stopping;
      const afterwards = await createSlot(replicas[1].url, doctor);
      const want = [first, during, afterwards];
      const r = await receivedExactly(received, want);
      assert.ok(r.ok, `want ${want.join(', ')} once each; got ${r.got}\n${cluster.logs()}`);
    } finally {
      dispose();
      await client.dispose();
      if (!replicas[0].alive) await replicas[0].start();
    }
  });
}
