import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPassword, hashPassword } from '../../src/server/crypto';
import { type CliRun, cli, tempConfigDir } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// Secrets (docs/reliability.md §6): a series of commands runs with known tokens and passwords,
// with --debug wherever it applies, and everything they print, everything the server logs, and
// the database are searched for those secrets. Only the one answer whose job is to show a new
// secret (tokens create, the invitation link) may show that one secret, once.

let s: TestServer;
let cfg: string;
const captured: { what: string; text: string; code: number }[] = [];
const PASSWORD = 'Sup3r-Secret-Pw!';
const WRONG_PASSWORD = 'Wr0ng-Guess-Pw#';
const SHORT_PASSWORD = 'Sh0rt!';
const BAD_TOKEN = 'rdt_this-token-is-not-valid-at-all-0000000';
let sessionToken = '';
let newApiToken = '';
let invitationSecret = '';

async function run(what: string, argv: string[], o: { env?: Record<string, string>; stdin?: string } = {}) {
  const r: CliRun = await cli(argv, { env: { RDADMIN_CONFIG_DIR: cfg, ...o.env }, stdin: o.stdin });
  captured.push({ what, text: `${r.stdout}\n${r.stderr}`, code: r.code });
  return r;
}

beforeAll(async () => {
  // This file sends bursts of failed logins on purpose; throttling has its own tests at production limits.
  s = await startTestServer({ config: { loginLimits: { perMinute: 1_000_000, perHour: 1_000_000 } } });
  cfg = await tempConfigDir();
  const tokenFile = join(cfg, 'token.txt');
  const badFile = join(cfg, 'bad.txt');
  await writeFile(tokenFile, `${s.token}\n`);
  await writeFile(badFile, `${BAD_TOKEN}\n`);
  const url = s.url;
  const tok = { RDADMIN_URL: url, RDADMIN_TOKEN: s.token };

  expect(
    (
      await run('login', ['login', '--url', url, '--username', 'admin', '--password-stdin', '--debug'], {
        stdin: 'test1234\n',
      })
    ).code,
  ).toBe(0);
  sessionToken = JSON.parse(await readFile(join(cfg, 'config.json'), 'utf8')).profiles.default.token;
  expect(sessionToken).toMatch(/^rds_/);
  await run('users view (session profile)', ['users', 'view', '--debug']);
  await run('config list', ['config', 'list']);
  await run('config list --json', ['config', 'list', '--json']);
  await run(
    'users new --password-stdin',
    ['users', 'new', '--name', 'sec-a', '--password-stdin', '--group_name', 'Default', '--debug'],
    {
      stdin: `${PASSWORD}\n`,
    },
  );
  await run('users new --password', [
    'users',
    'new',
    '--name',
    'sec-b',
    '--password',
    PASSWORD,
    '--group_name',
    'Default',
    '--debug',
  ]);
  await run('users new short', [
    'users',
    'new',
    '--name',
    'sec-c',
    '--password',
    SHORT_PASSWORD,
    '--group_name',
    'Default',
  ]);
  await run('users view --token', ['users', 'view', '--url', url, '--token', s.token, '--debug']);
  await run('users view --token-file', ['users', 'view', '--url', url, '--token-file', tokenFile, '--debug']);
  await run('users view RDADMIN_TOKEN --json', ['users', 'view', '--json', '--debug'], { env: tok });
  await run('users disable', ['users', 'disable', '--name', 'sec-a', '--yes', '--debug'], { env: tok });
  await run('bad token', ['users', 'view', '--url', url, '--token-file', badFile, '--debug']);
  await run('bad token in env', ['users', 'disable', '--name', 'sec', '--yes'], {
    env: { ...tok, RDADMIN_TOKEN: BAD_TOKEN },
  });
  await run(
    'login wrong password',
    ['login', '--url', url, '--username', 'admin', '--password-stdin', '--profile', 'x', '--debug'],
    {
      stdin: `${WRONG_PASSWORD}\n`,
    },
  );
  await run(
    'login as sec-b',
    ['login', '--url', url, '--username', 'sec-b', '--password-stdin', '--profile', 'b', '--debug'],
    {
      stdin: `${PASSWORD}\n`,
    },
  );
  await run('config set token -', ['config', 'set', 'token', '-', '--profile', 'ci'], {
    stdin: `${s.token}\n`,
  });
  await run('devices view', ['devices', 'view', '--debug'], { env: tok });
  await run('unreachable', ['users', 'view', '--url', 'http://127.0.0.1:9', '--token', s.token, '--debug']);

  // The two answers whose job is to show a new secret: kept apart, checked to show it only once.
  const created = await cli(
    ['tokens', 'create', '--name', 'sec-new', '--permissions', 'user:r', '--profile', 'default', '--debug'],
    {
      env: { RDADMIN_CONFIG_DIR: cfg },
    },
  );
  newApiToken = created.stdout.trim();
  expect(newApiToken).toMatch(/^rdt_/);
  expect(created.stderr).not.toContain(newApiToken);
  const invited = await cli(
    [
      'users',
      'invite',
      '--name',
      'sec-inv',
      '--email',
      'inv@example.com',
      '--group_name',
      'Default',
      '--profile',
      'default',
      '--debug',
    ],
    {
      env: { RDADMIN_CONFIG_DIR: cfg },
    },
  );
  invitationSecret = /\/api\/invitations\/(rdi_[\w-]+)/.exec(invited.stdout)![1]!;
  expect(invited.stderr).not.toContain(invitationSecret);
  await run('with the new token', ['users', 'view', '--debug'], {
    env: { RDADMIN_URL: url, RDADMIN_TOKEN: newApiToken },
  });
  // The invitation link is followed (its secret is in the URL path) and accepted.
  expect((await s.fetch(`/api/invitations/${invitationSecret}`)).status).toBe(200);
  const accept = await s.fetch(`/api/invitations/${invitationSecret}`, {
    method: 'POST',
    body: JSON.stringify({ password: PASSWORD }),
  });
  expect(accept.status).toBe(200);
}, 60_000);

