// Access tokens that expire during the test (5 s): many operations that
// find the token stale, or see it refused, share one refresh; a
// subscription outlives its tokens; a sign-in ended elsewhere ends here.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  AgendaUpdatedDocument,
  AppointmentsDocument,
  LoginPatientDocument,
  RecordFilesDocument,
  Session,
  UploadRecordFileDocument,
  ViewerDocument,
  isUnauthenticated,
  type AgendaUpdatedSubscription,
  type HealthmedClient,
  type Tokens,
} from '../src/index.js';
import { sleep, startServers, type Cluster } from './harness.js';
import { CountingFetch, Inbox, createSlot, listening, newDoctor, newPatient, slotsOf, somewhere } from './support.js';

const TTL = 5000;
let cluster: Cluster;
before(async () => { cluster = await startServers(1, { HEALTHMED_TOKEN_TTL: `${TTL / 1000}s` }); });
after(async () => { await cluster?.stop(); });

const url = () => cluster.servers[0]!.graphql;

async function untilExpired(c: HealthmedClient): Promise<void> {
  await sleep(Date.parse(c.session.tokens!.expiresAt) - Date.now() + 500);
}

// Ten operations at once, queries, a multipart upload and a mutation,
// each with its own variables so that none is deduplicated.
function burst(c: HealthmedClient) {
  const ops: Promise<unknown>[] = [];
  for (let i = 1; i <= 4; i++) {
    ops.push(c.apollo.query({ query: AppointmentsDocument, variables: { first: i }, fetchPolicy: 'network-only' }));
    ops.push(c.apollo.query({ query: RecordFilesDocument, variables: { first: i }, fetchPolicy: 'network-only' }));
  }
  ops.push(c.apollo.query({ query: ViewerDocument, fetchPolicy: 'network-only' }));
  ops.push(c.apollo.mutate({
    mutation: UploadRecordFileDocument,
    variables: { file: new Blob(['ok\n'], { type: 'text/plain' }), input: { title: 'burst', category: 'OTHER' } },
  }));
  return Promise.allSettled(ops);
}

function rejections(results: PromiseSettledResult<unknown>[]): unknown[] {
  return results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
}

test('operations that find the token expired share one refresh', async () => {
  const counter = new CountingFetch();
  const patient = await newPatient(url(), { fetch: counter.fetch });
  try {
    await untilExpired(patient.client);
    const before = counter.refreshes;
    const results = await burst(patient.client);
    assert.deepEqual(rejections(results).map(String), []);
    assert.equal(counter.refreshes - before, 1, 'exactly one refreshSession');
    assert.equal(counter.refusals, 0, 'the stale token was never sent');
  } finally {
    await patient.client.dispose();
  }
});

// Today the server refuses an expired token with HTTP 401; a 200 whose
// error says UNAUTHENTICATED is the other shape standard clients meet.
// The second case turns the server's own 401 answers into that.
const refusalShapes: Record<string, (f: typeof fetch) => typeof fetch> = {
  'as the server answers': (f) => f,
  'as a 200 with UNAUTHENTICATED': (f) => async (input, init) => {
    const res = await f(input, init);
    if (res.status !== 401) return res;
    return new Response(await res.text(), { status: 200, headers: { 'content-type': 'application/json' } });
  },
};

for (const [shape, wrap] of Object.entries(refusalShapes)) {
  test(`operations whose token the server refuses share one refresh, then succeed (${shape})`, async () => {
    const counter = new CountingFetch();
    // A device clock an hour behind believes the token is still good: only
    // the server's refusal tells.
    const patient = await newPatient(url(), { fetch: wrap(counter.fetch), now: () => Date.now() - 3_600_000 });
    try {
      await untilExpired(patient.client);
      const before = counter.refreshes;
      const results = await burst(patient.client);
      assert.deepEqual(rejections(results).map(String), []);
      assert.ok(counter.refusals >= 1, 'the expired token was sent and refused');
      assert.equal(counter.refreshes - before, 1, 'exactly one refreshSession');
    } finally {
      await patient.client.dispose();
    }
  });
}

test('a subscription outlives its tokens, even on a device whose clock is wrong', async () => {
  const counter = new CountingFetch();
  const doctor = await newDoctor(url(), somewhere(), { fetch: counter.fetch, now: () => Date.now() - 3_600_000 });
  const agenda = new Inbox<AgendaUpdatedSubscription['agendaUpdated']>();
  const sub = doctor.client.apollo.subscribe({ query: AgendaUpdatedDocument }).subscribe({
    next: (r) => r.data && agenda.push(r.data.agendaUpdated),
    error: agenda.fail,
    complete: () => agenda.fail('complete'),
  });
  try {
    await listening(doctor.client, agenda);
    const want: string[] = [];
    // three token lifetimes
    for (let i = 0; i < 4; i++) {
      want.push(await createSlot(doctor.client));
      await sleep(TTL * 0.8);
    }
    await agenda.waitFor((e) => e.slot?.id === want[want.length - 1]);
    await sleep(1500);
    assert.deepEqual(slotsOf(agenda, want), want, `${JSON.stringify(agenda.items)}\n${cluster.logs()}`);
    assert.deepEqual(agenda.errors, []);
    assert.ok(counter.refreshes >= 2, `refreshed ${counter.refreshes} times`);
  } finally {
    sub.unsubscribe();
    await doctor.client.dispose();
  }
});

test('a sign-in ended on another device ends here once; operations are refused, not retried', async () => {
  const counter = new CountingFetch();
  const changes: (Tokens | null)[] = [];
  const patient = await newPatient(url(), { fetch: counter.fetch, onTokens: (t) => changes.push(t) });
  try {
    await new Session({ url: url(), tokens: patient.client.session.tokens }).signOut();
    await untilExpired(patient.client);
    const before = counter.refreshes;
    const results = await burst(patient.client);
    const errors = rejections(results);
    // all but the viewer, which anyone may ask for (it is null now)
    assert.equal(errors.length, results.length - 1, 'every other operation is refused');
    assert.deepEqual((results[8] as PromiseFulfilledResult<{ data: unknown }>).value.data, { viewer: null });
    for (const e of errors) assert.ok(isUnauthenticated(e), `UNAUTHENTICATED: ${String(e)}`);
    assert.equal(counter.refreshes - before, 1, 'one refresh found the sign-in over');
    assert.equal(patient.client.session.signedIn, false);
    assert.deepEqual(changes.slice(-1), [null]);
    assert.equal(changes.filter((t) => t === null).length, 1);
  } finally {
    await patient.client.dispose();
  }
});

test('a wrong password while signed in is the answer, not a reason to refresh', async () => {
  const counter = new CountingFetch();
  const patient = await newPatient(url(), { fetch: counter.fetch });
  try {
    const before = counter.refreshes;
    await assert.rejects(
      patient.client.apollo.mutate({ mutation: LoginPatientDocument, variables: { login: 'nobody@example.com', password: 'not the password' } }),
      (e) => isUnauthenticated(e),
    );
    assert.equal(counter.refreshes, before, 'no refresh');
    assert.equal(patient.client.session.signedIn, true);
  } finally {
    await patient.client.dispose();
  }
});
