import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap } from '../../src/server/bootstrap';
import { hashPassword, hashToken, newSecret } from '../../src/server/crypto';
import { openStore } from '../../src/server/store';
import { SimClient } from '../../src/sim/rustdesk-client';
import { AREAS } from '../../src/wire/scopes';
import { assertBuilt, BIN, childEnv, ROOT } from '../helpers/spawn';

// The load run (`npm run soak`, docs/reliability.md §7): 5,000 simulated RustDesk clients
// heartbeat against `rdadmin serve` (a child process) on a compressed cadence, while an
// administrator runs bulk commands with the built CLI, all on 127.0.0.1. Afterwards: errors (must
// be 0), lost writes (what the administrator changed, compared with the database), and heartbeat
// latency. Figures go to stdout and to SOAK_REPORT (default soak-report.json in the temp folder).
//
// SOAK_SECONDS (60), SOAK_CLIENTS (5000), SOAK_CADENCE_MS (5000: the stock client's 15 s idle
// heartbeat, compressed 3×), SOAK_CONNECTIONS (64: the clients' connection pool).

const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 60);
const CLIENTS = Number(process.env['SOAK_CLIENTS'] ?? 5000);
const CADENCE_MS = Number(process.env['SOAK_CADENCE_MS'] ?? 5000);
const CONNECTIONS = Number(process.env['SOAK_CONNECTIONS'] ?? 64);
const USERS = 20;
const SLICE = 100; // devices per admin command: IDs sharing a 7-digit prefix
const FIRST_ID = 100_000_000;

let dir: string;
let cfg: string;
let token: string;
let server: ChildProcess;
let url: string;
let serverLog = '';

beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(join(tmpdir(), 'rdadmin-soak-'));
  cfg = await mkdtemp(join(tmpdir(), 'rdadmin-soak-cfg-'));
  const store = await openStore(join(dir, 'db.sqlite3'));
  await bootstrap(store, () => {});
  const hash = await hashPassword('password123');
  const group = (await store.users.getGroupByName('Default'))!;
  for (let i = 0; i < USERS; i++) {
    await store.users.create({
      name: `soak-u${String(i).padStart(2, '0')}`,
      password_hash: hash,
      group_guid: group.guid,
      status: 1,
    });
  }
  token = newSecret('rdt');
  await store.auth.createToken({
    name: 'soak',
    tokenHash: hashToken(token),
    ownerGuid: (await store.users.getByName('admin'))!.guid,
    permissions: JSON.stringify(Object.fromEntries(AREAS.map((a) => [a, 'rw']))),
    expiresAt: null,
  });
  await store.close();
  server = spawn(process.execPath, [BIN, 'serve', '--data-dir', dir, '--port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    env: childEnv({ RDADMIN_CONFIG_DIR: cfg }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${serverLog}`)), 15_000);
    server.stderr!.setEncoding('utf8').on('data', (d: string) => {
      // Keep notices, drop the per-request lines (millions of them).
      for (const line of d.split('\n'))
        if (line && !/ (GET|POST|PUT|PATCH|DELETE) \/\S* \d{3} /.test(line)) serverLog += `${line}\n`;
      const m = /listening on (http:\/\/\S+)/.exec(serverLog);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
}, 60_000);

afterAll(async () => {
  server?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  await rm(dir, { recursive: true, force: true });
  await rm(cfg, { recursive: true, force: true });
});

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function rdadmin(args: string[]): Promise<CliRun> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args, '--yes', '--json', '--concurrency', '8'], {
    cwd: ROOT,
    env: childEnv({ RDADMIN_CONFIG_DIR: cfg, RDADMIN_URL: url, RDADMIN_TOKEN: token }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started })),
  );
}

