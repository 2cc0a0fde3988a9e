import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';
import {
  assertBuilt,
  BIN,
  childEnv,
  type Env,
  ROOT,
  rdadmin,
  rdadminInPty,
  runProcess,
  screen,
} from '../helpers/spawn';

// The built binary, spawned the way a person or a script runs it (engineering.md §8): exit codes,
// piping, --help, colour, JSON, the confirmation prompt on a real terminal, and `serve --demo`.
// Run `npm run build` first.

const ESC = '\u001b[';

let s: TestServer;
let configDir: string;
const cleanup: string[] = [];

beforeAll(async () => {
  assertBuilt();
  s = await startTestServer();
  configDir = await mkdtemp(join(tmpdir(), 'rdadmin-e2e-cfg-'));
  cleanup.push(configDir);
});

afterAll(async () => {
  await s?.close();
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

/** Environment of a CLI run against the test server (no CI, no colour switches, fresh config). */
function env(extra: Env = {}): NodeJS.ProcessEnv {
  return childEnv({ RDADMIN_CONFIG_DIR: configDir, RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token, ...extra });
}

async function status(name: string): Promise<number | undefined> {
  return (await s.store.users.getByName(name))?.status;
}

async function statuses(names: string[]): Promise<(number | undefined)[]> {
  return Promise.all(names.map(status));
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('help, version and usage errors', () => {
  it('--help prints the usage on stdout and exits 0', async () => {
    const r = await rdadmin(['--help'], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: rdadmin');
    expect(r.stdout).toContain('Exit codes: 0 ok, 1 failed, 2 usage, 3 not confirmed');
    expect(r.stderr).toBe('');
  });

  it('users view --help lists both spellings of --group_name and examples', async () => {
    const r = await rdadmin(['users', 'view', '--help'], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: rdadmin users view|list [options]');
    expect(r.stdout).toMatch(/--group_name, --group-name <group>/);
    expect(r.stdout).toContain('\nExamples:\n  $ rdadmin users view --group_name Default\n');
  });

  it('--version prints the version only', async () => {
    const r = await rdadmin(['--version'], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('0.1.0\n');
  });

  it('an unknown option exits 2 with the message on stderr', async () => {
    const r = await rdadmin(['users', 'view', '--frobnicate'], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown option '--frobnicate'");
    expect(r.stdout).toBe('');
  });

  it('an unknown command exits 2 with the message on stderr', async () => {
    const r = await rdadmin(['frobnicate'], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: unknown command 'frobnicate'");
    expect(r.stdout).toBe('');
  });
});

describe('exit codes', () => {
  it('no server URL configured: 2', async () => {
    const r = await rdadmin(['users', 'view'], env({ RDADMIN_URL: undefined, RDADMIN_TOKEN: undefined }));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: no server URL');
    expect(r.stdout).toBe('');
  });

  it('an unreachable server: 5, "cannot reach", no stack trace', async () => {
    const port = await closedPort();
    const r = await rdadmin(
      ['users', 'view', '--timeout', '5'],
      env({ RDADMIN_URL: `http://127.0.0.1:${port}` }),
    );
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(`error: cannot reach http://127.0.0.1:${port}`);
    expect(r.stderr).not.toContain('    at ');
    expect(r.stdout).toBe('');
  });

  it('a wrong token: 4', async () => {
    const r = await rdadmin(['users', 'view'], env({ RDADMIN_TOKEN: 'rdt_not-a-real-token' }));
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^error: not authenticated/m);
    expect(r.stderr).not.toContain('    at ');
    expect(r.stdout).toBe('');
  });

  it('a token without the needed permission stops a bulk run: 4, nothing changed', async () => {
    const names = ['perm-1', 'perm-2'];
    await s.seedUsers(names);
    const readOnly = await s.makeToken('user:r');
    const r = await rdadmin(
      ['users', 'disable', '--name', 'perm-', '--yes'],
      env({ RDADMIN_TOKEN: readOnly }),
    );
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/permission denied/);
    expect(await statuses(names)).toEqual([1, 1]);
  });

  it('several matches, no terminal, no --yes: 3 and nothing changed', async () => {
    const names = ['gate-1', 'gate-2', 'gate-3'];
    await s.seedUsers(names);
    const r = await rdadmin(['users', 'disable', '--name', 'gate-'], env());
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      'error: 3 users match; confirmation is needed and there is no terminal to ask',
    );
    expect(r.stderr).toContain('hint: pass --yes to disable them, or --dry-run to list them');
    expect(r.stdout).toBe('');
    expect(await statuses(names)).toEqual([1, 1, 1]);
  });

  it('the same with --yes: 0, every match disabled', async () => {
    const names = ['yes-1', 'yes-2', 'yes-3'];
    await s.seedUsers(names);
    const r = await rdadmin(['users', 'disable', '--name', 'yes-', '--yes'], env());
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'Disabled yes-1',
      'Disabled yes-2',
      'Disabled yes-3',
    ]);
    expect(r.stderr).toContain('Disabled 3 users.');
    expect(await statuses(names)).toEqual([0, 0, 0]);
  });

  it('deleting an enabled user fails: 1 with the summary on stderr', async () => {
    await s.seedUsers(['del-enabled']);
    const r = await rdadmin(['users', 'delete', '--name', 'del-enabled'], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^FAILED to delete del-enabled: .*disable it first/m);
    expect(r.stderr).toContain('error: Deleted 0 of 1 users; 1 failed.');
    expect(r.stdout).toBe('');
    expect(await status('del-enabled')).toBe(1);
  });
});

describe('what an API command loads', () => {
  it("--help and a verb's --help load no crypto module (Web Crypto alone is about 7 ms of start-up)", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rdadmin-e2e-load-'));
    cleanup.push(dir);
    const preload = join(dir, 'loaded.cjs');
    await writeFile(
      preload,
      "process.on('exit', () => require('node:fs').writeSync(2, '\\n' + JSON.stringify(process.moduleLoadList) + '\\n'));",
    );
    for (const args of [['--help'], ['users', 'view', '--help']]) {
      const r = await runProcess(process.execPath, ['--require', preload, BIN, ...args], env());
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Usage: rdadmin');
      const loaded: string[] = JSON.parse(r.stderr.trim().split('\n').at(-1)!);
      expect(loaded).toContain('NativeModule fs'); // the list is the real one
      expect(loaded.filter((m) => /crypto/.test(m))).toEqual([]);
    }
  });

  it("the client bundle evaluates an area's module (and builds its schemas) only when the area is first used", async () => {
    const script =
      "const c = require('./dist/lazy/client.js'); const api = c.createApi({ baseUrl: process.argv[1], token: process.argv[2], timeoutMs: 5000, connections: 1, pageSize: 5 });" +
      ' const before = c.loadedAreas(); (async () => { let n = 0; for await (const u of api.users.list({})) if (u.guid) n++;' +
      " const afterUsers = c.loadedAreas(); const methods = {}; for (const k of ['users', 'devices', 'settings', 'strategies', 'auth', 'audits', 'userGroups', 'deviceGroups', 'ab'])" +
      " methods[k] = Object.values(api[k]).every((f) => typeof f === 'function') && Object.keys(api[k]).length > 0;" +
      ' await api.close(); console.log(JSON.stringify({ before, afterUsers, n, all: c.loadedAreas(), methods, same: api.users === api.users })); })();';
    const r = await runProcess(process.execPath, ['-e', script, s.url, s.token], env());
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got.before).toEqual([]);
    expect(got.afterUsers).toEqual(['users']);
    expect(got.n).toBeGreaterThan(0);
    expect([...got.all].sort()).toEqual(
      ['ab', 'audits', 'auth', 'deviceGroups', 'devices', 'strategies', 'userGroups', 'users'].sort(),
    );
    expect(Object.values(got.methods)).toEqual(Array(9).fill(true));
    expect(got.same).toBe(true);
  });

  it("the HTTP client bundle works without loading node:http2 (undici's HTTP/2 client waits for first use)", async () => {
    const script =
      "const c = require('./dist/lazy/client.js'); const t = new c.Transport({ baseUrl: process.argv[1], token: process.argv[2], timeoutMs: 5000, connections: 1 });" +
      " t.call('GET', '/api/users', { query: { pageSize: 1 } }).then(async (r) => { await t.close();" +
      " console.log(JSON.stringify({ total: r.total, http2: process.moduleLoadList.filter((m) => m.includes('http2')) })); });";
    const r = await runProcess(process.execPath, ['-e', script, s.url, s.token], env());
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ total: expect.any(Number), http2: [] });
  });
});

