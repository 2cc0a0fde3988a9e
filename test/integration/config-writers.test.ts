import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openConfig } from '../../src/cli/config';
import { CliError, Exit } from '../../src/cli/errors';
import { cli, tempConfigDir } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';
import { assertBuilt, BIN, childEnv, ROOT, type Spawned } from '../helpers/spawn';

// Commands that change config.json at the same moment (CI jobs on one runner, each logging in to a
// profile of its own): every change reported saved is in the file afterwards. Each change is made
// under config.json.lock to the file as it is then; reading takes no lock. The built binary,
// spawned many times at once; run `npm run build` first.

let cfg: string;
beforeAll(() => assertBuilt());
beforeEach(async () => {
  cfg = await tempConfigDir();
});

/** `rdadmin …args` in a child process, `stdin` written to it. */
function rdadmin(args: string[], stdin = ''): Promise<Spawned & { ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: childEnv({ RDADMIN_CONFIG_DIR: cfg }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }));
    child.stdin.end(stdin);
  });
}

async function savedFile(): Promise<{
  currentProfile: string;
  profiles: Record<string, Record<string, unknown>>;
}> {
  return JSON.parse(await readFile(join(cfg, 'config.json'), 'utf8'));
}

/** A live node process (a lock holder that is not this one), and how to end it. */
let holder: ChildProcess;
beforeAll(() => {
  holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
});
afterAll(() => {
  holder.kill();
});

describe('commands changing the config at once', () => {
  it('each keep their change: profiles of their own, and keys of one profile', {
    timeout: 60_000,
  }, async () => {
    const runs = await Promise.all([
      ...Array.from({ length: 24 }, (_, i) =>
        rdadmin(['config', 'set', 'url', `http://h${i}.example:1`, '--profile', `p${i}`]),
      ),
      rdadmin(['config', 'set', 'url', 'http://shared.example:1', '--profile', 'shared']),
      rdadmin(['config', 'set', 'timeout', '7', '--profile', 'shared']),
      rdadmin(['config', 'set', 'concurrency', '9', '--profile', 'shared']),
      rdadmin(['config', 'set', 'insecure', 'true', '--profile', 'shared']),
      rdadmin(['config', 'set', 'ca', '/etc/ca.pem', '--profile', 'shared']),
      rdadmin(['config', 'set', 'token', '-', '--profile', 'shared'], 'shared-token\n'),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    runs.slice(0, 24).forEach((r, i) => {
      expect(r.stderr).toContain(`Set url in profile 'p${i}' to http://h${i}.example:1.`);
    });
    const saved = await savedFile();
    for (let i = 0; i < 24; i++) expect(saved.profiles[`p${i}`]).toEqual({ url: `http://h${i}.example:1` });
    expect(saved.profiles['shared']).toEqual({
      url: 'http://shared.example:1',
      timeout: 7,
      concurrency: 9,
      insecure: true,
      ca: '/etc/ca.pem',
      token: 'shared-token',
    });
    // Still 0600, written whole (no lock or temporary file left beside it).
    expect((await stat(join(cfg, 'config.json'))).mode & 0o777).toBe(0o600);
    expect(await readdir(cfg)).toEqual(['config.json']);
  });

  it('logins each save their session, and each saved session works', { timeout: 60_000 }, async () => {
    const s: TestServer = await startTestServer();
    try {
      const runs = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          rdadmin(
            ['login', '--url', s.url, '--username', 'admin', '--password-stdin', '--profile', `ci${i}`],
            'test1234\n',
          ),
        ),
      );
      runs.forEach((r, i) => {
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toContain(`saved in profile 'ci${i}'`);
      });
      const saved = await savedFile();
      const tokens = new Set<unknown>();
      for (let i = 0; i < 6; i++) {
        const p = saved.profiles[`ci${i}`];
        expect(p?.url).toBe(s.url);
        tokens.add(p?.token);
        expect((await s.fetch('/api/users?current=1&pageSize=1', { token: String(p?.token) })).status).toBe(
          200,
        );
      }
      expect(tokens.size).toBe(6);
      expect(saved.currentProfile).toMatch(/^ci\d$/);
    } finally {
      await s.close();
    }
  });
});

describe('a login whose session cannot be saved', () => {
  it('fails, and ends the session rather than leave it open with its token nowhere', async () => {
    const s = await startTestServer();
    try {
      await mkdir(join(cfg, 'config.json.lock')); // no lock can be taken there
      const r = await cli(['login', '--url', s.url, '--username', 'admin', '--password-stdin'], {
        env: { RDADMIN_CONFIG_DIR: cfg },
        stdin: 'test1234\n',
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`cannot change ${join(cfg, 'config.json')}: EISDIR`);
      expect(r.stderr).not.toContain('Logged in');
      const calls = s.logs
        .filter((l) => /^POST \/api\/log(in|out) /.test(l))
        .map((l) => l.split(' ', 3).join(' '));
      expect(calls).toEqual(['POST /api/login 200', 'POST /api/logout 200']);
      expect(existsSync(join(cfg, 'config.json'))).toBe(false);
    } finally {
      await s.close();
    }
  });
});

describe('config.json.lock', () => {
  const lock = () => join(cfg, 'config.json.lock');

  it('a lock left by a process that is gone is taken over at once, one left empty too', async () => {
    await writeFile(lock(), `2147483646 ${hostname()}\n`);
    const dead = await rdadmin(['config', 'set', 'url', 'http://a.example:1', '--profile', 'a']);
    expect(dead.code, dead.stderr).toBe(0);
    expect(dead.ms).toBeLessThan(5_000);
    expect(existsSync(lock())).toBe(false);

    // Empty, and for longer than it takes to write a pid: left by a crash.
    await writeFile(lock(), '');
    const old = new Date(Date.now() - 60_000);
    await utimes(lock(), old, old);
    const empty = await rdadmin(['config', 'set', 'url', 'http://b.example:1', '--profile', 'b']);
    expect(empty.code, empty.stderr).toBe(0);
    expect(existsSync(lock())).toBe(false);
    expect(Object.keys((await savedFile()).profiles).sort()).toEqual(['a', 'b']);
  });

  it("a live process's lock is waited for: the change is made once it lets go", async () => {
    await writeFile(lock(), `${holder.pid} ${hostname()}\n`);
    const set = rdadmin(['config', 'set', 'url', 'http://c.example:1', '--profile', 'c']);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(existsSync(join(cfg, 'config.json'))).toBe(false); // not written while the lock is held
    await rm(lock());
    const r = await set;
    expect(r.code, r.stderr).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(1_000);
    expect((await savedFile()).profiles['c']).toEqual({ url: 'http://c.example:1' });
    expect(existsSync(lock())).toBe(false);
  });

  it('a lock held for longer than the wait fails the change loudly, and nothing is written', async () => {
    await writeFile(lock(), `${holder.pid} ${hostname()}\n`);
    const config = await openConfig({ RDADMIN_CONFIG_DIR: cfg }, { lockWaitMs: 300 });
    const err = await config.setProfile('d', { url: 'http://d.example:1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(Exit.failed);
    expect((err as CliError).message).toBe(
      `${join(cfg, 'config.json')} is being changed by another rdadmin (pid ${holder.pid}) for more than 0.3 s: nothing was saved`,
    );
    expect((err as CliError).hint).toContain(`delete ${lock()}`);
    expect(existsSync(join(cfg, 'config.json'))).toBe(false);
    expect(await readFile(lock(), 'utf8')).toBe(`${holder.pid} ${hostname()}\n`); // left alone
  });
});
