import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/server/crypto';
import { cli, tempConfigDir } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// --dry-run ("show what would change, change nothing") on the verbs that create or set one thing:
// users new / invite, tokens create / revoke, settings set, config set / use, login / logout, ab
// get-personal-ab (and --json where those printed nothing). Each check runs
// against the real server, and asserts the server (or the config file) is unchanged afterwards.

let s: TestServer;
let env: Record<string, string>;
let admin: Record<string, string>;

beforeEach(async () => {
  s = await startTestServer();
  env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
  admin = { RDADMIN_URL: s.url, RDADMIN_TOKEN: await s.login('admin', 'test1234') };
});
afterEach(async () => {
  await s.close();
});

/** Admin changes the server recorded (every change writes one). */
async function consoleRecords(): Promise<number> {
  return (await s.store.auditLogs.listConsole({}, 0, 1000)).rows.length;
}

/** Requests other than reads that reached the server (POST /api/currentUser reads, as in Pro). */
function writes(): string[] {
  return s.logs.filter(
    (l) =>
      /^(POST|PUT|DELETE|PATCH) /.test(l) &&
      !l.startsWith('POST /api/login') &&
      !l.startsWith('POST /api/currentUser '),
  );
}

describe('users new / invite --dry-run', () => {
  it('new: checks, says what it would do, creates nothing', async () => {
    const before = await consoleRecords();
    const args = ['users', 'new', '--name', 'dry1', '--password', 'password123', '--group_name', 'Default'];
    const r = await cli([...args, '--email', 'd@x.com', '--dry-run'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("Dry run: would create user dry1 in group 'Default'; nothing was changed.");
    expect(r.stderr).not.toContain('Created user');
    const json = await cli([...args, '--dry-run', '--json'], { env });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      name: 'dry1',
      group_name: 'Default',
      action: 'create',
      dry_run: true,
    });
    expect(json.stdout).not.toContain('password123');
    expect(await s.store.users.getByName('dry1')).toBeUndefined();
    expect(await consoleRecords()).toBe(before);
    expect(writes()).toEqual([]);
  });

  it('new: the checks a real run would fail on fail the dry run too, before anything changes', async () => {
    const group = await cli(
      ['users', 'new', '--name', 'x', '--password', 'password123', '--group_name', 'Nope', '--dry-run'],
      { env },
    );
    expect(group.code).toBe(1);
    expect(group.stderr).toContain("user group 'Nope' not found");
    const dup = await cli(
      [
        'users',
        'new',
        '--name',
        'admin',
        '--password',
        'password123',
        '--group_name',
        'Default',
        '--dry-run',
      ],
      { env },
    );
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("a user named 'admin' already exists");
    const short = await cli(
      ['users', 'new', '--name', 'x', '--password', 'short', '--group_name', 'Default', '--dry-run'],
      { env },
    );
    expect(short.code).toBe(2);
    expect(writes()).toEqual([]);
  });

  it('invite: no user, no invitation link', async () => {
    const before = await consoleRecords();
    const args = ['users', 'invite', '--name', 'dry2', '--email', 'd@x.com', '--group_name', 'Default'];
    const r = await cli([...args, '--dry-run'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      "Dry run: would invite dry2 <d@x.com> into group 'Default'; nothing was changed.",
    );
    const json = await cli([...args, '--dry-run', '--json'], { env });
    expect(JSON.parse(json.stdout)).toEqual({
      name: 'dry2',
      email: 'd@x.com',
      group_name: 'Default',
      action: 'invite',
      dry_run: true,
    });
    expect(await s.store.users.getByName('dry2')).toBeUndefined();
    expect(await consoleRecords()).toBe(before);
    expect(writes()).toEqual([]);
    const dup = await cli(
      ['users', 'invite', '--name', 'admin', '--email', 'd@x.com', '--group_name', 'Default', '--dry-run'],
      { env },
    );
    expect(dup.code).toBe(1);
  });

  it('the 2FA, verification and session verbs list their targets and change nothing', async () => {
    await s.seedUsers(['bob']);
    const session = hashToken(await s.login('bob', 'password123'));
    const before = await s.store.users.getByName('bob');
    const verbs = ['enable-2fa-enforce', 'disable-2fa-enforce', 'reset-2fa', 'disable-email-verification'];
    for (const verb of [...verbs, 'force-logout']) {
      const url = verb.endsWith('-enforce') ? ['--web-console-url', 'https://c.example.com'] : [];
      const r = await cli(['users', verb, '--name', 'bob', ...url, '--dry-run'], { env });
      expect(r.code, `${verb}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe('bob\n');
      expect(r.stderr).toContain(`Dry run: would ${verb} 1 user; nothing was changed.`);
    }
    expect((await s.store.auth.sessionAndUser(session)).session).toBeDefined();
    expect(await s.store.users.getByName('bob')).toEqual(before);
    expect(writes()).toEqual([]);
  });
});

describe('tokens --dry-run', () => {
  async function tokenNames(): Promise<string[]> {
    return (await s.store.auth.listLiveTokens()).map((t) => t.name);
  }

  it('create: checks the input and the name, shows the permissions, creates no token', async () => {
    const r = await cli(
      ['tokens', 'create', '--name', 'dry', '--permissions', 'user:r', '--expires-in', '2h', '--dry-run'],
      { env: admin },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      "Dry run: would create token 'dry' (user:r), expiring 2h after creation; nothing was changed.",
    );
    const json = await cli(
      ['tokens', 'create', '--name', 'dry', '--permissions', 'all:r', '--dry-run', '--json'],
      {
        env: admin,
      },
    );
    const doc = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({ name: 'dry', expires_in_seconds: null, action: 'create', dry_run: true });
    expect(doc['permissions']).toMatchObject({ user: 'r', device: 'r', strategy: 'r' });
    expect(doc).not.toHaveProperty('token');
    expect(await tokenNames()).toEqual(['all']);
    const dup = await cli(['tokens', 'create', '--name', 'all', '--permissions', 'user:r', '--dry-run'], {
      env: admin,
    });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("a token named 'all' already exists");
    const bad = await cli(['tokens', 'create', '--name', 'x', '--permissions', 'users:r', '--dry-run'], {
      env: admin,
    });
    expect(bad.code).toBe(2);
    expect(writes()).toEqual([]);
  });

  it('revoke: the token keeps working', async () => {
    const r = await cli(['tokens', 'revoke', '--name', 'all', '--dry-run', '--json'], { env: admin });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'all', action: 'revoke', dry_run: true });
    expect(await tokenNames()).toEqual(['all']);
    expect((await cli(['users', 'view', '--json'], { env })).code).toBe(0);
  });
});

describe('settings set --dry-run', () => {
  it('checks the name and value, shows the change, keeps the setting', async () => {
    const r = await cli(['settings', 'set', 'online_timeout', '50', '--dry-run'], { env: admin });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Dry run: would set online_timeout to 50 (now 45); nothing was changed.');
    const json = await cli(['settings', 'set', 'online_timeout', '50', '--dry-run', '--json'], {
      env: admin,
    });
    expect(JSON.parse(json.stdout)).toEqual({
      key: 'online_timeout',
      value: 50,
      previous: 45,
      action: 'set',
      dry_run: true,
    });
    expect(await s.store.settings.get('online_timeout')).toBe(45);
    expect((await cli(['settings', 'set', 'online_timeout', '5', '--dry-run'], { env: admin })).code).toBe(2);
    expect((await cli(['settings', 'set', 'no_such', '5', '--dry-run'], { env: admin })).code).toBe(2);
    expect(writes()).toEqual([]);
  });
});

describe('config --dry-run', () => {
  it('set and use leave config.json as it was, and create none', async () => {
    const dir = await tempConfigDir();
    const file = join(dir, 'config.json');
    const cenv = { RDADMIN_CONFIG_DIR: dir };
    // No file yet: a dry run creates none.
    const first = await cli(['config', 'set', 'timeout', '5', '--profile', 'adm', '--dry-run'], {
      env: cenv,
    });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(
      "Dry run: would set timeout to 5 in profile 'adm' (a new profile); nothing was changed.",
    );
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });

    expect((await cli(['config', 'set', 'url', s.url, '--profile', 'adm'], { env: cenv })).code).toBe(0);
    const saved = await readFile(file, 'utf8');
    const set = await cli(['config', 'set', 'timeout', '5', '--profile', 'adm', '--dry-run', '--json'], {
      env: cenv,
    });
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({
      profile: 'adm',
      key: 'timeout',
      value: 5,
      action: 'set',
      dry_run: true,
    });
    const tok = await cli(['config', 'set', 'token', '-', '--dry-run'], { env: cenv, stdin: 'secret-x\n' });
    expect(tok.code).toBe(0);
    expect(tok.stderr + tok.stdout).not.toContain('secret-x');
    const use = await cli(['config', 'use', 'adm', '--dry-run'], { env: cenv });
    expect(use.code).toBe(0);
    expect(use.stderr).toContain("Dry run: would make 'adm' the current profile; nothing was changed.");
    expect((await cli(['config', 'use', 'ghost', '--dry-run'], { env: cenv })).code).toBe(2);
    expect((await cli(['config', 'set', 'timeout', '-3', '--dry-run'], { env: cenv })).code).toBe(2);
    expect(await readFile(file, 'utf8')).toBe(saved);
  });

  it('config list only reads: with no file it says so and creates none', async () => {
    const dir = await tempConfigDir();
    const list = await cli(['config', 'list', '--json'], { env: { RDADMIN_CONFIG_DIR: dir } });
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({
      path: join(dir, 'config.json'),
      current: 'default',
      profiles: [],
    });
    await expect(stat(join(dir, 'config.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('login, logout and the personal address book with --dry-run; --json on config and logout', () => {
  it('login --dry-run asks for no password, creates no session and writes no profile', async () => {
    const dir = await tempConfigDir();
    const before = s.logs.length;
    const r = await cli(
      ['login', '--url', s.url, '--username', 'admin', '--profile', 'dryp', '--dry-run', '--json'],
      { env: { RDADMIN_CONFIG_DIR: dir } },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      url: s.url,
      username: 'admin',
      profile: 'dryp',
      action: 'login',
      dry_run: true,
    });
    expect(s.logs.length).toBe(before);
    await expect(stat(join(dir, 'config.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('logout --dry-run keeps the session and the token; logout --json says what it did', async () => {
    const dir = await tempConfigDir();
    const cenv = { RDADMIN_CONFIG_DIR: dir };
    const login = await cli(['login', '--url', s.url, '--username', 'admin', '--password-stdin'], {
      env: cenv,
      stdin: 'test1234\n',
    });
    expect(login.code, login.stderr).toBe(0);
    const saved = await readFile(join(dir, 'config.json'), 'utf8');
    const dry = await cli(['logout', '--dry-run', '--json'], { env: cenv });
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ profile: 'default', action: 'logout', dry_run: true });
    expect(await readFile(join(dir, 'config.json'), 'utf8')).toBe(saved);
    expect((await cli(['users', 'view', '--json'], { env: cenv })).code).toBe(0); // the session still works
    const out = await cli(['logout', '--json'], { env: cenv });
    expect(JSON.parse(out.stdout)).toEqual({
      profile: 'default',
      action: 'logout',
      had_token: true,
      session: 'ended',
    });
    const again = await cli(['logout', '--json'], { env: cenv });
    expect(JSON.parse(again.stdout)).toEqual({ profile: 'default', action: 'logout', had_token: false });
    const unknown = await cli(['logout', '--profile', 'nosuch'], { env: cenv });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no profile named 'nosuch'");
  });

  it('config use and set print a JSON document with --json', async () => {
    const dir = await tempConfigDir();
    const cenv = { RDADMIN_CONFIG_DIR: dir };
    const set = await cli(['config', 'set', 'timeout', '40', '--profile', 'adm', '--json'], { env: cenv });
    expect(JSON.parse(set.stdout)).toEqual({ profile: 'adm', key: 'timeout', value: 40, action: 'set' });
    const tok = await cli(['config', 'set', 'token', '-', '--profile', 'adm', '--json'], {
      env: cenv,
      stdin: 'rdt_secret_value\n',
    });
    expect(JSON.parse(tok.stdout)).toEqual({ profile: 'adm', key: 'token', action: 'set' });
    const use = await cli(['config', 'use', 'adm', '--json'], { env: cenv });
    expect(JSON.parse(use.stdout)).toEqual({ profile: 'adm', action: 'use' });
  });

  it('ab get-personal-ab --dry-run does not ask the server (which creates the book on first use)', async () => {
    const before = s.logs.length;
    const r = await cli(['ab', 'get-personal-ab', '--dry-run', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ action: 'get-personal-ab', dry_run: true });
    expect(s.logs.length).toBe(before);
  });

  it('ab empty-recycle on an empty bin prints [] with --json', async () => {
    const book = await s.store.addressBooks.createShared({
      name: 'Empty bin',
      ownerGuid: (await s.store.users.getByName('admin'))!.guid,
    });
    const r = await cli(['ab', 'empty-recycle', '--ab-guid', book, '--yes', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
});

describe('group and address-book creates and updates: a dry run fails where the real run would', () => {
  /** The same command with --dry-run, then for real: both refused alike, and only the dry run wrote nothing. */
  async function sameRefusal(args: string[], message: string) {
    s.logs.length = 0;
    const dry = await cli([...args, '--dry-run'], { env });
    expect(dry.code, dry.stderr).toBe(1);
    expect(dry.stderr).toContain(message);
    expect(dry.stderr).not.toContain('Dry run: would');
    expect(writes()).toEqual([]);
    const real = await cli(args, { env });
    expect(real.code, real.stderr).toBe(1);
    expect(real.stderr).toContain(message);
  }

  beforeEach(async () => {
    for (const args of [
      ['user-groups', 'add', '--name', 'Support'],
      ['user-groups', 'add', '--name', 'Ops'],
      ['device-groups', 'add', '--name', 'Servers'],
      ['ab', 'add-ab', '--ab-name', 'Team'],
      ['ab', 'add-ab', '--ab-name', 'Field'],
    ]) {
      const r = await cli(args, { env });
      expect(r.code, r.stderr).toBe(0);
    }
    s.logs.length = 0;
  });

  it('a taken group name, on add and on a rename', async () => {
    await sameRefusal(
      ['user-groups', 'add', '--name', 'Support'],
      "a user group named 'Support' already exists",
    );
    await sameRefusal(
      ['device-groups', 'add', '--name', 'Servers'],
      "a device group named 'Servers' already exists",
    );
    await sameRefusal(
      ['user-groups', 'update', '--name', 'Ops', '--new-name', 'Support'],
      "a user group named 'Support' already exists",
    );
    await sameRefusal(
      ['user-groups', 'update', '--name', 'Default', '--new-name', 'Everyone'],
      "the 'Default' user group cannot be renamed",
    );
  });

  it('a rule naming a user or group that does not exist, or the group itself', async () => {
    await sameRefusal(
      ['user-groups', 'add', '--name', 'New', '--accessed-from', 'user:nobody-here'],
      "user 'nobody-here' does not exist",
    );
    await sameRefusal(
      ['device-groups', 'update', '--name', 'Servers', '--accessed-from', 'user-group:Nope'],
      "user group 'Nope' does not exist",
    );
    await sameRefusal(
      ['user-groups', 'update', '--name', 'Ops', '--access-to', 'user-group:Ops'],
      'a group needs no rule for itself',
    );
  });

  it('a taken shared address book name, and an owner who does not exist', async () => {
    await sameRefusal(
      ['ab', 'add-ab', '--ab-name', 'Team'],
      "a shared address book named 'Team' already exists",
    );
    await sameRefusal(
      ['ab', 'update-ab', '--ab-name', 'Field', '--ab-update-name', 'Team'],
      "a shared address book named 'Team' already exists",
    );
    await sameRefusal(
      ['ab', 'update-ab', '--ab-name', 'Field', '--owner', 'nobody-here'],
      "user 'nobody-here' does not exist",
    );
  });

  it('a user who is not an administrator is told the books they cannot see were not checked', async () => {
    await s.seedUsers(['plain']);
    const plain = { RDADMIN_URL: s.url, RDADMIN_TOKEN: await s.login('plain', 'password123') };
    s.logs.length = 0;
    const dry = await cli(['ab', 'add-ab', '--ab-name', 'Team', '--dry-run'], { env: plain });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain(
      "warning: could not check that no shared address book you cannot see is named 'Team'",
    );
    expect(writes()).toEqual([]);
    // An API token (an administrator's delegate) sees every book: nothing to warn of.
    const token = await cli(['ab', 'add-ab', '--ab-name', 'Other', '--dry-run'], { env });
    expect(token.code, token.stderr).toBe(0);
    expect(token.stderr).not.toContain('could not check');
  });

  it('what a real run would take passes: a free name, existing rule targets, the same name kept', async () => {
    for (const args of [
      ['user-groups', 'add', '--name', 'New', '--accessed-from', 'user-group:Support,user:admin'],
      ['user-groups', 'update', '--name', 'Ops', '--new-name', 'Ops', '--access-to', 'device-group:Servers'],
      ['device-groups', 'add', '--name', 'Lab', '--accessed-from', 'user-group:Ops'],
      ['ab', 'add-ab', '--ab-name', 'New book'],
      ['ab', 'update-ab', '--ab-name', 'Team', '--ab-update-name', 'Team', '--owner', 'admin'],
    ]) {
      const r = await cli([...args, '--dry-run'], { env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toContain('Dry run: would');
    }
    expect(writes()).toEqual([]);
  });
});
