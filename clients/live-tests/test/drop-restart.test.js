// graphql-ws (the graphql-transport-ws protocol), directly and through
// Apollo Client's GraphQLWsLink, across a dropped network and a rolling
// restart: every event arrives exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, newDoctor, createSlot, sleep } from './cluster.js';
import { followers, following } from './setup.js';

let cluster;
before(async () => { cluster = await startCluster(); });
after(async () => { await cluster?.stop(); });

for (const [name, follow] of Object.entries(followers)) {
  test(`${name}: an event sent while the network is down arrives once it is back`, async () => {
    const { balancer, replicas } = cluster;
    const doctor = await newDoctor(replicas[0].url);
    await following({ wsURL: balancer.wsURL, doctor, follow, logs: cluster.logs }, async (received) => {
      const first = await createSlot(replicas[0].url, doctor);
      assert.ok(await received.waitFor([first]), 'the first event');
      balancer.cut();
      const during = [await createSlot(replicas[1].url, doctor), await createSlot(replicas[0].url, doctor)];
      await sleep(3000);
      balancer.restore();
      const afterwards = await createSlot(replicas[1].url, doctor);
      return [first, ...during, afterwards];
    });
  });

  test(`${name}: a rolling restart moves the subscription to the other replica without a loss`, async () => {
    const { balancer, replicas } = cluster;
    const doctor = await newDoctor(replicas[1].url);
    balancer.prefer = 0;
    try {
      await following({ wsURL: balancer.wsURL, doctor, follow, logs: cluster.logs }, async (received) => {
        const first = await createSlot(replicas[1].url, doctor);
        assert.ok(await received.waitFor([first]), 'the first event');
        const stopping = replicas[0].stop();
        const during = await createSlot(replicas[1].url, doctor);
        await stopping;
        const afterwards = await createSlot(replicas[1].url, doctor);
        return [first, during, afterwards];
      });
    } finally {
      if (!replicas[0].alive) await replicas[0].start();
    }
  });
}
