import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDatabase } from '../helpers/seed';
import { assertBuilt, BIN, childEnv, ROOT, rdadminInPty, serveProcess } from '../helpers/spawn';

// SIGINT (Ctrl-C) and SIGTERM (a cancelled CI job) in the middle of a bulk run of the built
// `rdadmin` against a real `rdadmin serve` (README "Output, safety and exit codes"). The run must
// stop starting requests, wait for those under way, print every result (a valid JSON array with
// --json, whose done entries are exactly the users the database shows changed), give the terminal
// back, say on stderr that it was interrupted, and exit 130 (SIGINT) or 143 (SIGTERM). Signals are
// sent on what the processes print (the server's request log, the CLI's stderr), never on a timer.
// Without signal handling the CLI dies on the spot: no exit code, a cut JSON array, no summary.

const N = 1500;
/** Each test works on users of its own (name prefix), so that the tests do not depend on each other. */
const SETS = {
  json: 'int-json-',
  term: 'int-term-',
  stuck: 'int-stuck-',
  twice: 'int-twice-',
  list: 'int-list-',
};
const TTY_SET = 'int-tty-';
const TTY_N = 300;
/** The server has answered this many of the run's disables when the CLI gets the signal. */
const SIGNAL_AFTER = 50;

let dir: string;
let dbFile: string;
let token: string;
let configDir: string;
let server: { child: ChildProcess; url: string; log: () => string };
const children: ChildProcess[] = [];

beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(join(tmpdir(), 'rdadmin-interrupt-'));
  configDir = await mkdtemp(join(tmpdir(), 'rdadmin-interrupt-cfg-'));
  dbFile = join(dir, 'db.sqlite3');
  const sets: [string, number][] = [
    ...Object.values(SETS).map((p): [string, number] => [p, N]),
    [TTY_SET, TTY_N],
  ];
  const users = sets.flatMap(([prefix, n]) =>
    Array.from({ length: n }, (_, i) => ({ name: `${prefix}${String(i).padStart(4, '0')}` })),
  );
  token = await seedDatabase(dbFile, users, 'interrupt');
  server = await startServer();
}, 120_000);

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGCONT');
      c.kill('SIGKILL');
    }
  }
  await rm(dir, { recursive: true, force: true });
  await rm(configDir, { recursive: true, force: true });
});

/** `rdadmin serve` in a child process on a free port; resolves with its URL once it listens. */
function startServer(): Promise<typeof server> {
  return serveProcess(dir, configDir, children);
}

/** Disables the server has answered so far (its request log; in batches too, one line each). */
function answered(): number {
  return (server.log().match(/ POST \/api\/users\/\S+\/disable 200 /g) ?? []).length;
}

/**
 * Resolves once `test` holds, checked on each piece of output of `stream`; fails when the stream
 * ends first (its process exited: without signal handling, the CLI dies on the first signal).
 */
function when(stream: NodeJS.ReadableStream, test: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      stream.removeListener('data', check);
      stream.removeListener('end', ended);
    };
    const check = () => {
      if (!test()) return;
      stop();
      resolve();
    };
    const ended = () => {
      stop();
      reject(new Error('the process ended before what the test waits for'));
    };
    stream.on('data', check);
    stream.on('end', ended);
    check();
  });
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From the first signal to the exit. */
  ms: number;
}

/** The CLI as a CI job runs it: stdout and stderr piped, no stdin. */
function cli(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: childEnv({ RDADMIN_CONFIG_DIR: configDir, RDADMIN_URL: server.url, RDADMIN_TOKEN: token }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  let signalledAt = 0;
  const done = new Promise<Finished>((resolve) =>
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr, ms: performance.now() - signalledAt }),
    ),
  );
  return {
    child,
    done,
    stderr: () => stderr,
    kill(signal: NodeJS.Signals) {
      signalledAt ||= performance.now();
      child.kill(signal);
    },
  };
}

interface UserRow {
  guid: string;
  name: string;
  status: number;
}

function readUsers(prefix: string): UserRow[] {
  const db = new SQLite(dbFile, { readonly: true });
  try {
    return db
      .prepare('SELECT guid, name, status FROM users WHERE name LIKE ?')
      .all(`${prefix}%`) as UserRow[];
  } finally {
    db.close();
  }
}

interface Entry {
  guid: string;
  name: string;
  action: string;
  ok: boolean;
  attempted?: boolean;
  outcome?: 'failed' | 'unknown' | 'not_attempted';
  error?: string;
}