describe('piping', () => {
  it('`users view | head -1` ends quietly with exit 0', async () => {
    await s.seedUsers(Array.from({ length: 200 }, (_, i) => `pipe-${String(i).padStart(3, '0')}`));
    const dir = await mkdtemp(join(tmpdir(), 'rdadmin-e2e-pipe-'));
    cleanup.push(dir);
    // $? of the writer is kept in a file: the shell's own status is head's.
    const script = '{ "$NODE" "$BIN" users view 2>"$DIR/err"; echo $? >"$DIR/rc"; } | head -1';
    const r = await runProcess('sh', ['-c', script], env({ NODE: process.execPath, BIN, DIR: dir }));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^[^\n]+\t[^\n]*\n$/); // one tab-separated line, no header
    expect((await readFile(join(dir, 'rc'), 'utf8')).trim()).toBe('0');
    const err = await readFile(join(dir, 'err'), 'utf8');
    expect(err).not.toContain('EPIPE');
    expect(err).not.toContain('Error');
    expect(err).toBe('');
  });
});

describe('output that cannot be written', () => {
  it('stdout on a full disk (/dev/full): the command ends, says the output is incomplete, exit 1, no stack', async () => {
    const script = '"$NODE" "$BIN" users view --json >/dev/full';
    const r = await runProcess('sh', ['-c', script], env({ NODE: process.execPath, BIN }));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: the output could not be written (no space left on the device), so it is incomplete; the command itself ran to its end\n',
    );
    const help = await runProcess(
      'sh',
      ['-c', '"$NODE" "$BIN" --help >/dev/full'],
      env({ NODE: process.execPath, BIN }),
    );
    expect(help.code).toBe(1);
    expect(help.stderr).not.toContain('    at ');
  });
});

