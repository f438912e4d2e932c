// A subscription outlives its access tokens: when one expires the server
// closes the socket with a code graphql-ws retries on, and the client's
// connectionParams function hands over a refreshed token. Directly and
// through Apollo Client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, newDoctor, createSlot, sleep } from './cluster.js';
import { followers, following } from './setup.js';

let cluster;
before(async () => { cluster = await startCluster({ HEALTHMED_TOKEN_TTL: '8s' }); });
after(async () => { await cluster?.stop(); });

for (const [name, follow] of Object.entries(followers)) {
  test(`${name}: the subscription lives on across access-token refreshes`, async () => {
    const { balancer, replicas } = cluster;
    const doctor = await newDoctor(replicas[0].url);
    let connections = 0;
    const watch = (client) => client.on('connected', () => connections++);
    await following({ wsURL: balancer.wsURL, doctor, follow, logs: cluster.logs, watch }, async () => {
      const want = [];
      // the token lives 8 s: 20 s is at least two expiries
      for (let i = 0; i < 5; i++) {
        want.push(await createSlot(replicas[i % 2].url, doctor));
        await sleep(4000);
      }
      return want;
    });
    // each expiry closed the socket and a refreshed token opened the next
    assert.ok(connections >= 3, `${connections} connections, want one per token (three or more)`);
  });
}
