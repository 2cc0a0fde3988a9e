import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, tempConfigDir } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// A newcomer's mistakes, each answered with the error and the hint that fit it. Where the server and
// token come from: each mistake is a usage error (exit 2) named before any request (the URL is a
// port nothing listens on, so a request would end in exit 5).

let cfg: string;
let env: Record<string, string>;

beforeEach(async () => {
  cfg = await tempConfigDir();
  env = { RDADMIN_CONFIG_DIR: cfg, RDADMIN_URL: 'http://127.0.0.1:1' };
});

describe('token and profile mistakes', () => {
  it('--token and --token-file together are refused, whichever would win', async () => {
    const file = join(cfg, 'token.txt');
    await writeFile(file, 'rdt_from_file\n');
    const r = await cli(['users', 'view', '--token', 'rdt_x', '--token-file', file], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--token and --token-file both give the token: pass one of them');
  });

  it('a timeout or concurrency under 1 is refused, as its message says (0.5 made a 0-connection pool)', async () => {
    for (const [args, extra, what] of [
      [['--timeout', '0.5'], {}, '--timeout must be a number between 1 and 3600'],
      [[], { RDADMIN_TIMEOUT: '0.5' }, 'RDADMIN_TIMEOUT must be a number between 1 and 3600'],
      [['--concurrency', '0.5'], {}, '--concurrency must be a whole number from 1 to 64'],
    ] as [string[], Record<string, string>, string][]) {
      const r = await cli(['users', 'view', ...args], { env: { ...env, ...extra } });
      expect([args, r.code]).toEqual([args, 2]);
      expect(r.stderr).toContain(what);
    }
  });

  it('a missing token file names the path and the fix', async () => {
    const r = await cli(['users', 'view', '--token-file', join(cfg, 'nope.txt')], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot read the token from ${join(cfg, 'nope.txt')}: ENOENT`);
    expect(r.stderr).toContain('hint: no such file: check the path');
  });

  it('RDADMIN_PROFILE naming no profile is an error, as --profile is', async () => {
    const r = await cli(['users', 'view'], {
      env: { ...env, RDADMIN_TOKEN: 'rdt_x', RDADMIN_PROFILE: 'nosuch' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no profile named 'nosuch' (from RDADMIN_PROFILE)");
    const flag = await cli(['users', 'view', '--profile', 'nosuch'], {
      env: { ...env, RDADMIN_TOKEN: 'rdt_x' },
    });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("no profile named 'nosuch'\n");
  });
});

describe('a password in a saved URL', () => {
  it('config set refuses it (exit 2) without showing it; config list of a hand-edited one hides it', async () => {
    const env = { RDADMIN_CONFIG_DIR: cfg };
    for (const url of [
      'http://ops:UrlPw-Secret@127.0.0.1:1',
      'http://ops:UrlPw/Secret@127.0.0.1:1', // not a URL at all: a / in the password
      'ftp://ops:UrlPw-Secret@x',
    ]) {
      const set = await cli(['config', 'set', 'url', url, '--profile', 'p'], { env });
      expect([set.code, set.stdout], url).toEqual([2, '']);
      expect(set.stderr).toMatch(/^error: invalid server URL '(http|ftp):\/\/\*\*\*@/);
      expect(set.stderr).not.toMatch(/UrlPw|Secret/);
    }
    await expect(stat(join(cfg, 'config.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    await writeFile(
      join(cfg, 'config.json'),
      JSON.stringify({
        currentProfile: 'p',
        profiles: { p: { url: 'http://ops:UrlPw/Secret@127.0.0.1:1', token: 'rdt_x' } },
      }),
    );
    const list = await cli(['config', 'list', '--json'], { env });
    const table = await cli(['config', 'list'], { env });
    const view = await cli(['users', 'view'], { env });
    const all = [list, table, view].map((r) => r.stdout + r.stderr).join('');
    expect(all).not.toMatch(/UrlPw|Secret/);
    expect(JSON.parse(list.stdout).profiles[0].url).toBe('http://***@127.0.0.1:1');
    expect(table.stdout).toContain('http://***@127.0.0.1:1');
    expect([view.code, view.stderr.split('\n')[0]]).toEqual([
      2,
      "error: invalid server URL 'http://***@127.0.0.1:1': it holds a user name or password (user:password@), which rdadmin never sends",
    ]);
    // logout of such a profile (saved by an older version) names the two ways out.
    const logout = await cli(['logout', '--profile', 'p'], { env });
    expect(logout.code).toBe(2);
    expect(logout.stderr).not.toMatch(/UrlPw|Secret/);
    expect(logout.stderr).toContain("error: profile 'p': invalid server URL 'http://***@127.0.0.1:1'");
    expect(logout.stderr).toContain(
      'fix the profile with `rdadmin config set url URL --profile p` and log out again, or remove the token without the server: `rdadmin logout --local --profile p`',
    );
    const local = await cli(['logout', '--local', '--profile', 'p'], { env });
    expect(local.code, local.stderr).toBe(0);
  });
});

describe('a hand-edited config.json', () => {
  it('a value of the wrong type is named, never taken loosely ("false" must not turn TLS checks off)', async () => {
    for (const [key, value, what] of [
      ['insecure', 'false', 'true or false'],
      ['timeout', 'abc', 'a number of seconds from 1 to 3600'],
      ['concurrency', 0, 'a whole number from 1 to 64'],
      ['url', 42, 'a string'],
    ] as const) {
      await writeFile(
        join(cfg, 'config.json'),
        JSON.stringify({
          currentProfile: 'p',
          profiles: { p: { url: 'https://127.0.0.1:1', token: 'rdt_x', [key]: value } },
        }),
      );
      const r = await cli(['users', 'view'], { env: { RDADMIN_CONFIG_DIR: cfg } });
      expect([key, r.code]).toEqual([key, 2]);
      expect(r.stderr).toContain(`profile 'p': ${key} must be ${what}`);
    }
  });

  it('config set refuses what a profile read from the file would refuse (one rule)', async () => {
    for (const [key, value, what] of [
      ['concurrency', '1.5', 'a whole number from 1 to 64'],
      ['concurrency', '65', 'a whole number from 1 to 64'],
      ['timeout', '0', 'a number of seconds from 1 to 3600'],
      ['timeout', '0.5', 'a number of seconds from 1 to 3600'],
      ['insecure', 'yes', 'true or false'],
    ]) {
      const r = await cli(['config', 'set', key!, value!, '--profile', 'p'], {
        env: { RDADMIN_CONFIG_DIR: cfg },
      });
      expect([key, value, r.code]).toEqual([key, value, 2]);
      expect(r.stderr).toContain(`${key} must be ${what}`);
    }
    const ok = await cli(['config', 'set', 'concurrency', '16', '--profile', 'p'], {
      env: { RDADMIN_CONFIG_DIR: cfg },
    });
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('invalid JSON is named (file and problem) by the verbs that need it; serve and login do not need it', async () => {
    await writeFile(join(cfg, 'config.json'), '{ not json');
    for (const args of [
      ['users', 'view'],
      ['config', 'list'],
    ]) {
      const r = await cli(args, { env: { RDADMIN_CONFIG_DIR: cfg, RDADMIN_TOKEN: 'rdt_x' } });
      expect([args, r.code]).toEqual([args, 2]);
      expect(r.stderr).toContain(`${join(cfg, 'config.json')} is not valid JSON`);
      expect(r.stderr).toContain('hint: fix it, or move it away to start afresh');
    }
    const help = await cli(['serve', '--help'], { env: { RDADMIN_CONFIG_DIR: cfg } });
    expect(help.code).toBe(0);
    const dry = await cli(
      ['login', '--url', 'http://127.0.0.1:1', '--username', 'a', '--dry-run', '--profile', 'x'],
      {
        env: { RDADMIN_CONFIG_DIR: cfg },
      },
    );
    expect(dry.code, dry.stderr).toBe(0);
  });
});

describe('help', () => {
  it("serve's help lists its own options only; a client verb's help lists the global ones", async () => {
    const serve = await cli(['serve', '--help']);
    expect(serve.code).toBe(0);
    expect(serve.stdout).toContain('--data-dir');
    expect(serve.stdout).not.toContain('Global options');
    expect(serve.stdout).not.toContain('--token-file');
    const view = await cli(['users', 'view', '--help']);
    expect(view.stdout).toContain('Global options (before or after the verb):');
    expect(view.stdout).toContain('--token-file');
  });
});

describe('serve: a data folder that cannot be used', () => {
  it('is a usage error naming the folder (exit 2), not an unexpected failure', async () => {
    const file = join(cfg, 'a-file');
    await writeFile(file, 'x');
    const r = await cli(['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', join(file, 'data')], {
      env: { RDADMIN_CONFIG_DIR: cfg },
    });
    expect(r.code).toBe(2);
    // A file in the way: ENOTDIR or EEXIST, depending on which step of making the folder meets it.
    expect(r.stderr).toMatch(/^error: cannot use the data folder .*\/a-file\/data: (ENOTDIR|EEXIST)$/m);
    expect(r.stderr).toContain('hint: pass --data-dir with a folder this user may create or write');
    expect(r.stderr).not.toContain('unexpected failure');
  });

  it('a database file that is not SQLite, a folder where the key file goes, a host that does not resolve', async () => {
    const serve = (args: string[]) =>
      cli(['serve', '--port', '0', ...args], { env: { RDADMIN_CONFIG_DIR: cfg } });
    const garbage = join(cfg, 'garbage');
    await mkdir(garbage);
    await writeFile(
      join(garbage, 'db.sqlite3'),
      'this is not a database, only text that is long enough'.repeat(100),
    );
    const db = await serve(['--host', '127.0.0.1', '--data-dir', garbage]);
    expect(db.code).toBe(2);
    expect(db.stderr).toContain(`${join(garbage, 'db.sqlite3')} is not a usable SQLite database`);
    const keyDir = join(cfg, 'keydir');
    await mkdir(join(keyDir, 'secret.key'), { recursive: true });
    const key = await serve(['--host', '127.0.0.1', '--data-dir', keyDir]);
    expect(key.code).toBe(2);
    expect(key.stderr).toContain(`cannot use the data folder ${keyDir}: EISDIR`);
    const host = await serve(['--host', 'no-such-host.invalid', '--data-dir', join(cfg, 'h')]);
    expect(host.code).toBe(2);
    expect(host.stderr).toContain('cannot listen on no-such-host.invalid: no such host name');
    for (const r of [db, key, host]) expect(r.stderr).not.toContain('unexpected failure');
  });
});

describe('hints that fit the mistake', () => {
  let s: TestServer;
  beforeEach(async () => {
    s = await startTestServer();
  });
  afterEach(async () => {
    await s.close();
  });

  it('https:// to a plain-HTTP server: one line saying so, and the hint to use http://', async () => {
    const r = await cli(['users', 'view'], {
      env: { RDADMIN_CONFIG_DIR: cfg, RDADMIN_URL: s.url.replace('http:', 'https:'), RDADMIN_TOKEN: s.token },
    });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('the server does not answer TLS (plain HTTP on that port?)');
    expect(r.stderr).toContain('hint: if the server has no TLS, use http://');
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
  });

  it('a wrong password at login points at the user name and password, not at a token', async () => {
    const r = await cli(['login', '--url', s.url, '--username', 'admin', '--password-stdin'], {
      env: { RDADMIN_CONFIG_DIR: cfg },
      stdin: 'wrong-password\n',
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('hint: check the user name and the password');
    expect(r.stderr).not.toContain('check the token');
  });

  it("an API token on an administrator's-session route is told to log in", async () => {
    const env = { RDADMIN_CONFIG_DIR: cfg, RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
    for (const args of [
      ['tokens', 'list'],
      ['settings', 'view'],
    ]) {
      const r = await cli(args, { env });
      expect(r.code).toBe(4);
      expect(r.stderr).toContain("needs an administrator's session");
      expect(r.stderr).toContain('hint: log in as an administrator (`rdadmin login --username admin`)');
    }
    const perm = await cli(['users', 'view'], {
      env: { ...env, RDADMIN_TOKEN: await s.makeToken('device:r') },
    });
    expect(perm.code).toBe(4);
    expect(perm.stderr).toContain('hint: an API token needs the permission named above');
  });
  it('a token file is read from its first line that is not blank', async () => {
    const file = join(cfg, 't_leadnl');
    await writeFile(file, `\n  \r\n${s.token}\nsomething else\n`);
    const r = await cli(['users', 'view', '--url', s.url, '--token-file', file, '--json'], {
      env: { RDADMIN_CONFIG_DIR: cfg },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)[0].name).toBe('admin');
    await writeFile(file, '\n \n\t\n');
    const blank = await cli(['users', 'view', '--url', s.url, '--token-file', file], {
      env: { RDADMIN_CONFIG_DIR: cfg },
    });
    expect([blank.code, blank.stderr]).toEqual([2, `error: the token from ${file} is empty\n`]);
  });

  it('a token longer than 4 KiB is refused before any request (exit 2), naming where it came from', async () => {
    const file = join(cfg, 't_big');
    await writeFile(file, `rdt_${'x'.repeat(20 * 1024 * 1024)}\n`);
    const before = s.logs.length;
    const big = await cli(['users', 'view', '--url', s.url, '--token-file', file], {
      env: { RDADMIN_CONFIG_DIR: cfg },
    });
    expect([big.code, big.stdout, big.stderr]).toEqual([
      2,
      '',
      `error: the token from ${file} is too long: ${20 * 1024 * 1024 + 4} characters on its first line (at most 4096)\n` +
        'hint: is it the right file? It must hold the secret alone, on one line\n',
    ]);
    const long = `rdt_${'y'.repeat(4093)}`;
    const env = await cli(['users', 'view', '--url', s.url], {
      env: { RDADMIN_CONFIG_DIR: cfg, RDADMIN_TOKEN: long },
    });
    expect([env.code, env.stderr.split('\n')[0]]).toEqual([
      2,
      'error: the token from RDADMIN_TOKEN is too long: 4097 characters (at most 4096)',
    ]);
    const set = await cli(['config', 'set', 'token', '-'], {
      env: { RDADMIN_CONFIG_DIR: cfg },
      stdin: `${long}\n`,
    });
    expect([set.code, set.stderr.split('\n')[0]]).toEqual([
      2,
      'error: the token from stdin is too long: 4097 characters on its first line (at most 4096)',
    ]);
    expect(s.logs.length).toBe(before);
    // 4096 characters are sent: the server judges them (not a token it made: 401).
    const most = await cli(['users', 'view', '--url', s.url], {
      env: { RDADMIN_CONFIG_DIR: cfg, RDADMIN_TOKEN: long.slice(1) },
    });
    expect(most.code).toBe(4);
  });

  it('a query or a fragment in the server URL is refused before any request (exit 2), as is one that does not parse', async () => {
    const before = s.logs.length;
    const env = { RDADMIN_CONFIG_DIR: cfg, RDADMIN_TOKEN: s.token };
    for (const url of [`${s.url}?x=1`, `${s.url}/#frag`, `${s.url}/rd?`]) {
      const r = await cli(['users', 'view', '--url', url], { env });
      expect([r.code, r.stdout, r.stderr], url).toEqual([
        2,
        '',
        `error: invalid server URL '${url}': it holds a query (?…) or a fragment (#…)\n` +
          'hint: the form is http(s)://host[:port], with the path prefix of the console if it has one\n',
      ]);
      const login = await cli(['login', '--url', url, '--username', 'admin', '--password-stdin'], {
        env,
        stdin: 'test1234\n',
      });
      expect([login.code, login.stderr.split('\n')[0]], url).toEqual([
        2,
        `error: invalid server URL '${url}': it holds a query (?…) or a fragment (#…)`,
      ]);
    }
    const port = await cli(['users', 'view', '--url', 'http://127.0.0.1:99999'], { env });
    expect([port.code, port.stderr.split('\n')[0]]).toEqual([
      2,
      "error: invalid server URL 'http://127.0.0.1:99999': it is not a valid URL",
    ]);
    expect(s.logs.length).toBe(before);
  });
});