describe('folders that cannot be made', () => {
  // procfs answers ENOENT for a new folder whose parent exists: Node's recursive mkdir then loops
  // forever on the main thread. Spawned, with runProcess's kill after 15 s, so a regression fails
  // instead of hanging the suite.
  it.skipIf(!existsSync('/proc/self'))(
    'a config or data folder under /proc: exit 2 at once, naming the folder',
    async () => {
      const set = await runProcess(
        process.execPath,
        [BIN, 'config', 'set', 'url', 'http://127.0.0.1:1'],
        childEnv({ RDADMIN_CONFIG_DIR: '/proc/rdadmin-e2e/config' }),
      );
      expect([set.code, set.stderr.split('\n')[0]]).toEqual([
        2,
        'error: cannot change /proc/rdadmin-e2e/config/config.json: ENOENT',
      ]);
      const serve = await runProcess(
        process.execPath,
        [BIN, 'serve', '--port', '0', '--data-dir', '/proc/rdadmin-e2e/data'],
        childEnv({}),
      );
      expect([serve.code, serve.stderr.split('\n')[0]]).toEqual([
        2,
        'error: cannot use the data folder /proc/rdadmin-e2e/data: ENOENT',
      ]);
    },
  );
});

describe('a slow reader', () => {
  it('a listing waits for a pipe that is not read (no rows piling up in memory), then finishes', async () => {
    const own = await startTestServer();
    try {
      await own.seedUsers(Array.from({ length: 4000 }, (_, i) => `slow-${String(i).padStart(4, '0')}`));
      const pages = () => own.logs.filter((l) => /GET \/api\/users \d/.test(l)).length;
      // 4,001 users in 50-row pages: 81 pages, of which at most about 2,000 rows (41 pages) are
      // asked for ahead of the one being written.
      const child = spawn(process.execPath, [BIN, 'users', 'view', '--json'], {
        cwd: ROOT,
        env: childEnv({
          RDADMIN_CONFIG_DIR: configDir,
          RDADMIN_URL: own.url,
          RDADMIN_TOKEN: own.token,
          RDADMIN_PAGE_SIZE: '50',
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      // Nothing reads stdout for a while: the pipe fills, and the CLI must stop asking for pages.
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      for (let i = 0; i < 100 && pages() === 0; i++) await sleep(50);
      // Then until no page has been asked for in half a second.
      let before = -1;
      for (let i = 0; i < 40 && pages() !== before; i++) {
        before = pages();
        await sleep(500);
      }
      const whilePaused = pages();
      expect(whilePaused).toBeGreaterThan(0);
      expect(whilePaused).toBeLessThan(60);
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        text += d;
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
      });
      expect(await exited, stderr).toBe(0);
      expect((JSON.parse(text) as unknown[]).length).toBe(4001);
      expect(pages()).toBe(81);
    } finally {
      await own.close();
    }
  });
});

describe('colour', () => {
  beforeAll(async () => {
    await s.seedUsers(['colour-1', 'colour-2']);
  });

  it('a terminal gets colour unless told otherwise (control for the tests below)', async () => {
    const [table, error] = await Promise.all([
      rdadminInPty(['users', 'view', '--name', 'colour-'], env()),
      rdadminInPty(['users', 'view'], env({ RDADMIN_TOKEN: 'rdt_wrong' })),
    ]);
    expect(table.code).toBe(0);
    expect(table.transcript).toContain('colour-1');
    expect(table.transcript).toContain(ESC);
    expect(error.code).toBe(4);
    expect(error.transcript).toContain(`${ESC}31merror: not authenticated`);
  });

  it.each<[string, string[], Env]>([
    ['NO_COLOR=1', [], { NO_COLOR: '1' }],
    ['--no-color', ['--no-color'], {}],
    ['TERM=dumb', [], { TERM: 'dumb' }],
    ['FORCE_COLOR=0', [], { FORCE_COLOR: '0' }],
  ])('%s: no ANSI escapes on a terminal, in tables and errors', async (_, flags, extra) => {
    const [table, error] = await Promise.all([
      rdadminInPty(['users', 'view', '--name', 'colour-', ...flags], env(extra)),
      rdadminInPty(['users', 'view', ...flags], env({ RDADMIN_TOKEN: 'rdt_wrong', ...extra })),
    ]);
    expect(table.code).toBe(0);
    expect(table.transcript).toMatch(/│ NAME +│ EMAIL/); // still a table: it is a terminal
    expect(table.transcript).toContain('colour-2');
    expect(table.transcript).not.toContain(ESC);
    expect(error.code).toBe(4);
    expect(error.transcript).toMatch(/^error: not authenticated/m);
    expect(error.transcript).not.toContain(ESC);
  });

  it('--json on a terminal: JSON only, no escapes', async () => {
    const r = await rdadminInPty(['users', 'view', '--name', 'colour-', '--json'], env());
    expect(r.code).toBe(0);
    expect(r.transcript).not.toContain(ESC);
    const rows = JSON.parse(r.transcript) as { name: string }[];
    expect(rows.map((u) => u.name)).toEqual(['colour-1', 'colour-2']);
  });

  it('piped: plain lines on stdout, plain errors on stderr', async () => {
    const [view, refused] = await Promise.all([
      rdadmin(['users', 'view', '--name', 'colour-'], env()),
      rdadmin(['users', 'disable', '--name', 'colour-'], env()),
    ]);
    expect(view.code).toBe(0);
    expect(view.stdout).toMatch(/^colour-1\t\tDefault\tenabled\tno\t\ncolour-2\t/);
    expect(view.stdout + view.stderr).not.toContain(ESC);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^error: 2 users match/m);
    expect(refused.stdout + refused.stderr).not.toContain(ESC);
  });
});

describe('--json', () => {
  it('users view --json is one JSON array on stdout', async () => {
    const r = await rdadmin(['users', 'view', '--name', 'gate-', '--json'], env());
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const rows = JSON.parse(r.stdout) as { name: string; status: number; group_name: string }[];
    expect(rows.map((u) => [u.name, u.status, u.group_name])).toEqual([
      ['gate-1', 1, 'Default'],
      ['gate-2', 1, 'Default'],
      ['gate-3', 1, 'Default'],
    ]);
  });

  it('users disable --name demo --yes --json gives one result per match', async () => {
    const names = ['demo', 'demo-ops', 'old-demo'];
    await s.seedUsers(names);
    const r = await rdadmin(['users', 'disable', '--name', 'demo', '--yes', '--json'], env());
    expect(r.code).toBe(0);
    const results = JSON.parse(r.stdout) as { name: string; guid: string; action: string; ok: boolean }[];
    expect(results).toHaveLength(3);
    expect(results.map((x) => x.name).sort()).toEqual(names);
    for (const x of results) {
      expect(x).toMatchObject({ action: 'disable', ok: true });
      expect(x.guid).toMatch(/\S/);
    }
    expect(await statuses(names)).toEqual([0, 0, 0]);
  });
});

describe('confirmation on a real terminal', () => {
  const ask = (verbArgs: string[], expectText: string, answer: string) =>
    rdadminInPty(['users', 'disable', ...verbArgs], env(), { expect: expectText, answer });

  it("'y' disables every match: 0", async () => {
    const names = ['ttyy-1', 'ttyy-2', 'ttyy-3'];
    await s.seedUsers(names);
    const r = await ask(['--name', 'ttyy-'], 'Disable 3 users?', 'y\r');
    expect(r.helperErr).toBe('');
    expect(r.transcript).toContain('Found 3 users:\n  ttyy-1\n  ttyy-2\n  ttyy-3\n');
    expect(r.transcript).toContain('Disabled 3 users.');
    expect(r.code).toBe(0);
    expect(await statuses(names)).toEqual([0, 0, 0]);
  });

  it("'y' on a single match that is not exact: 0", async () => {
    await s.seedUsers(['ttyone-x']);
    const r = await ask(['--name', 'ttyone'], 'Disable 1 user?', 'y\r');
    expect(r.helperErr).toBe('');
    expect(r.transcript).toContain('Found 1 user:\n  ttyone-x\n');
    expect(r.transcript).toContain('Disabled 1 user.');
    expect(r.code).toBe(0);
    expect(await status('ttyone-x')).toBe(0);
  });

  it("'n' changes nothing: 3", async () => {
    const names = ['ttyn-1', 'ttyn-2', 'ttyn-3'];
    await s.seedUsers(names);
    const r = await ask(['--name', 'ttyn-'], 'Disable 3 users?', 'n\r');
    expect(r.helperErr).toBe('');
    expect(r.transcript).toContain('error: cancelled; nothing was changed');
    expect(r.code).toBe(3);
    expect(await statuses(names)).toEqual([1, 1, 1]);
  });

  it('Enter alone takes the default, No: 3', async () => {
    const names = ['ttyenter-1', 'ttyenter-2'];
    await s.seedUsers(names);
    const r = await ask(['--name', 'ttyenter-'], 'Disable 2 users?', '\r');
    expect(r.helperErr).toBe('');
    expect(r.transcript).toMatch(/Disable 2 users\?.*No/);
    expect(r.transcript).toContain('error: cancelled; nothing was changed');
    expect(r.code).toBe(3);
    expect(await statuses(names)).toEqual([1, 1]);
  });
});

describe('progress on a real terminal', () => {
  it("a message during a bulk run takes the progress bar's line; the bar goes on below it, then is cleared", async () => {
    const names = ['slow-1', 'slow-2', 'slow-3', 'slow-4', 'slow-5'];
    await s.seedUsers(names);
    // In front of the test server: the first change is refused with 429 (Retry-After: 0), which
    // makes the CLI warn in the middle of its run.
    let refused = false;
    const target = new URL(s.url);
    const proxy = createHttpServer((req, res) => {
      if (req.method === 'POST' && !refused) {
        refused = true;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
        return void res.end('{"error":"slow down"}');
      }
      const up = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
      const r = await rdadminInPty(
        ['users', 'disable', '--name', 'slow-', '--yes'],
        env({ RDADMIN_URL: url }),
      );
      expect(r.helperErr).toBe('');
      expect(r.code).toBe(0);
      expect(refused).toBe(true);
      // What stays on the screen: the warning on a line of its own, then each result (in the order
      // the answers came) and the summary; no bar left, nothing written over.
      const shown = screen(r.transcript).filter(Boolean);
      expect(shown[0]).toBe(
        'warning: the server asks to slow down (HTTP 429): waiting and trying again; a lower --concurrency (now 8) sends fewer requests at once',
      );
      expect(shown.slice(1, -1).sort()).toEqual(names.map((n) => `Disabled ${n}`));
      expect(shown.at(-1)).toBe('Disabled 5 users.');
      expect(await statuses(names)).toEqual([0, 0, 0, 0, 0]);
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});

describe('serve --demo', () => {
  it('listens on a free port, saves the demo profile, and stops on SIGTERM with 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rdadmin-e2e-serve-'));
    cleanup.push(dir);
    const serveEnv = childEnv({ RDADMIN_CONFIG_DIR: join(dir, 'config') });
    const server = spawn(
      process.execPath,
      [BIN, 'serve', '--demo', '--host', '127.0.0.1', '--port', '0', '--data-dir', join(dir, 'data')],
      { cwd: ROOT, env: serveEnv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let started: (url: string) => void = () => undefined;
    // The demo profile is saved after the listening line; the token on stdout comes after that.
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m && /^rdt_\S+\n/.test(stdout)) started(m[1]!);
    };
    server.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      check();
    });
    server.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      check();
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      server.on('close', (code, signal) => resolve({ code, signal })),
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stderr}`)), 15_000);
        started = (u) => {
          clearTimeout(timer);
          resolve(u);
        };
        void exited.then(() => reject(new Error(`serve exited early:\n${stderr}`)));
      });
      expect(url).not.toMatch(/:(0|21114)$/);
      expect(stdout).toMatch(/^rdt_\S+\n$/);
      const saved = JSON.parse(await readFile(join(dir, 'config', 'config.json'), 'utf8'));
      expect(saved).toMatchObject({
        currentProfile: 'demo',
        profiles: { demo: { url, token: stdout.trim() } },
      });

      // No --url, no token: the saved profile 'demo' is the current one.
      const view = await rdadmin(['users', 'view', '--group_name', 'Default'], serveEnv);
      expect(view.stderr).toBe('');
      expect(view.code).toBe(0);
      expect(view.stdout).toMatch(/^alice\talice@example\.com\tDefault\t/m);
    } finally {
      server.kill('SIGTERM');
    }
    const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5_000));
    const end = await Promise.race([exited, deadline]);
    if (end === 'timeout') server.kill('SIGKILL');
    expect(end).toEqual({ code: 0, signal: null });
    expect(stderr).toContain('SIGTERM received, shutting down');
  });

  it('--request-timeout and --headers-timeout cut off a client that never finishes (408); bad values exit 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rdadmin-e2e-timeouts-'));
    cleanup.push(dir);
    const bad = await rdadmin(['serve', '--request-timeout', '0', '--data-dir', dir], childEnv({}));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("invalid --request-timeout '0': give seconds from 0.1 to 3600");
    const server = spawn(
      process.execPath,
      [
        BIN,
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--data-dir',
        dir,
        '--request-timeout',
        '1',
        '--headers-timeout',
        '1',
      ],
      { cwd: ROOT, env: childEnv({}), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stderr}`)), 15_000);
        server.stderr.setEncoding('utf8').on('data', (c: string) => {
          stderr += c;
          const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
      });
      const started = Date.now();
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        const sock = connect(port, '127.0.0.1', () => sock.write('GET /api/users HTTP/1.1\r\nHost: x\r\n'));
        sock.setEncoding('utf8').on('data', (c: string) => {
          text += c;
        });
        sock.on('close', () => resolve(text));
      });
      const took = Date.now() - started;
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer).toContain('{"error":');
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(5_000);
    } finally {
      server.kill('SIGTERM');
    }
  });
});