describe(`soak: ${CLIENTS} clients heartbeating every ${CADENCE_MS} ms and an administrator's bulk commands for ${SECONDS} s`, () => {
  it('no errors, no lost writes; heartbeat latency reported', async () => {
    const agent = new Agent({ connections: CONNECTIONS, keepAliveTimeout: 30_000, pipelining: 1 });
    const clients = Array.from(
      { length: CLIENTS },
      (_, i) => new SimClient(url, { id: String(FIRST_ID + i) }, agent),
    );
    const stop = new AbortController();
    const latencies: number[] = [];
    const hbErrors: string[] = [];
    let heartbeats = 0;

    // Registration first (not measured as load): every client's first contact creates its device
    // and uploads system info, CONNECTIONS at a time.
    const loadAtStart = loadavg()[0];
    const r0 = performance.now();
    let nextClient = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (nextClient < clients.length) {
          const c = clients[nextClient++]!;
          const answer = await c.heartbeat().catch((err: Error) => ({ error: err.message }));
          if (answer.error !== undefined) hbErrors.push(`${c.info.id} (first contact): ${answer.error}`);
        }
      }),
    );
    const registrationS = (performance.now() - r0) / 1000;
    expect(clients.every((c) => c.sysinfoUploads === 1)).toBe(true);

    const t0 = performance.now();

    const loop = async (c: SimClient, offset: number) => {
      await new Promise((r) => setTimeout(r, offset));
      let next = performance.now();
      while (!stop.signal.aborted) {
        const started = performance.now();
        try {
          const answer = await c.heartbeat();
          if (answer.error !== undefined) hbErrors.push(`${c.info.id}: ${answer.error}`);
        } catch (err) {
          hbErrors.push(`${c.info.id}: ${(err as Error).message}`);
        }
        const ms = performance.now() - started;
        heartbeats++;
        latencies.push(ms);
        next += CADENCE_MS;
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    };
    const running = clients.map((c, i) => loop(c, (i / CLIENTS) * CADENCE_MS));

    // The administrator: bulk commands, one after another, until the time is up. `expected`
    // records the last confirmed value of every field the commands set.
    const expected = {
      note: new Map<string, string>(),
      user: new Map<string, string | null>(),
      status: new Map<string, number>(),
      userStatus: new Map<string, number>(),
    };
    const adminErrors: string[] = [];
    const commands: { args: string; ms: number; targets: number }[] = [];
    let k = 0;
    while (performance.now() - t0 < SECONDS * 1000) {
      const slice = `${String(FIRST_ID).slice(0, 5)}${String(k % Math.ceil(CLIENTS / SLICE)).padStart(2, '0')}%`;
      const user = `soak-u${String(k % USERS).padStart(2, '0')}`;
      const steps: { args: string[]; apply: (id: string) => void; users?: boolean }[] = [
        {
          args: ['devices', 'assign', '--id', slice, '--assign_to', `note=round-${k}`],
          apply: (id) => expected.note.set(id, `round-${k}`),
        },
        {
          args: ['devices', 'assign', '--id', slice, '--assign_to', `user_name=${user}`],
          apply: (id) => expected.user.set(id, user),
        },
        {
          args: ['devices', k % 2 ? 'enable' : 'disable', '--id', slice],
          apply: (id) => expected.status.set(id, k % 2 ? 1 : 0),
        },
        {
          args: ['users', k % 2 ? 'enable' : 'disable', '--name', `soak-u${(k >> 1) % 2}%`],
          apply: (name) => expected.userStatus.set(name, k % 2 ? 1 : 0),
          users: true,
        },
      ];
      for (const step of steps) {
        const r = await rdadmin(step.args);
        const results = (() => {
          try {
            return JSON.parse(r.stdout) as { id?: string; name?: string; ok: boolean; error?: string }[];
          } catch {
            return undefined;
          }
        })();
        if (r.code !== 0 || !results)
          adminErrors.push(`${step.args.join(' ')}: exit ${r.code}: ${r.stderr.slice(0, 500)}`);
        for (const x of results ?? []) {
          if (x.ok) step.apply((step.users ? x.name : x.id)!);
          else adminErrors.push(`${step.args.join(' ')}: ${x.id ?? x.name}: ${x.error}`);
        }
        commands.push({ args: step.args.join(' '), ms: r.ms, targets: results?.length ?? 0 });
      }
      k++;
    }
    const elapsed = (performance.now() - t0) / 1000;
    stop.abort();
    await Promise.all(running);
    await agent.close();

    // Lost writes: every value the administrator saw confirmed must be in the database.
    const db = new SQLite(join(dir, 'db.sqlite3'), { readonly: true });
    const lost: string[] = [];
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const devices = new Map(
        (
          db
            .prepare(
              'SELECT d.id, d.note, d.status, u.name AS user FROM devices d LEFT JOIN users u ON u.guid = d.user_guid',
            )
            .all() as { id: string; note: string; status: number; user: string | null }[]
        ).map((d) => [d.id, d]),
      );
      expect(devices.size).toBe(CLIENTS);
      for (const [id, note] of expected.note)
        if (devices.get(id)?.note !== note) lost.push(`device ${id} note`);
      for (const [id, user] of expected.user)
        if (devices.get(id)?.user !== user) lost.push(`device ${id} user`);
      for (const [id, st] of expected.status)
        if (devices.get(id)?.status !== st) lost.push(`device ${id} status`);
      for (const [name, st] of expected.userStatus) {
        const row = db.prepare('SELECT status FROM users WHERE name = ?').get(name) as
          | { status: number }
          | undefined;
        if (row?.status !== st) lost.push(`user ${name} status`);
      }
      const online = db.prepare('SELECT count(*) AS n FROM devices WHERE last_online IS NOT NULL').get() as {
        n: number;
      };
      expect(online.n).toBe(CLIENTS);
    } finally {
      db.close();
    }

    latencies.sort((a, b) => a - b);
    const changed = commands.reduce((n, c) => n + c.targets, 0);
    const report = {
      machine: `${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.versions.node}`,
      load_average_1m_at_start: loadAtStart,
      load_average_1m_at_end: loadavg()[0],
      clients: CLIENTS,
      cadence_ms: CADENCE_MS,
      connections: CONNECTIONS,
      registration_s: registrationS,
      seconds: Number(elapsed.toFixed(1)),
      heartbeats,
      heartbeats_per_s: Math.round(heartbeats / elapsed),
      heartbeat_errors: hbErrors.length,
      heartbeat_ms: {
        p50: percentile(latencies, 50),
        p90: percentile(latencies, 90),
        p99: percentile(latencies, 99),
        max: latencies.at(-1),
      },
      admin_commands: commands.length,
      admin_targets_changed: changed,
      admin_command_ms_p50: percentile(
        commands.map((c) => c.ms).sort((a, b) => a - b),
        50,
      ),
      admin_errors: adminErrors.length,
      checked_writes:
        expected.note.size + expected.user.size + expected.status.size + expected.userStatus.size,
      lost_writes: lost.length,
    };
    const round = (v: unknown): unknown =>
      typeof v === 'number'
        ? Math.round(v * 10) / 10
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([a, b]) => [a, round(b)]))
          : v;
    const text = JSON.stringify(round(report), null, 2);
    console.log(`soak report:\n${text}`);
    await writeFile(process.env['SOAK_REPORT'] ?? join(tmpdir(), 'soak-report.json'), `${text}\n`);

    expect(hbErrors.slice(0, 5)).toEqual([]);
    expect(adminErrors.slice(0, 5)).toEqual([]);
    expect(lost.slice(0, 20)).toEqual([]);
    expect(commands.length).toBeGreaterThanOrEqual(4);
    expect(serverLog).not.toMatch(/internal error/);
  });
});
