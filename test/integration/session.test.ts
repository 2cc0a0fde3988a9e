import { readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { rootCertificates } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AREAS } from '../../src/wire/scopes';
import { cli, tempConfigDir } from '../helpers/cli';
import { startTestServer, startTlsFront, type TestServer, TLS_FIXTURES } from '../helpers/server';

let s: TestServer;
let cfg: string;
let env: Record<string, string>;

beforeEach(async () => {
  s = await startTestServer();
  cfg = await tempConfigDir();
  env = { RDADMIN_CONFIG_DIR: cfg };
});
afterEach(async () => {
  await s.close();
});

async function login(profile?: string) {
  return cli(
    [
      'login',
      '--url',
      s.url,
      '--username',
      'admin',
      '--password-stdin',
      ...(profile ? ['--profile', profile] : []),
    ],
    {
      env,
      stdin: 'test1234\n',
    },
  );
}

describe('login and logout', () => {
  it('saves the session in the profile, in a 0600 file, and every admin command then works', async () => {
    const r = await login();
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`Logged in to ${s.url} as admin (administrator); saved in profile 'default'.`);
    const file = join(cfg, 'config.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(saved.profiles.default.url).toBe(s.url);
    expect(saved.profiles.default.token).toMatch(/^rds_/);
    const view = await cli(['users', 'view', '--json'], { env });
    expect(view.code).toBe(0);
    expect(JSON.parse(view.stdout)[0].name).toBe('admin');
  });

  it('--profile makes the profile current only when there is no usable current one (parallel jobs share a config)', async () => {
    const first = await login('ci');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain('current profile stays');
    const file = join(cfg, 'config.json');
    expect(JSON.parse(await readFile(file, 'utf8')).currentProfile).toBe('ci');
    const other = await login('prod');
    expect([other.code, other.stderr]).toEqual([
      0,
      `Logged in to ${s.url} as admin (administrator); saved in profile 'prod'.\n` +
        "The current profile stays 'ci': pass --profile prod (or RDADMIN_PROFILE=prod) to use this one, or make it current with rdadmin config use prod.\n",
    ]);
    const saved = JSON.parse(await readFile(file, 'utf8'));
    expect(saved.currentProfile).toBe('ci');
    expect(saved.profiles.prod.token).toMatch(/^rds_/);
    const json = await cli(
      ['login', '--url', s.url, '--username', 'admin', '--password-stdin', '--profile', 'stage', '--json'],
      { env, stdin: 'test1234\n' },
    );
    expect(JSON.parse(json.stdout)).toMatchObject({ profile: 'stage', current: false });
    // the same profile again, or the current one without --profile, stays current
    expect(
      JSON.parse(
        (
          await cli(['login', '--url', s.url, '--username', 'admin', '--password-stdin', '--json'], {
            env,
            stdin: 'test1234\n',
          })
        ).stdout,
      ),
    ).toMatchObject({ profile: 'ci', current: true });
    // a current profile that no longer exists is replaced
    await cli(['config', 'use', 'prod'], { env });
    const raw = JSON.parse(await readFile(file, 'utf8'));
    delete raw.profiles.prod;
    await writeFile(file, JSON.stringify(raw));
    expect((await login('stage')).code).toBe(0);
    expect(JSON.parse(await readFile(file, 'utf8')).currentProfile).toBe('stage');
  });

  it('refuses to ask without a terminal, and a wrong password exits 4', async () => {
    const noTty = await cli(['login', '--url', s.url, '--username', 'admin'], { env });
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('--password-stdin');
    const wrong = await cli(['login', '--url', s.url, '--username', 'admin', '--password-stdin'], {
      env,
      stdin: 'nope\n',
    });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toContain('wrong user name or password');
  });

  it('logout ends the session on the server and forgets the token', async () => {
    await login();
    const saved = JSON.parse(await readFile(join(cfg, 'config.json'), 'utf8'));
    const token = saved.profiles.default.token as string;
    const r = await cli(['logout'], { env });
    expect(r.code).toBe(0);
    expect((await s.fetch('/api/currentUser', { method: 'POST', token })).status).toBe(401);
    const after = JSON.parse(await readFile(join(cfg, 'config.json'), 'utf8'));
    expect(after.profiles.default.token).toBeUndefined();
    const view = await cli(['users', 'view'], { env });
    expect(view.code).toBe(2);
  });
});

