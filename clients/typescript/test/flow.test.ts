// The client against a real server: sign-in, search, booking, upload and
// live updates with the generated operation types, and a subscription
// that survives a server restart.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  AcceptAppointmentDocument,
  AgendaUpdatedDocument,
  AppointmentUpdatedDocument,
  BookAppointmentDocument,
  CreateSlotsDocument,
  RecordFilesDocument,
  SearchDoctorsDocument,
  Session,
  SessionEndedError,
  UploadRecordFileDocument,
  createHealthmedClient,
  isRefetchRequired,
  isUnauthenticated,
  type Tokens,
  type AgendaUpdatedSubscription,
  type AppointmentUpdatedSubscription,
} from '../src/index.js';
import { sleep, startServers, type Cluster } from './harness.js';
import { Inbox, connected, createSlot, listening, newDoctor, newPatient, slotsOf, somewhere } from './support.js';
import WebSocket from 'ws';

let cluster: Cluster;
before(async () => { cluster = await startServers(2); });
after(async () => { await cluster?.stop(); });

type AgendaEvent = AgendaUpdatedSubscription['agendaUpdated'];
type AppointmentChange = AppointmentUpdatedSubscription['appointmentUpdated'];

test('a patient finds a doctor and books; the doctor accepts; both see it live', async () => {
  const url = cluster.servers[0]!.graphql;
  const where = somewhere();
  const doctor = await newDoctor(url, where);
  const patient = await newPatient(url);
  const agenda = new Inbox<AgendaEvent>();
  const changes = new Inbox<AppointmentChange>();
  const patientConnected = connected(patient.client);
  const subs = [
    doctor.client.apollo.subscribe({ query: AgendaUpdatedDocument }).subscribe({
      next: (r) => r.data && agenda.push(r.data.agendaUpdated),
      error: agenda.fail,
    }),
    patient.client.apollo.subscribe({ query: AppointmentUpdatedDocument }).subscribe({
      next: (r) => r.data && changes.push(r.data.appointmentUpdated),
      error: changes.fail,
    }),
  ];
  try {
    await Promise.all([listening(doctor.client, agenda), patientConnected]);
    // the patient's subscribe message follows the acknowledgement
    await sleep(500);

    const { data: found } = await patient.client.apollo.query({
      query: SearchDoctorsDocument,
      variables: { near: where, withinKm: 2, specialty: 'Cardiology', first: 10 },
    });
    const hit = found?.doctors.edges?.find((e) => e?.node?.id === doctor.id)?.node;
    assert.ok(hit, `the doctor near ${JSON.stringify(where)}: ${JSON.stringify(found)}`);
    assert.ok(hit.distanceKm !== null && hit.distanceKm < 1, `distance ${hit.distanceKm}`);
    // the earliest of the slots listening opened
    const slotId = hit.nextFreeSlot?.id;
    assert.ok(slotId, 'the doctor has a free slot');

    const { data: booked } = await patient.client.apollo.mutate({
      mutation: BookAppointmentDocument,
      variables: { slotId, idempotencyKey: `ts-${slotId}` },
    });
    const appointment = booked!.bookAppointment;
    assert.equal(appointment.status, 'REQUESTED');
    assert.equal(appointment.doctor.id, doctor.id);
    await agenda.waitFor((e) => e.kind === 'BOOKING_REQUESTED' && e.appointment?.id === appointment.id);

    const { data: accepted } = await doctor.client.apollo.mutate({ mutation: AcceptAppointmentDocument, variables: { id: appointment.id } });
    assert.equal(accepted!.acceptAppointment.status, 'ACCEPTED');
    assert.ok(accepted!.acceptAppointment.meeting?.url, 'an accepted appointment has its video room');
    const seen = await changes.waitFor((a) => a.id === appointment.id && a.status === 'ACCEPTED');
    assert.ok(seen.lastEventId, 'each change names its event, to resume from');
    assert.deepEqual([...agenda.errors, ...changes.errors], []);
  } finally {
    subs.forEach((s) => s.unsubscribe());
    await Promise.all([doctor.client.dispose(), patient.client.dispose()]);
  }
});

test('a patient uploads a record file as a multipart request and reads it back', async () => {
  const url = cluster.servers[0]!.graphql;
  const patient = await newPatient(url);
  try {
    const text = 'hemoglobina 14.2 g/dL\n';
    const file = new File([text], 'hemograma.txt', { type: 'text/plain' });
    const { data } = await patient.client.apollo.mutate({
      mutation: UploadRecordFileDocument,
      variables: { file, input: { title: 'Hemograma', category: 'EXAM', tags: ['Sangue'] } },
    });
    const uploaded = data!.uploadRecordFile;
    assert.equal(uploaded.fileName, 'hemograma.txt');
    assert.equal(uploaded.sizeBytes, Buffer.byteLength(text));
    assert.deepEqual(uploaded.tags, ['sangue']);
    const download = await fetch(uploaded.downloadUrl);
    assert.equal(download.status, 200);
    assert.equal(await download.text(), text);

    const { data: list } = await patient.client.apollo.query({ query: RecordFilesDocument, variables: { first: 10 }, fetchPolicy: 'network-only' });
    assert.deepEqual(list?.recordFiles.edges?.map((e) => e?.node?.id), [uploaded.id]);
  } finally {
    await patient.client.dispose();
  }
});

