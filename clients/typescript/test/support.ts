// Accounts, a slot, and an inbox of live events, all through the typed
// client as an app would use it.
import { randomInt } from 'node:crypto';
import WebSocket from 'ws';
import {
  CreateSlotsDocument,
  LoginDoctorDocument,
  LoginPatientDocument,
  RegisterDoctorDocument,
  RegisterPatientDocument,
  ViewerDocument,
  createHealthmedClient,
  type GeoPointInput,
  type HealthmedClient,
  type HealthmedClientOptions,
} from '../src/index.js';
import { linkFor, sleep, verifyDoctor } from './harness.js';

const password = 'correct horse battery';

/** A client of url for Node (the `ws` package as its WebSocket). */
export function client(url: string, opts: Partial<HealthmedClientOptions> = {}): HealthmedClient {
  return createHealthmedClient({ url, webSocketImpl: WebSocket, ...opts });
}

function cpf(): string {
  const d = Array.from({ length: 9 }, () => randomInt(10));
  for (const len of [9, 10]) {
    const sum = d.slice(0, len).reduce((s, x, i) => s + x * (len + 1 - i), 0);
    d.push(((sum * 10) % 11) % 10);
  }
  return d.join('');
}

/** A random point in Brazil, so that a search near it finds one doctor. */
export function somewhere(): GeoPointInput {
  return { lat: -10 - Math.random() * 15, lng: -40 - Math.random() * 15 };
}

export interface Account {
  client: HealthmedClient;
  id: string;
}

/** Follows the e-mail link that makes a registration's account (url: the GraphQL endpoint). */
async function followLink(url: string, email: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ query: 'mutation($t: String!) { verifyEmail(token: $t) }', variables: { t: linkFor(email) } }),
  });
  const body = (await res.json()) as { errors?: unknown };
  if (body.errors) throw new Error('verifyEmail: ' + JSON.stringify(body.errors));
}

/**
 * Registers a doctor at location, follows the e-mail link, has the clinic
 * verify the CRM, then signs in with the CRM as an app does.
 */
export async function newDoctor(url: string, location: GeoPointInput, opts: Partial<HealthmedClientOptions> = {}): Promise<Account> {
  const c = client(url, opts);
  const crm = `${randomInt(100000, 999999)}/SP`;
  const email = `ts${randomInt(1e9)}@example.com`;
  await c.apollo.mutate({
    mutation: RegisterDoctorDocument,
    variables: {
      input: {
        name: `Dra. Tipada ${crm}`, email, password,
        crm, specialty: 'Cardiology', priceCents: 25000, location,
      },
    },
  });
  await followLink(url, email);
  verifyDoctor(crm);
  const { data } = await c.apollo.mutate({ mutation: LoginDoctorDocument, variables: { crm, password } });
  c.signIn(data!.loginDoctor);
  return { client: c, id: await viewerId(c) };
}

/** Registers a patient, follows the e-mail link, then signs in with the e-mail. */
export async function newPatient(url: string, opts: Partial<HealthmedClientOptions> = {}): Promise<Account> {
  const c = client(url, opts);
  const email = `ts${randomInt(1e9)}@example.com`;
  await c.apollo.mutate({
    mutation: RegisterPatientDocument,
    variables: { input: { name: 'Paciente Tipado', email, cpf: cpf(), password } },
  });
  await followLink(url, email);
  const { data } = await c.apollo.mutate({ mutation: LoginPatientDocument, variables: { login: email, password } });
  c.signIn(data!.loginPatient);
  return { client: c, id: await viewerId(c) };
}

async function viewerId(c: HealthmedClient): Promise<string> {
  const { data } = await c.apollo.query({ query: ViewerDocument, fetchPolicy: 'network-only' });
  const v = data?.viewer;
  if (!v || !('id' in v)) throw new Error('no viewer');
  return v.id;
}

let hour = 0;

/** Opens one slot on the doctor's agenda, a few days ahead. */
export async function createSlot(doctor: HealthmedClient): Promise<string> {
  hour++;
  const start = new Date(Date.now() + 3 * 86_400_000 + hour * 3_600_000);
  start.setUTCMinutes(0, 0, 0);
  const end = new Date(start.getTime() + 30 * 60_000);
  const { data } = await doctor.apollo.mutate({
    mutation: CreateSlotsDocument,
    variables: { input: [{ startsAt: start.toISOString(), endsAt: end.toISOString() }] },
  });
  return data!.createSlots[0]!.id;
}

/** Inbox collects what a subscription delivers and waits for it. */
export class Inbox<T> {
  readonly items: T[] = [];
  readonly errors: unknown[] = [];

  push = (item: T): void => {
    this.items.push(item);
  };

  fail = (err: unknown): void => {
    this.errors.push(err);
  };

  /** Waits until some item matches; throws with what came instead. */
  async waitFor(match: (item: T) => boolean, ms = 20_000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.items.find(match);
      if (found !== undefined) return found;
      if (Date.now() > deadline) {
        throw new Error(`waited ${ms} ms; got ${JSON.stringify(this.items)}, errors ${JSON.stringify(this.errors.map(String))}`);
      }
      await sleep(50);
    }
  }
}

type SlotEvent = { slot?: { id: string } | null };

/**
 * Opens slots until the doctor's agenda subscription delivers one: from
 * then on it is listening (a subscription without a past starts at the
 * moment the server takes it, which a busy machine may delay).
 */
export async function listening<T extends SlotEvent>(doctor: HealthmedClient, agenda: Inbox<T>): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const id = await createSlot(doctor);
    try {
      await agenda.waitFor((e) => e.slot?.id === id, 5000);
      return;
    } catch { /* not subscribed yet */ }
  }
  throw new Error(`the subscription never delivered: ${JSON.stringify(agenda.errors.map(String))}`);
}

/** The slot ids of the events about want's slots, in order of arrival. */
export function slotsOf<T extends SlotEvent>(agenda: Inbox<T>, want: string[]): (string | undefined)[] {
  return agenda.items.map((e) => e.slot?.id).filter((id) => id !== undefined && want.includes(id));
}

/** Resolves once the client's websocket is acknowledged. */
export function connected(c: HealthmedClient): Promise<void> {
  return new Promise((resolve) => {
    const off = c.live.on('connected', () => {
      off();
      resolve();
    });
  });
}

/** Counts what fetch sends and what the server answers. */
export class CountingFetch {
  refreshes = 0;
  /** Answers refusing the token: HTTP 401, or UNAUTHENTICATED in a 200. */
  refusals = 0;
  requests = 0;

  fetch: typeof fetch = async (input, init) => {
    this.requests++;
    if (typeof init?.body === 'string' && init.body.includes('refreshSession')) this.refreshes++;
    const res = await fetch(input, init);
    const body = await res.clone().text();
    const sentToken = new Headers(init?.headers).has('authorization');
    if (res.status === 401 || (sentToken && body.includes('"UNAUTHENTICATED"'))) this.refusals++;
    return res;
  };
}