async function savedProfile(name = 'default'): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(cfg, 'config.json'), 'utf8')).profiles[name];
}

/** Whether the server still takes the session token (POST /api/currentUser). */
async function sessionWorks(token: string): Promise<boolean> {
  const status = (await s.fetch('/api/currentUser', { method: 'POST', token })).status;
  expect([200, 401]).toContain(status);
  return status === 200;
}

describe('logout ends the session, or keeps the token and says why', () => {
  const KEEP =
    "hint: profile 'default' keeps its token, so that the session can still be ended: run rdadmin logout again; rdadmin logout --local removes the token without ending the session";

  it('a server that cannot be reached: exit 5, the token kept, and the session still open', async () => {
    await login();
    const token = (await savedProfile()).token as string;
    expect((await cli(['config', 'set', 'url', 'http://127.0.0.1:1'], { env })).code).toBe(0);
    const r = await cli(['logout'], { env });
    expect([r.code, r.stdout, r.stderr]).toEqual([
      5,
      '',
      'error: not logged out: cannot reach http://127.0.0.1:1: connection refused\n' +
        'hint: check --url (or RDADMIN_URL / the profile) and that the server is running\n' +
        `${KEEP}\n`,
    ]);
    expect((await savedProfile()).token).toBe(token);
    expect(await sessionWorks(token)).toBe(true);
    // Once the server can be reached, the same command ends it.
    expect((await cli(['config', 'set', 'url', s.url], { env })).code).toBe(0);
    const again = await cli(['logout', '--json'], { env });
    expect([again.code, JSON.parse(again.stdout)]).toEqual([
      0,
      { profile: 'default', action: 'logout', had_token: true, session: 'ended' },
    ]);
    expect(await sessionWorks(token)).toBe(false);
    expect((await savedProfile()).token).toBeUndefined();
  });

  it('a session the server has already ended (401): the token is removed, exit 0, with a note', async () => {
    await login();
    const token = (await savedProfile()).token as string;
    expect((await s.fetch('/api/logout', { method: 'POST', token, body: '{}' })).status).toBe(200);
    const r = await cli(['logout'], { env });
    expect([r.code, r.stderr]).toEqual([
      0,
      "Logged out; profile 'default' no longer holds a token (the server had already ended the session: not authenticated: session is not valid (expired, logged out or revoked): log in again (HTTP 401)).\n",
    ]);
    expect((await savedProfile()).token).toBeUndefined();
  });

  it('an API token (403: no session to end) is kept; --local removes it without asking the server', async () => {
    const apiToken = await s.makeToken('user:r', { name: 'ci' });
    expect((await cli(['config', 'set', 'url', s.url], { env })).code).toBe(0);
    expect((await cli(['config', 'set', 'token', '-'], { env, stdin: `${apiToken}\n` })).code).toBe(0);
    const r = await cli(['logout'], { env });
    expect([r.code, r.stderr]).toEqual([
      4,
      'error: not logged out: permission denied: this endpoint needs a user session (from /api/login), not an API token (HTTP 403)\n' +
        "hint: profile 'default' keeps the token. An API token has no session to end: rdadmin logout --local removes the token without ending the session, and `rdadmin tokens revoke` (or the web console) revokes it\n",
    ]);
    expect((await savedProfile()).token).toBe(apiToken);
    const before = s.logs.length;
    const local = await cli(['logout', '--local', '--json'], { env });
    expect([local.code, JSON.parse(local.stdout)]).toEqual([
      0,
      { profile: 'default', action: 'logout', had_token: true, session: 'not ended' },
    ]);
    expect(local.stderr).toBe(
      'warning: the server was not told: the token stays valid there until it expires (`rdadmin users force-logout` ends the sessions of a user, `rdadmin tokens revoke` an API token)\n' +
        "Removed the token from profile 'default'.\n",
    );
    expect(s.logs.length).toBe(before);
    expect((await savedProfile()).token).toBeUndefined();
  });

  it('a profile without a URL: exit 2 unless --url or --local says where (or that no server is asked)', async () => {
    await login();
    const token = (await savedProfile()).token as string;
    const file = JSON.parse(await readFile(join(cfg, 'config.json'), 'utf8'));
    delete file.profiles.default.url;
    await writeFile(join(cfg, 'config.json'), JSON.stringify(file));
    const r = await cli(['logout'], { env });
    expect([r.code, r.stderr]).toEqual([
      2,
      "error: profile 'default' has no server URL: its session cannot be ended\n" +
        'hint: pass --url URL, or remove the token without ending the session: rdadmin logout --local\n',
    ]);
    expect((await savedProfile()).token).toBe(token);
    expect((await cli(['logout', '--url', s.url], { env })).code).toBe(0);
    expect(await sessionWorks(token)).toBe(false);
  });
});