function outcomes(entries: Entry[]) {
  const by = (o: string) => entries.filter((e) => (e.ok ? 'done' : e.outcome) === o);
  return { done: by('done'), failed: by('failed'), unknown: by('unknown'), skipped: by('not_attempted') };
}

const disabledNames = (prefix: string) =>
  readUsers(prefix)
    .filter((u) => u.status === 0)
    .map((u) => u.name)
    .sort();

describe('a signal in the middle of a bulk run', () => {
  it('SIGINT with --json, one request per user: exit 130, a valid JSON array whose done entries are exactly the users disabled, the rest not attempted, a summary', async () => {
    const prefix = SETS.json;
    const before = answered();
    const run = cli(['users', 'disable', '--name', prefix, '--yes', '--json', '--no-batch']);
    await when(server.child.stderr!, () => answered() - before >= SIGNAL_AFTER);
    run.kill('SIGINT');
    const r = await run.done;

    expect(r.signal, r.stderr).toBeNull(); // it ended itself, rather than being ended by the signal
    expect(r.code, r.stderr).toBe(130);
    const entries = JSON.parse(r.stdout) as Entry[]; // the whole array, closed
    expect(entries).toHaveLength(N);
    expect(new Set(entries.map((e) => e.name)).size).toBe(N);
    const { done, failed, unknown, skipped } = outcomes(entries);
    // The requests under way when the signal came were answered (a local server answers in
    // milliseconds, well within the wait): each target is done or not attempted.
    expect(failed).toEqual([]);
    expect(unknown).toEqual([]);
    expect(done.length).toBeGreaterThanOrEqual(SIGNAL_AFTER);
    expect(skipped.length).toBeGreaterThan(0); // the run was cut short
    for (const e of skipped) {
      expect(e.attempted).toBe(false);
      expect(e.error).toBe('not attempted: interrupted by SIGINT');
    }
    // What the report says was done is exactly what the database shows done.
    expect(done.map((e) => e.name).sort()).toEqual(disabledNames(prefix));
    expect(r.stderr).toContain(
      `error: interrupted by SIGINT: Disabled ${done.length} of ${N} users; 0 failed, ${skipped.length} not attempted.\n`,
    );
    expect(r.stderr).toContain(
      'hint: run the same command again to finish the job (it selects its targets afresh)',
    );
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 60_000);

  it('SIGTERM without --json, in batches: exit 143, a result line per user, the done ones exactly those disabled', async () => {
    const prefix = SETS.term;
    const before = answered();
    const run = cli(['users', 'disable', '--name', prefix, '--yes']);
    await when(server.child.stderr!, () => answered() - before >= SIGNAL_AFTER);
    run.kill('SIGTERM');
    const r = await run.done;

    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(143);
    const done = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => /^Disabled (\S+)$/.exec(line)?.[1]);
    expect(done).not.toContain(undefined); // stdout: only whole result lines
    expect(done.length).toBeGreaterThanOrEqual(SIGNAL_AFTER);
    expect([...(done as string[])].sort()).toEqual(disabledNames(prefix));
    const skipped =
      r.stderr.match(/^FAILED to disable int-term-\d+: not attempted: interrupted by SIGTERM$/gm) ?? [];
    expect(skipped.length).toBeGreaterThan(0);
    expect(done.length + skipped.length).toBe(N);
    expect(r.stderr).toContain(
      `error: interrupted by SIGTERM: Disabled ${done.length} of ${N} users; 0 failed, ${skipped.length} not attempted.\n`,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('requests under way that get no answer within the wait are reported NOT CONFIRMED, and the run still ends', async () => {
    const prefix = SETS.stuck;
    const before = answered();
    const run = cli(['users', 'disable', '--name', prefix, '--yes', '--json', '--no-batch']);
    await when(server.child.stderr!, () => answered() - before >= SIGNAL_AFTER);
    // The server stops answering (frozen, not gone: the requests sent to it stay under way).
    server.child.kill('SIGSTOP');
    let r: Finished;
    try {
      run.kill('SIGINT');
      r = await run.done;
    } finally {
      server.child.kill('SIGCONT');
    }
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(
      /^interrupted by SIGINT: starting nothing new; waiting at most 5 s for the answers to the requests already sent/m,
    );
    const entries = JSON.parse(r.stdout) as Entry[];
    expect(entries).toHaveLength(N);
    const { done, failed, unknown, skipped } = outcomes(entries);
    expect(failed).toEqual([]);
    // The requests that were under way: at most --concurrency (8) of them.
    expect(unknown.length).toBeGreaterThanOrEqual(1);
    expect(unknown.length).toBeLessThanOrEqual(8);
    for (const e of unknown)
      expect(e.error).toBe('not confirmed (outcome unknown): no answer within 5 s of SIGINT');
    expect(r.stderr).toContain(
      `error: interrupted by SIGINT: Disabled ${done.length} of ${N} users; 0 failed, ${unknown.length} not confirmed (outcome unknown), ${skipped.length} not attempted.\n`,
    );
    expect(r.stderr).toMatch(/hint: the targets marked NOT CONFIRMED may or may not have changed/);
    // Every user reported done is disabled; none of those not attempted is (the unknown ones: either).
    const disabled = new Set(disabledNames(prefix));
    for (const e of done) expect(disabled.has(e.name), e.name).toBe(true);
    for (const e of skipped) expect(disabled.has(e.name), e.name).toBe(false);
  }, 60_000);

  it('a second signal stops the process at once', async () => {
    const prefix = SETS.twice;
    const before = answered();
    const run = cli(['users', 'disable', '--name', prefix, '--yes', '--json', '--no-batch']);
    await when(server.child.stderr!, () => answered() - before >= SIGNAL_AFTER);
    server.child.kill('SIGSTOP');
    let r: Finished;
    try {
      run.kill('SIGINT');
      // It waits for the answers under way (which do not come) ...
      await when(run.child.stderr!, () => /waiting at most 5 s/.test(run.stderr()));
      run.kill('SIGTERM'); // ... unless told again
      r = await run.done;
    } finally {
      server.child.kill('SIGCONT');
    }
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(143);
    expect(r.ms).toBeLessThan(4_000); // not the 5 s wait
    expect(r.stderr).toContain(
      'error: SIGTERM again: stopped at once, without the report of what was done\n',
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('on a terminal, Ctrl-C gives the terminal back (cursor shown, line wrap on) and prints the summary', async () => {
    // pty_session.py types Ctrl-C once the progress bar shows: the terminal sends SIGINT.
    const r = await rdadminInPty(
      ['users', 'disable', '--name', TTY_SET, '--yes', '--no-batch'],
      childEnv({ RDADMIN_CONFIG_DIR: configDir, RDADMIN_URL: server.url, RDADMIN_TOKEN: token }),
      { expect: '░', answer: '\\x03' },
    );
    expect(r.code, r.transcript + r.helperErr).toBe(130);
    const t = r.transcript;
    // The bar hid the cursor and turned line wrap off; both come back after the last time it did.
    expect(t.lastIndexOf('\u001b[?25l')).toBeGreaterThanOrEqual(0);
    expect(t.lastIndexOf('\u001b[?25h')).toBeGreaterThan(t.lastIndexOf('\u001b[?25l'));
    expect(t.lastIndexOf('\u001b[?7h')).toBeGreaterThan(t.lastIndexOf('\u001b[?7l'));
    const m =
      /error: interrupted by SIGINT: Disabled (\d+) of 300 users; 0 failed, (\d+) not attempted\./.exec(t);
    expect(m, t.slice(-2000)).not.toBeNull();
    const doneLines = t.match(/^Disabled int-tty-\d+$/gm) ?? [];
    expect(doneLines.length).toBe(Number(m![1]));
    expect(doneLines.map((l) => l.slice('Disabled '.length)).sort()).toEqual(disabledNames(TTY_SET));
  }, 60_000);
});

describe('a signal outside a bulk run', () => {
  it('a --json listing cut short still prints a valid JSON array, and exits 130', async () => {
    const pages = () => (server.log().match(/ GET \/api\/users 200 /g) ?? []).length;
    const before = pages();
    const run = cli(['users', 'view', '--name', SETS.list, '--json', '--no-batch']);
    // The first page is answered, then the server stops answering: the listing is under way.
    await when(server.child.stderr!, () => pages() > before);
    server.child.kill('SIGSTOP');
    let r: Finished;
    try {
      run.kill('SIGINT');
      r = await run.done;
    } finally {
      server.child.kill('SIGCONT');
    }
    expect(r.code, r.stderr).toBe(130);
    const rows = JSON.parse(r.stdout) as { name: string }[];
    expect(rows.length).toBeLessThan(N);
    for (const u of rows) expect(u.name.startsWith(SETS.list)).toBe(true);
    expect(r.stderr).toBe('error: interrupted by SIGINT\n');
    expect(r.ms).toBeLessThan(4_000); // a read is not waited for
  }, 60_000);
});
