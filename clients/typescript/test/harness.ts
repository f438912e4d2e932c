// A real healthmed server (or two, on one database) for the client's
// tests, started as clients/live-tests does: a fresh database on the test
// cluster, development mode for the secrets the tests do not care about.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/ -> the repository root
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function adminURL(): string {
  return process.env.HEALTHMED_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable';
}

function withDB(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = '/' + name;
  return u.toString();
}

function binary(dir: string): string {
  if (process.env.HEALTHMED_BIN) return process.env.HEALTHMED_BIN;
  const bin = path.join(dir, 'healthmed');
  execFileSync('go', ['build', '-o', bin, './cmd/healthmed'], { cwd: root, stdio: 'inherit' });
  return bin;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** One server process, which a test may stop and start again on its port. */
export class Server {
  readonly url: string;
  readonly graphql: string;
  readonly ws: string;
  readonly log: string;
  #proc: ChildProcess | null = null;
  #exited: Promise<unknown> = Promise.resolve();

  constructor(readonly name: string, private bin: string, private env: NodeJS.ProcessEnv, readonly port: number, dir: string) {
    this.url = `http://127.0.0.1:${port}`;
    this.graphql = this.url + '/graphql';
    this.ws = this.graphql.replace('http', 'ws');
    this.log = path.join(dir, `server-${name}.log`);
  }

  get alive(): boolean {
    return !!this.#proc && this.#proc.exitCode === null && this.#proc.signalCode === null;
  }

  async start(): Promise<void> {
    const out = openSync(this.log, 'a');
    const proc = spawn(this.bin, ['serve'], {
      env: { ...this.env, HEALTHMED_LISTEN_ADDR: `127.0.0.1:${this.port}` },
      stdio: ['ignore', out, out],
    });
    this.#proc = proc;
    this.#exited = new Promise((r) => proc.once('exit', r));
    for (let i = 0; i < 600; i++) {
      if (proc.exitCode !== null) break;
      try {
        if ((await fetch(this.url + '/readyz')).ok) return;
      } catch { /* not listening yet */ }
      await sleep(100);
    }
    throw new Error(`server ${this.name} did not start:\n${this.tail()}`);
  }

  /** SIGTERM, as a deploy stops it: sockets are closed with 1012. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.#proc!.kill('SIGTERM');
    const killer = setTimeout(() => this.#proc?.kill('SIGKILL'), 30_000);
    await this.#exited;
    clearTimeout(killer);
  }

  tail(n = 30): string {
    try {
      return readFileSync(this.log, 'utf8').trim().split('\n').slice(-n).join('\n');
    } catch {
      return '';
    }
  }
}

// The cluster started last: its database and the key of its e-mail links.
let current: { dbURL: string; linkSecret: string } | null = null;

function psql(sql: string): string {
  if (!current) throw new Error('no cluster started');
  return execFileSync('psql', [current.dbURL, '-tAc', sql]).toString().trim();
}

/**
 * linkFor is the secret of the newest e-mail verification link sent to
 * email, as its reader would find it: the database keeps only the link's
 * nonce, and the secret is HMAC-SHA256 of it under the link key.
 */
export function linkFor(email: string): string {
  const nonce = psql(`SELECT nonce FROM account_tokens WHERE email = '${email.replace(/'/g, "''")}' ` +
    `AND purpose = 'VERIFY_EMAIL' ORDER BY id DESC LIMIT 1`);
  return createHmac('sha256', current!.linkSecret).update('healthmed account link v1\0' + nonce).digest('base64url');
}

/** verifyDoctor marks the doctor verified, as an administrator would. */
export function verifyDoctor(crm: string): void {
  const [number, state] = crm.split('/');
  psql(`UPDATE doctors SET verification = 'VERIFIED' WHERE crm_number = '${number}' AND crm_state = '${state}'`);
}

export interface Cluster {
  servers: Server[];
  stop(): Promise<void>;
  logs(): string;
}

/**
 * startServers starts count servers on one fresh database (the first
 * migrates it alone); env adds settings, such as a short token lifetime.
 */
export async function startServers(count: number, env: Record<string, string> = {}): Promise<Cluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hm-ts-'));
  const bin = binary(dir);
  const db = 'hm_ts_' + randomBytes(6).toString('hex');
  execFileSync('psql', [adminURL(), '-qc', `CREATE DATABASE ${db}`]);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  current = { dbURL: withDB(adminURL(), db), linkSecret: randomBytes(32).toString('base64') };
  const ports = await Promise.all(Array.from({ length: count }, freePort));
  const common: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: withDB(adminURL(), db),
    HEALTHMED_DEV: 'true',
    HEALTHMED_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    // known here, so that a test can follow the e-mail links as a reader
    HEALTHMED_LINK_SECRET: current.linkSecret,
    HEALTHMED_DATA_DIR: dir,
    // one issuer for all, as behind a load balancer
    HEALTHMED_PUBLIC_URL: `http://127.0.0.1:${ports[0]}`,
    HEALTHMED_METRICS: 'off',
    HEALTHMED_NOTIFY_WORKER: 'false',
    HEALTHMED_SHUTDOWN_TIMEOUT: '5s',
    // every test registers its own accounts from one address
    HEALTHMED_REGISTER_PER_MINUTE: '0',
    ...env,
  };
  const servers = ports.map((p, i) => new Server('ABCD'[i] ?? String(i), bin, common, p, dir));
  for (const s of servers) await s.start();
  return {
    servers,
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
      try {
        execFileSync('psql', [adminURL(), '-qc', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`]);
      } catch { /* best effort */ }
      if (!process.env.KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
    },
    logs: () => servers.map((s) => `--- server ${s.name}\n${s.tail()}`).join('\n'),
  };
}