afterAll(async () => {
  await s.close();
  await rm(cfg, { recursive: true, force: true });
});

function secrets(): Record<string, string> {
  return {
    'the API token': s.token,
    'the session token': sessionToken,
    'the password': PASSWORD,
    'the admin password': 'test1234',
    'a wrong password': WRONG_PASSWORD,
    'a too-short password': SHORT_PASSWORD,
    'an invalid token': BAD_TOKEN,
    'a new API token': newApiToken,
    'an invitation secret': invitationSecret,
  };
}

describe('secrets never appear where they should not', () => {
  it('ran the whole series, each command with the expected outcome', () => {
    expect(Object.fromEntries(captured.map((c) => [c.what, c.code]))).toEqual({
      login: 0,
      'users view (session profile)': 0,
      'config list': 0,
      'config list --json': 0,
      'users new --password-stdin': 0,
      'users new --password': 0,
      'users new short': 2,
      'users view --token': 0,
      'users view --token-file': 0,
      'users view RDADMIN_TOKEN --json': 0,
      'users disable': 0,
      'bad token': 4,
      'bad token in env': 4,
      'login wrong password': 4,
      'login as sec-b': 0,
      'config set token -': 0,
      'devices view': 0,
      unreachable: 5,
      'with the new token': 0,
    });
    expect(captured.find((c) => c.what === 'users view --token')!.text).toContain(
      'warning: a token given with --token is visible in the process list and shell history; prefer --token-file FILE or RDADMIN_TOKEN',
    );
    expect(captured.find((c) => c.what === 'users new --password')!.text).toContain(
      'prefer --password-stdin',
    );
    expect(captured.find((c) => c.what === 'users view (session profile)')!.text).toMatch(
      /debug: → GET \/api\/users/,
    );
  });

  it('not in any CLI output, --debug output or error message', () => {
    for (const { what, text } of captured) {
      for (const [name, secret] of Object.entries(secrets())) {
        expect(text.includes(secret), `${name} shown by '${what}':\n${text}`).toBe(false);
      }
    }
  });

  it('not in the server log (secret URL paths are logged redacted)', () => {
    const log = s.logs.join('\n');
    expect(log).toContain('GET /api/invitations/*** 200');
    for (const [name, secret] of Object.entries(secrets()))
      expect(log.includes(secret), `${name} in the server log`).toBe(false);
  });

  it('not in the database: only hashes of tokens, sessions, invitations and passwords', () => {
    const db = s.store.database.sqlite;
    const dump = ['users', 'sessions', 'api_tokens', 'invitations', 'audit_console']
      .map((t) => JSON.stringify(db.prepare(`SELECT * FROM ${t}`).all()))
      .join('\n');
    for (const [name, secret] of Object.entries(secrets()))
      expect(dump.includes(secret), `${name} in the database`).toBe(false);
    for (const t of ['sessions', 'api_tokens', 'invitations']) {
      const rows = db.prepare(`SELECT token_hash FROM ${t}`).all() as { token_hash: string }[];
      expect(rows.length, t).toBeGreaterThan(0);
      for (const r of rows) expect(r.token_hash, t).toMatch(/^[0-9a-f]{64}$/);
    }
    const hashes = db.prepare('SELECT password_hash FROM users WHERE password_hash IS NOT NULL').all() as {
      password_hash: string;
    }[];
    for (const h of hashes)
      expect(h.password_hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
  });
});

describe('password checks', () => {
  it('a login for a user name that does not exist costs a full scrypt check, like a wrong password', async () => {
    // The decoy makes timing useless for finding user names: both take one scrypt (tens of ms),
    // where a lookup failure alone would take about a millisecond.
    const login = async (username: string) => {
      const t0 = performance.now();
      const r = await s.fetch('/api/login', {
        method: 'POST',
        body: JSON.stringify({ username, password: WRONG_PASSWORD }),
      });
      expect(r.status).toBe(401);
      return performance.now() - t0;
    };
    await login('warm-up');
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await login('admin'));
      unknown.push(await login(`nobody-${i}`));
    }
    const median = (a: number[]) => a.sort((x, y) => x - y)[2]!;
    expect(median(unknown)).toBeGreaterThan(median(known) / 3);
    // The decoy never lets anyone in, not even with an empty password hash.
    expect(await checkPassword('', null)).toBe(false);
    expect(await checkPassword('right-password', await hashPassword('right-password'))).toBe(true);
  });

  it('the login route answers an unknown user and a wrong password with the same message', async () => {
    const post = (username: string) =>
      s.fetch('/api/login', { method: 'POST', body: JSON.stringify({ username, password: WRONG_PASSWORD }) });
    const [a, b] = await Promise.all([post('admin'), post('no-such-user')]);
    expect([a.status, await a.json()]).toEqual([401, { error: 'wrong user name or password' }]);
    expect([b.status, await b.json()]).toEqual([401, { error: 'wrong user name or password' }]);
  });
});
