import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_MAX_REQUESTS } from '../../src/wire/batch';
import { seedDatabase } from '../helpers/seed';
import { assertBuilt, BIN, childEnv, ROOT, serveProcess } from '../helpers/spawn';

// Crash safety (docs/reliability.md §4): the server is killed with SIGKILL in the middle of a
// 1,000-user bulk disable run by the built `rdadmin`, then restarted on the same data folder.
// The database must be sound, every user disabled or untouched, the CLI's report honest (exit 1,
// which targets were not confirmed), and the same command run again must finish the job. Both
// ways the CLI sends bulk work run it: in batches (rdadmin serve's) and one request per user.

const N = 1000;
const PREFIX = 'crash-';
const KILL_AFTER = 100;

let dir: string;
let dbFile: string;
let token: string;
let configDir: string;
const children: ChildProcess[] = [];
const folders: string[] = [];
let report: string[] = [];

interface UserRow {
  guid: string;
  name: string;
  status: number;
  updated_at: string;
  password_hash: string;
  note: string;
  group_guid: string;
  is_admin: number;
}
let before: Map<string, UserRow>;

async function seed(): Promise<void> {
  assertBuilt();
  report = [];
  dir = await mkdtemp(join(tmpdir(), 'rdadmin-crash-'));
  configDir = await mkdtemp(join(tmpdir(), 'rdadmin-crash-cfg-'));
  folders.push(dir, configDir);
  dbFile = join(dir, 'db.sqlite3');
  const users = Array.from({ length: N }, (_, i) => ({
    name: `${PREFIX}${String(i).padStart(4, '0')}`,
    note: `seed ${i}`,
  }));
  token = await seedDatabase(dbFile, users, 'crash');
  before = new Map(readUsers().map((u) => [u.guid, u]));
  expect(before.size).toBe(N);
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const f of folders) await rm(f, { recursive: true, force: true });
});