test('a subscription resumes after its server restarts, missing nothing and repeating nothing', async () => {
  const [a, b] = cluster.servers as [Cluster['servers'][0], Cluster['servers'][0]];
  const doctor = await newDoctor(a.graphql, somewhere());
  // The same sign-in through the other server, for the writes while a is down.
  const other = createHealthmedClient({ url: b.graphql, session: doctor.client.session, webSocketImpl: WebSocket });
  const agenda = new Inbox<AgendaEvent>();
  const sub = doctor.client.apollo.subscribe({ query: AgendaUpdatedDocument }).subscribe({
    next: (r) => r.data && agenda.push(r.data.agendaUpdated),
    error: agenda.fail,
    complete: () => agenda.fail('complete'),
  });
  try {
    await listening(doctor.client, agenda);
    const first = await createSlot(doctor.client);
    await agenda.waitFor((e) => e.slot?.id === first);
    await a.stop();
    const during = await createSlot(other);
    await a.start();
    const afterwards = await createSlot(doctor.client);
    await agenda.waitFor((e) => e.slot?.id === afterwards, 30_000);
    // a repeated event would come right behind
    await sleep(1500);
    const want = [first, during, afterwards];
    assert.deepEqual(slotsOf(agenda, want), want, `${JSON.stringify(agenda.items)}\n${cluster.logs()}`);
    assert.deepEqual(agenda.errors, []);
  } finally {
    sub.unsubscribe();
    await Promise.all([doctor.client.dispose(), other.dispose()]);
    if (!a.alive) await a.start();
  }
});

test('signing out ends the sign-in on the server, here, and in the cache', async () => {
  const url = cluster.servers[0]!.graphql;
  const changes: (Tokens | null)[] = [];
  const patient = await newPatient(url, { onTokens: (t) => changes.push(t) });
  try {
    const tokens = patient.client.session.tokens!;
    await patient.client.apollo.query({ query: RecordFilesDocument, variables: { first: 1 } });
    assert.notDeepEqual(patient.client.apollo.extract(), {});
    await patient.client.signOut();
    assert.equal(patient.client.session.signedIn, false);
    assert.deepEqual(changes.slice(-1), [null]);
    assert.deepEqual(patient.client.apollo.extract(), {});
    // the refresh token is refused anywhere now
    await assert.rejects(new Session({ url, tokens }).refresh(tokens.token), SessionEndedError);
    await assert.rejects(
      patient.client.apollo.query({ query: RecordFilesDocument, variables: { first: 1 }, fetchPolicy: 'network-only' }),
      (e) => isUnauthenticated(e),
    );
  } finally {
    await patient.client.dispose();
  }
});

test('a resumption from too far back asks the app to read the state again', async () => {
  const url = cluster.servers[0]!.graphql;
  const doctor = await newDoctor(url, somewhere());
  const agenda = new Inbox<AgendaEvent>();
  const sub = doctor.client.apollo.subscribe({ query: AgendaUpdatedDocument }).subscribe({ next: (r) => r.data && agenda.push(r.data.agendaUpdated) });
  const late = new Inbox<AgendaEvent>();
  try {
    await listening(doctor.client, agenda);
    const seen = agenda.items[agenda.items.length - 1]!.id;
    // more events than a resumption replays (100)
    const day = new Date(Date.now() + 20 * 86_400_000);
    day.setUTCHours(0, 0, 0, 0);
    const input = Array.from({ length: 101 }, (_, i) => ({
      startsAt: new Date(day.getTime() + i * 1_800_000).toISOString(),
      endsAt: new Date(day.getTime() + (i + 1) * 1_800_000).toISOString(),
    }));
    await doctor.client.apollo.mutate({ mutation: CreateSlotsDocument, variables: { input } });
    const resumed = doctor.client.apollo.subscribe({ query: AgendaUpdatedDocument, variables: { after: seen } }).subscribe({
      next: (r) => (r.error ? late.fail(r.error) : r.data && late.push(r.data.agendaUpdated)),
      error: late.fail,
    });
    try {
      const deadline = Date.now() + 20_000;
      while (late.errors.length === 0 && Date.now() < deadline) await sleep(50);
      assert.equal(late.errors.length, 1, `events ${late.items.length}`);
      assert.ok(isRefetchRequired(late.errors[0]), String(late.errors[0]));
      assert.deepEqual(late.items, []);
    } finally {
      resumed.unsubscribe();
    }
  } finally {
    sub.unsubscribe();
    await doctor.client.dispose();
  }
});