describe('login and logout behind TLS with a private CA (--ca, RDADMIN_CA, --insecure)', () => {
  let front: Awaited<ReturnType<typeof startTlsFront>>;
  const CA = join(TLS_FIXTURES, 'cert.pem');
  beforeEach(async () => {
    front = await startTlsFront(s.url);
  });
  afterEach(async () => {
    await front.close();
  });
  const tlsLogin = (extra: string[], extraEnv: Record<string, string> = {}) =>
    cli(['login', '--url', front.url, '--username', 'admin', '--password-stdin', ...extra], {
      env: { ...env, ...extraEnv },
      stdin: 'test1234\n',
    });

  it('--ca (a relative path): login works, the profile keeps the CA as an absolute path, the next commands work', async () => {
    const r = await tlsLogin(['--ca', relative(process.cwd(), CA)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      `Logged in to ${front.url} as admin (administrator); saved in profile 'default' with the CA file ${CA}.\n`,
    );
    const saved = await savedProfile();
    expect(saved).toMatchObject({ url: front.url, ca: CA });
    expect(saved.insecure).toBeUndefined();
    const list = await cli(['config', 'list', '--json'], { env });
    expect(JSON.parse(list.stdout).profiles[0]).toMatchObject({ url: front.url, ca: CA, insecure: null });
    const table = await cli(['config', 'list'], { env });
    expect(table.stdout).toBe(`*\tdefault\t${front.url}\tset\tca ${CA}\n`);
    const view = await cli(['users', 'view', '--json'], { env });
    expect(view.code, view.stderr).toBe(0);
    // logout reaches the server with the profile's CA: the session is ended there.
    const token = saved.token as string;
    expect(await sessionWorks(token)).toBe(true);
    const out = await cli(['logout'], { env });
    expect([out.code, out.stderr]).toEqual([0, "Logged out; profile 'default' no longer holds a token.\n"]);
    expect(await sessionWorks(token)).toBe(false);
  });

  it('config set ca keeps a relative path as the absolute one, which every command then uses', async () => {
    const set = await cli(['config', 'set', 'ca', relative(process.cwd(), CA)], { env });
    expect([set.code, set.stderr]).toEqual([0, `Set ca in profile 'default' to ${CA}.\n`]);
    expect((await cli(['config', 'set', 'url', front.url], { env })).code).toBe(0);
    expect((await cli(['config', 'set', 'token', '-'], { env, stdin: `${s.token}\n` })).code).toBe(0);
    expect(await savedProfile()).toMatchObject({ ca: CA });
    const view = await cli(['users', 'view', '--json'], { env });
    expect(view.code, view.stderr).toBe(0);
  });

  it('RDADMIN_CA is used by login too; without any CA, login fails on TLS and saves nothing', async () => {
    const none = await tlsLogin([]);
    expect(none.code).toBe(5);
    expect(none.stderr).toContain(`error: TLS failure talking to ${front.url}: self-signed certificate`);
    await expect(stat(join(cfg, 'config.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    const r = await tlsLogin(['--json'], { RDADMIN_CA: CA });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ profile: 'default', url: front.url, ca: CA });
    expect(await savedProfile()).toMatchObject({ url: front.url, ca: CA });
    expect((await cli(['users', 'view', '--json'], { env })).code).toBe(0);
  });

  it('--insecure: login works, the profile keeps insecure (with a warning), and the next commands work', async () => {
    const r = await tlsLogin(['--insecure', '--profile', 'lab']);
    expect([r.code, r.stderr]).toEqual([
      0,
      `Logged in to ${front.url} as admin (administrator); saved in profile 'lab'.\n` +
        "warning: profile 'lab' keeps --insecure: its commands do not check the server's certificate (`rdadmin config set insecure false` turns the check back on)\n",
    ]);
    expect(await savedProfile('lab')).toMatchObject({ url: front.url, insecure: true });
    const list = await cli(['config', 'list'], { env });
    expect(list.stdout).toBe(`*\tlab\t${front.url}\tset\tinsecure\n`);
    expect((await cli(['users', 'view', '--json'], { env })).code).toBe(0);
    const token = (await savedProfile('lab')).token as string;
    expect((await cli(['logout'], { env })).code).toBe(0);
    expect(await sessionWorks(token)).toBe(false);
  });

  it('a logout that fails on TLS (--ca naming a CA that did not sign the certificate) keeps the token: exit 5', async () => {
    expect((await tlsLogin(['--ca', CA])).code).toBe(0);
    const token = (await savedProfile()).token as string;
    const other = join(cfg, 'other-ca.pem');
    await writeFile(other, rootCertificates[0]!);
    const r = await cli(['logout', '--ca', other], { env });
    expect([r.code, r.stderr.split('\n')[0]]).toEqual([
      5,
      `error: not logged out: TLS failure talking to ${front.url}: self-signed certificate`,
    ]);
    expect(r.stderr).toContain("hint: profile 'default' keeps its token");
    expect((await savedProfile()).token).toBe(token);
    expect(await sessionWorks(token)).toBe(true);
  });
});

describe('tokens', () => {
  it('create (shown once), list (never the secret), use with its scopes, revoke', async () => {
    await login();
    const created = await cli(
      ['tokens', 'create', '--name', 'ci', '--permissions', 'user:r', '--expires-in', '30d', '--json'],
      { env },
    );
    expect(created.code).toBe(0);
    const t = JSON.parse(created.stdout) as {
      name: string;
      token: string;
      permissions: Record<string, string>;
      expires_at: string;
    };
    expect(t.name).toBe('ci');
    expect(t.token).toMatch(/^rdt_/);
    expect(t.permissions).toMatchObject({ user: 'r', device: 'none' });
    expect(Date.parse(t.expires_at) - Date.now()).toBeGreaterThan(29 * 86400_000);

    const list = await cli(['tokens', 'list', '--json'], { env });
    expect(list.stdout).not.toContain(t.token);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((x) => x.name)).toEqual(['all', 'ci']);

    const read = await cli(['users', 'view', '--url', s.url, '--json'], {
      env: { ...env, RDADMIN_TOKEN: t.token },
    });
    expect(read.code).toBe(0);
    const write = await cli(['users', 'disable', '--name', 'admin', '--url', s.url], {
      env: { ...env, RDADMIN_TOKEN: t.token },
    });
    expect(write.code).toBe(4);

    const revoke = await cli(['tokens', 'revoke', '--name', 'ci'], { env });
    expect(revoke.code).toBe(0);
    const after = await cli(['users', 'view', '--url', s.url], { env: { ...env, RDADMIN_TOKEN: t.token } });
    expect(after.code).toBe(4);
    expect(after.stderr).toContain("token 'ci' has been revoked");
  });

  it('all:rw / all:r shorthands, human output, and clear errors for bad input', async () => {
    await login();
    const r = await cli(['tokens', 'create', '--name', 'dash', '--permissions', 'all:r'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "Created token 'dash' (device:r,user:r,device_group:r,user_group:r,address_book:r,audit_log:r,strategy:r)",
    );
    expect(r.stdout).toMatch(/^rdt_\S+\n$/);
    const bad = await cli(['tokens', 'create', '--name', 'x', '--permissions', 'users:rw'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown area 'users'");
    const lvl = await cli(['tokens', 'create', '--name', 'x', '--permissions', 'user:write'], { env });
    expect(lvl.code).toBe(2);
    const dur = await cli(
      ['tokens', 'create', '--name', 'x', '--permissions', 'user:r', '--expires-in', 'soon'],
      { env },
    );
    expect(dur.code).toBe(2);
    expect(dur.stderr).toContain('invalid --expires-in');
    // Over the server's 10 years: refused by the dry run as by the real run, in the unit typed.
    for (const extra of [['--dry-run'], []]) {
      const long = await cli(
        ['tokens', 'create', '--name', 'x', '--permissions', 'user:r', '--expires-in', '3651d', ...extra],
        { env },
      );
      expect(long.code, long.stderr).toBe(2);
      expect(long.stderr).toContain("invalid --expires-in '3651d': at most 10 years (3650d)");
    }
    const dup = await cli(['tokens', 'create', '--name', 'dash', '--permissions', 'user:r'], { env });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("a token named 'dash' already exists");
  });

  it('list marks a token past its expiry', async () => {
    await login();
    await s.makeToken('user:r', { name: 'old-ci', expiresAt: new Date(Date.now() - 60_000).toISOString() });
    const r = await cli(['tokens', 'list'], { env });
    expect(r.code, r.stderr).toBe(0);
    const row = r.stdout.split('\n').find((l) => l.startsWith('old-ci\t'));
    expect(row).toMatch(/\t\S+ \(expired\)\t/);
    expect(r.stdout.split('\n').find((l) => l.startsWith('all\t'))).not.toContain('expired');
  });

  it('revoke of a name not found is exit 1 (not usage), naming the tokens there are', async () => {
    await login();
    const missing = await cli(['tokens', 'revoke', '--name', 'nope'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("error: no token named 'nope'");
    expect(missing.stderr).toContain('hint: tokens: all');
    expect(s.logs.filter((l) => l.startsWith('DELETE '))).toEqual([]);
    const usage = await cli(['tokens', 'revoke'], { env });
    expect(usage.code).toBe(2);
  });

  it('create --help lists every permission area and level --permissions takes', async () => {
    const r = await cli(['tokens', 'create', '--help'], { env });
    expect(r.code).toBe(0);
    for (const area of AREAS) expect(r.stdout).toMatch(new RegExp(`^  ${area} +rdadmin `, 'm'));
    expect(r.stdout).toMatch(/^ {2}all +every area/m);
    expect(r.stdout).toContain('LEVEL         none, r, rw');
  });

  it('an API token cannot manage tokens: exit 4 naming the fix', async () => {
    const r = await cli(['tokens', 'list', '--url', s.url], { env: { ...env, RDADMIN_TOKEN: s.token } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('rdadmin login');
  });
});

describe('config profiles', () => {
  it('set, list (token never shown), use; flag > env > profile', async () => {
    expect((await cli(['config', 'set', 'url', s.url, '--profile', 'lab'], { env })).code).toBe(0);
    const setTok = await cli(['config', 'set', 'token', '-', '--profile', 'lab'], {
      env,
      stdin: `${s.token}\n`,
    });
    expect(setTok.code).toBe(0);
    expect(setTok.stderr).not.toContain(s.token);
    expect(
      (await cli(['config', 'set', 'url', 'http://127.0.0.1:9', '--profile', 'broken'], { env })).code,
    ).toBe(0);
    const list = await cli(['config', 'list', '--json'], { env });
    expect(list.stdout).not.toContain(s.token);
    const listed = JSON.parse(list.stdout) as { profiles: { name: string; token: string }[] };
    expect(listed.profiles.find((p) => p.name === 'lab')?.token).toBe('set');

    expect((await cli(['config', 'use', 'lab'], { env })).code).toBe(0);
    expect((await cli(['users', 'view', '--json'], { env })).code).toBe(0);
    // env beats profile; flag beats env
    const envWins = await cli(['users', 'view'], { env: { ...env, RDADMIN_URL: 'http://127.0.0.1:9' } });
    expect(envWins.code).toBe(5);
    const flagWins = await cli(['users', 'view', '--url', s.url, '--json'], {
      env: { ...env, RDADMIN_URL: 'http://127.0.0.1:9' },
    });
    expect(flagWins.code).toBe(0);
    const byProfile = await cli(['users', 'view', '--profile', 'broken'], { env });
    expect(byProfile.code).toBe(2);
  });

  it('rejects unknown keys, bad values and unknown profiles', async () => {
    expect((await cli(['config', 'set', 'colour', 'red'], { env })).code).toBe(2);
    expect((await cli(['config', 'set', 'timeout', '-3'], { env })).code).toBe(2);
    expect((await cli(['config', 'set', 'url', 'ftp://x'], { env })).code).toBe(2);
    const use = await cli(['config', 'use', 'ghost'], { env });
    expect(use.code).toBe(2);
    expect(use.stderr).toContain("no profile named 'ghost'");
  });
});