function readUsers(): UserRow[] {
  const db = new SQLite(dbFile, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT guid, name, status, updated_at, password_hash, note, group_guid, is_admin FROM users WHERE name LIKE '${PREFIX}%'`,
      )
      .all() as UserRow[];
  } finally {
    db.close();
  }
}

/** `rdadmin serve` in a child process on a free port; resolves with its URL once it listens. */
async function startServer(): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const { child, url, log } = await serveProcess(dir, configDir, children);
  return { child, url, stderr: log };
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The bulk disable run; `onResults(n)` sees the count of confirmed results as they stream in. */
function disableRun(url: string, extra: string[], onResults?: (n: number) => void): Promise<CliResult> {
  const child = spawn(
    process.execPath,
    [BIN, 'users', 'disable', '--name', PREFIX, '--yes', '--json', '--concurrency', '8', ...extra],
    {
      cwd: ROOT,
      env: childEnv({ RDADMIN_CONFIG_DIR: configDir, RDADMIN_URL: url, RDADMIN_TOKEN: token }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    onResults?.(stdout.split('"ok":true').length - 1);
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

interface Entry {
  guid: string;
  name: string;
  ok: boolean;
  attempted?: boolean;
  outcome?: 'failed' | 'unknown' | 'not_attempted';
  error?: string;
}

const MODES = [
  // Two batches in flight: the most requests that can be sent and not yet answered.
  { mode: 'in batches', extra: [] as string[], inFlight: 2 * BATCH_MAX_REQUESTS },
  { mode: 'one request per user', extra: ['--no-batch'], inFlight: 8 },
];

describe.each(MODES)(
  'SIGKILL of the server in the middle of a 1,000-user bulk disable, $mode',
  ({ extra, inFlight }) => {
    beforeAll(seed, 60_000);
    let first: CliResult;
    let entries: Entry[];
    let url2: string;

    it('the CLI reports the failure honestly: exit 1, each target done, not done, not confirmed or not attempted', async () => {
      const server = await startServer();
      let killed = false;
      // Kill on the server's own count of answered disables (its request log), not on the CLI's
      // stdout, which may reach the pipe in blocks.
      const answered = () => (server.stderr().match(/ POST \/api\/users\/\S+\/disable 200 /g) ?? []).length;
      server.child.stderr!.on('data', () => {
        if (!killed && answered() >= KILL_AFTER) {
          killed = true;
          server.child.kill('SIGKILL');
        }
      });
      first = await disableRun(server.url, extra);
      expect(killed, first.stderr).toBe(true);
      expect(first.code, first.stderr).toBe(1);
      entries = JSON.parse(first.stdout) as Entry[];
      expect(entries).toHaveLength(N);
      expect(new Set(entries.map((e) => e.guid))).toEqual(new Set(before.keys()));
      const by = (o: string) => entries.filter((e) => (e.ok ? 'done' : e.outcome) === o);
      const [done, failed, unknown, skipped] = ['done', 'failed', 'unknown', 'not_attempted'].map(by);
      // The server answered at least KILL_AFTER disables; an answer that died with the server before
      // it reached the CLI is a target the CLI reports as not confirmed.
      expect(done!.length + unknown!.length).toBeGreaterThanOrEqual(KILL_AFTER);
      expect(done!.length).toBeGreaterThan(0);
      expect(done!.length + failed!.length + unknown!.length + skipped!.length).toBe(N);
      // Requests in flight when the server died got no answer: not confirmed, never "failed" or "done".
      expect(unknown!.length).toBeGreaterThanOrEqual(1);
      // At most those in flight, and as many again sent on a pooled connection already dead.
      expect(unknown!.length).toBeLessThanOrEqual(2 * inFlight);
      for (const e of unknown!)
        expect(e.error).toMatch(/^not confirmed \(outcome unknown\): no answer from the server/);
      // Once the server refused connections, nothing new was started.
      for (const e of failed!) expect(e.error).toMatch(/^not done: cannot reach .*connection refused/);
      expect(failed!.length).toBeLessThanOrEqual(inFlight);
      expect(skipped!.length).toBeGreaterThan(0); // the run stopped before the end
      for (const e of skipped!) {
        expect(e.attempted).toBe(false);
        expect(e.error).toBe('not attempted: the run stopped on the server became unreachable');
      }
      expect(first.stderr).toContain(
        `error: Disabled ${done!.length} of ${N} users; ${failed!.length} failed, ${unknown!.length} not confirmed (outcome unknown), ${skipped!.length} not attempted. Stopped: cannot reach`,
      );
      expect(first.stderr).toMatch(/hint: the targets marked NOT CONFIRMED may or may not have changed/);
      expect(first.stderr).not.toMatch(/\n\s+at /); // no stack trace
      report.push(
        `killed after ${KILL_AFTER}+ confirmed; CLI exit ${first.code}: ${done!.length} done, ${failed!.length} not done (refused), ${unknown!.length} not confirmed, ${skipped!.length} not attempted`,
      );
    }, 60_000);

    it('after a restart on the same folder the database is sound and every user is disabled or untouched', async () => {
      const server = await startServer();
      url2 = server.url;
      const db = new SQLite(dbFile, { readonly: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(db.pragma('foreign_key_check')).toEqual([]);
      } finally {
        db.close();
      }
      const after = new Map(readUsers().map((u) => [u.guid, u]));
      expect(after.size).toBe(N);
      const outcome = new Map(entries.map((e) => [e.guid, e.ok ? 'done' : e.outcome!]));
      let disabled = 0;
      for (const [guid, was] of before) {
        const now = after.get(guid)!;
        // Nothing but status and updated_at may change, and only together.
        expect({ ...now, status: 0, updated_at: '' }).toEqual({ ...was, status: 0, updated_at: '' });
        if (now.status === 0) {
          disabled++;
          expect(now.updated_at >= was.updated_at).toBe(true);
        } else {
          expect(now).toEqual(was); // untouched
        }
        const o = outcome.get(guid);
        if (o === 'done') expect(now.status, `${was.name} reported done`).toBe(0);
        if (o === 'failed' || o === 'not_attempted') expect(now.status, `${was.name} reported ${o}`).toBe(1);
      }
      expect(disabled).toBeGreaterThanOrEqual(entries.filter((e) => e.ok).length);
      report.push(`after restart: integrity_check ok, ${disabled} disabled, ${N - disabled} untouched`);
      // Each disabled user has its audit record (written in the same transaction as the change).
      const audit = new SQLite(dbFile, { readonly: true });
      try {
        const rows = audit
          .prepare("SELECT detail FROM audit_console WHERE detail LIKE 'disabled user ''crash-%'")
          .all() as { detail: string }[];
        expect(rows).toHaveLength(disabled);
      } finally {
        audit.close();
      }
    }, 60_000);

    it('the same command run again finishes the job (exit 0)', async () => {
      const again = await disableRun(url2, extra);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain(`Disabled ${N} users.`);
      expect(readUsers().every((u) => u.status === 0)).toBe(true);
      report.push(`second run: exit ${again.code}, ${N} disabled`);
      console.log(`crash: ${report.join('; ')}`);
    }, 60_000);
  },
);
