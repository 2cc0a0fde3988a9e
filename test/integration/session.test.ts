import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AREAS } from '../../src/wire/scopes';
import { cli, tempConfigDir } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

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
    const dup = await cli(['tokens', 'create', '--name', 'dash', '--permissions', 'user:r'], { env });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("a token named 'dash' already exists");
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
