// Two real server replicas on one fresh database, behind a small TCP
// balancer that the tests can cut (a dropped network) and that sends new
// connections to a live replica (a rolling restart), as a load balancer
// would.
import { spawn, execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, readFileSync, openSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function adminURL() {
  return process.env.HEALTHMED_TEST_DATABASE_URL ||
    'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable';
}

function withDB(url, name) {
  const u = new URL(url);
  u.pathname = '/' + name;
  return u.toString();
}

function binary(dir) {
  if (process.env.HEALTHMED_BIN) return process.env.HEALTHMED_BIN;
  const bin = path.join(dir, 'healthmed');
  execFileSync('go', ['build', '-o', bin, './cmd/healthmed'], { cwd: root, stdio: 'inherit' });
  return bin;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

class Replica {
  constructor(name, bin, env, port, dir) {
    Object.assign(this, { name, bin, env, port, dir });
    this.url = `http://127.0.0.1:${port}`;
    this.log = path.join(dir, `replica-${name}.log`);
  }

  async start() {
    const out = openSync(this.log, 'a');
    this.proc = spawn(this.bin, ['serve'], {
      env: { ...this.env, HEALTHMED_LISTEN_ADDR: `127.0.0.1:${this.port}` },
      stdio: ['ignore', out, out],
    });
    this.exited = new Promise((r) => this.proc.once('exit', r));
    for (let i = 0; i < 300; i++) {
      if (this.proc.exitCode !== null) break;
      try {
        const res = await fetch(this.url + '/readyz');
        if (res.ok) return;
      } catch { /* not listening yet */ }
      await sleep(100);
    }
    throw new Error(`replica ${this.name} did not start:\n${this.tail()}`);
  }

  get alive() { return this.proc && this.proc.exitCode === null && this.proc.signalCode === null; }

  // stop is a rolling restart's first half: SIGTERM, then wait.
  async stop() {
    if (!this.alive) return;
    this.proc.kill('SIGTERM');
    const killer = setTimeout(() => this.proc.kill('SIGKILL'), 30000);
    await this.exited;
    clearTimeout(killer);
  }

  tail(n = 30) {
    try { return readFileSync(this.log, 'utf8').trim().split('\n').slice(-n).join('\n'); } catch { return ''; }
  }
}

// Balancer forwards each new connection to the first live replica in
// its preference order.
class Balancer {
  constructor(replicas) {
    this.replicas = replicas;
    this.prefer = 0;
    this.sockets = new Set();
    this.refusing = false;
  }

  async listen() {
    this.server = net.createServer((client) => {
      if (this.refusing) return client.destroy();
      const order = this.replicas.slice(this.prefer).concat(this.replicas.slice(0, this.prefer));
      const target = order.find((r) => r.alive);
      if (!target) return client.destroy();
      const upstream = net.connect(target.port, '127.0.0.1');
      const pair = [client, upstream];
      for (const s of pair) {
        this.sockets.add(s);
        s.on('error', () => pair.forEach((x) => x.destroy()));
        s.on('close', () => { this.sockets.delete(s); pair.forEach((x) => x.destroy()); });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
    this.wsURL = this.url.replace('http', 'ws') + '/graphql';
  }

  // cut drops every connection and refuses new ones until restore: the
  // client's network is gone.
  cut() {
    this.refusing = true;
    for (const s of this.sockets) s.destroy();
  }

  restore() { this.refusing = false; }

  close() {
    this.cut();
    return new Promise((r) => this.server.close(r));
  }
}

// startCluster starts two replicas on a fresh database. env adds server
// settings (e.g. a short token lifetime).
export async function startCluster(env = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hm-live-'));
  const bin = binary(dir);
  const db = 'hm_live_' + randomBytes(6).toString('hex');
  execFileSync('psql', [adminURL(), '-qc', `CREATE DATABASE ${db}`]);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ports = [await freePort(), await freePort()];
  // The link key is given so that newDoctor can follow the e-mail link
  // of a registration, as its reader would.
  current = { dbURL: withDB(adminURL(), db), linkSecret: randomBytes(32).toString('base64') };
  const common = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: withDB(adminURL(), db),
    // Development mode fills in the secrets the tests do not care about,
    // once, in the data directory both replicas share.
    HEALTHMED_DEV: 'true',
    HEALTHMED_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    HEALTHMED_DATA_DIR: dir,
    HEALTHMED_LINK_SECRET: current.linkSecret,
    HEALTHMED_METRICS: 'off',
    HEALTHMED_NOTIFY_WORKER: 'false',
    HEALTHMED_SHUTDOWN_TIMEOUT: '5s',
    ...env,
  };
  const balancer = new Balancer([]);
  await balancer.listen();
  // One issuer for both, as behind a load balancer.
  common.HEALTHMED_PUBLIC_URL = balancer.url;
  const replicas = ports.map((p, i) => new Replica('AB'[i], bin, common, p, dir));
  balancer.replicas = replicas;
  // The first one migrates the database alone.
  await replicas[0].start();
  await replicas[1].start();
  return {
    replicas,
    balancer,
    async stop() {
      await balancer.close();
      await Promise.all(replicas.map((r) => r.stop()));
      try { execFileSync('psql', [adminURL(), '-qc', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`]); } catch { /* best effort */ }
      if (!process.env.KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
    },
    logs() { return replicas.map((r) => `--- replica ${r.name}\n${r.tail()}`).join('\n'); },
  };
}

// gql sends one operation over HTTP and returns its data, throwing on
// errors.
export async function gql(url, token, query, variables = {}) {
  const res = await fetch(url + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: 'Bearer ' + token } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

let seq = 0;

// The cluster started last: its database and link key.
let current = null;

// linkFor is the secret of the newest e-mail verification link to email:
// the database keeps only its nonce, the secret is HMAC-SHA256 of it
// under the link key (internal/acctoken), as the e-mail worker writes it.
function linkFor(email) {
  const nonce = execFileSync('psql', [current.dbURL, '-tAc',
    `SELECT nonce FROM account_tokens WHERE email = '${email}' AND purpose = 'VERIFY_EMAIL' ORDER BY id DESC LIMIT 1`]).toString().trim();
  return createHmac('sha256', current.linkSecret).update('healthmed account link v1\0' + nonce).digest('base64url');
}

// newDoctor registers a doctor, follows the e-mail link that makes the
// account and returns an Auth for it.
export async function newDoctor(url) {
  seq++;
  const n = `${Date.now() % 1e6}${seq}`;
  const crm = `${(100000 + Number(n) % 899999)}/SP`;
  const email = `live${n}@example.com`;
  const data = await gql(url, '', `mutation($in: RegisterDoctorInput!) { registerDoctor(input: $in) { token refreshToken expiresAt } }`, {
    in: {
      name: `Dra. Live ${n}`, email, password: 'correct horse battery',
      crm, specialty: 'Cardiology', priceCents: 20000, location: { lat: -23.55, lng: -46.63 },
    },
  });
  await gql(url, '', `mutation($t: String!) { verifyEmail(token: $t) }`, { t: linkFor(email) });
  const signedIn = await gql(url, '', `mutation($r: String!) { refreshSession(refreshToken: $r) { token refreshToken expiresAt } }`,
    { r: data.registerDoctor.refreshToken });
  return new Auth(url, signedIn.refreshSession);
}

// Auth holds a sign-in the way the README tells a front end to: the
// access token, refreshed once, shortly before it expires.
export class Auth {
  constructor(url, payload) {
    this.url = url;
    this.set(payload);
  }

  set(p) {
    this.token = p.token;
    this.refreshToken = p.refreshToken;
    this.expiresAt = Date.parse(p.expiresAt);
  }

  async accessToken() {
    if (Date.now() < this.expiresAt - 2000) return this.token;
    this.refreshing ??= gql(this.url, '', `mutation($r: String!) { refreshSession(refreshToken: $r) { token refreshToken expiresAt } }`,
      { r: this.refreshToken }).then((d) => this.set(d.refreshSession)).finally(() => { this.refreshing = null; });
    await this.refreshing;
    return this.token;
  }
}

let slotDay = 0;

// createSlot opens one slot on the doctor's agenda: one SLOT_CREATED
// event for the doctor's live agenda.
export async function createSlot(url, auth) {
  slotDay++;
  const start = new Date(Date.now() + 86400000 * 2 + slotDay * 3600000);
  start.setUTCMinutes(0, 0, 0);
  const end = new Date(start.getTime() + 30 * 60000);
  const data = await gql(url, await auth.accessToken(), `mutation($in: [SlotInput!]!) { createSlots(input: $in) { id } }`,
    { in: [{ startsAt: start.toISOString(), endsAt: end.toISOString() }] });
  return data.createSlots[0].id;
}

// Received collects events by slot id and waits for an expected set.
export class Received {
  constructor() { this.ids = []; this.waiters = []; }

  add(id) {
    this.ids.push(id);
    for (const w of this.waiters) w();
  }

  async waitFor(expected, ms = 15000) {
    const deadline = Date.now() + ms;
    while (!expected.every((id) => this.ids.includes(id))) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, 100); });
      this.waiters = [];
    }
    // a duplicate would arrive right after
    await sleep(1500);
    return true;
  }
}

// receivedExactly waits for want and reports whether every event came,
// each once, and what came instead.
export async function receivedExactly(received, want) {
  const ok = await received.waitFor(want);
  const got = [...received.ids].sort();
  return { ok: ok && JSON.stringify(got) === JSON.stringify([...want].sort()), got: received.ids.join(', ') };
}
