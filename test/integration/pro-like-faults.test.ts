import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimClient } from '../../src/sim/rustdesk-client';
import { cli, tempConfigDir } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// rdadmin against a server that is not rdadmin serve (Pro, or rdadmin serve behind a proxy that
// misbehaves). The proxy here forwards to a real rdadmin serve, hides what Pro does not have (the
// batch endpoint, rdadmin serve's header, its own endpoints: 404 {"error":"Not Found"}), and can
// answer a change with a gateway error after forwarding it, or with 429 and a long Retry-After.
// With `pro` set, it answers as Pro does where rdadmin serve answers otherwise (ProShape).

type Fault = 'gateway-after' | 'slow-down' | undefined;

/**
 * Pro's ways of answering, each where rdadmin serve answers otherwise (server-model.md §1.1, §2.1,
 * §3.8; pro-admin-api.md §1.4–1.6, §7.2).
 */
interface ProShape {
  /** A 4xx other than 401, 403 and 429 as a 200 `{"error"}`. */
  err200?: boolean;
  /** A 403 as a 200 `{"error": "Permission denied"}`. */
  deny200?: boolean;
  /** A failed login (401) as a 200 `{"error"}`. */
  login200?: boolean;
  /** These users' logins answer the second step: `{type: "email_check", tfa_type, secret, user}`. */
  tfa?: Record<string, 'tfa_check' | 'email_check'>;
  /** /api/currentUser refuses an API token with a 400, or a 200 `{"error"}`. */
  currentUser?: 400 | 200;
  /** A change's success answers this body (blank, `{}`, `null`) instead of rdadmin serve's. */
  okBody?: string;
  /** A listing without rows answers `{"data": null, "total": 0}`. */
  nullData?: boolean;
  /** GETs of these paths answer a 200 with this body (blank or `null`: strategies.py prints null). */
  getBody?: { what: RegExp; text: string };
  /** Changes of this `METHOD /path` are refused with a 200 `{"error": text}`, not forwarded. */
  refuse?: { what: RegExp; error: string };
}

let s: TestServer;
let proxy: Server;
let url: string;
let fault: Fault;
let pro: ProShape = {};
const forwarded: string[] = [];

const refusal = (error: string) => ({ status: 200, text: JSON.stringify({ error }) });

/** rdadmin serve's answer as Pro gives it (ProShape), or undefined: passed on as it is. */
function proAnswer(
  method: string,
  path: string,
  status: number,
  text: string,
): { status: number; text: string } | undefined {
  let json: { error?: unknown; data?: unknown; total?: unknown; user?: { name?: string } } | undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {}
  const error = typeof json?.error === 'string' ? json.error : text;
  if (path === '/api/currentUser' && status !== 200 && pro.currentUser)
    return pro.currentUser === 400 ? { status: 400, text: JSON.stringify({ error }) } : refusal(error);
  if (path === '/api/login') {
    if (status === 401 && pro.login200) return refusal(error);
    const tfa = pro.tfa?.[json?.user?.name ?? ''];
    if (status !== 200 || !tfa) return undefined;
    return {
      status: 200,
      text: JSON.stringify({
        type: 'email_check',
        tfa_type: tfa,
        secret: 'c2Vjb25kLXN0ZXA=',
        user: json!.user,
      }),
    };
  }
  if (status === 403 && pro.deny200) return refusal('Permission denied');
  if (status >= 400 && status < 500 && ![401, 403, 429].includes(status) && pro.err200) return refusal(error);
  if (status !== 200) return undefined;
  if (method === 'GET') {
    if (pro.getBody?.what.test(path)) return { status: 200, text: pro.getBody.text };
    if (pro.nullData && Array.isArray(json?.data) && json.data.length === 0)
      return { status: 200, text: JSON.stringify({ data: null, total: json.total }) };
    return undefined;
  }
  return pro.okBody === undefined ? undefined : { status: 200, text: pro.okBody };
}

const SERVE_ONLY = [
  /^\/api\/rdadmin\//,
  /^\/api\/ab\/recycle/,
  /^\/api\/devices\/[^/]+\/(disconnect|reset-uuid)$/,
  /^\/api\/strategies\/effective/,
  /^\/api\/settings/,
  /^\/api\/tokens/,
];

function hidden(method: string, path: string): boolean {
  if (SERVE_ONLY.some((re) => re.test(path))) return true;
  // Pro lists, views, enables and assigns strategies; creating, changing and deleting them is ours.
  return (
    (method === 'POST' && path === '/api/strategies') ||
    ((method === 'PATCH' || method === 'DELETE') && /^\/api\/strategies\/[^/]+$/.test(path))
  );
}

beforeAll(async () => {
  s = await startTestServer();
  const target = new URL(s.url);
  proxy = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const method = req.method ?? 'GET';
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (hidden(method, path)) return json(404, { error: 'Not Found' });
    const change = method !== 'GET';
    if (change && fault === 'slow-down') return json(429, { error: 'slow down' }, { 'retry-after': '120' });
    if (change && pro.refuse?.what.test(`${method} ${path}`)) {
      req.resume();
      return json(200, { error: pro.refuse.error });
    }
    forwarded.push(`${method} ${path}`);
    const up = request(
      { host: target.hostname, port: target.port, path: req.url, method, headers: req.headers },
      (answer) => {
        if (change && fault === 'gateway-after') {
          answer.resume();
          res.writeHead(504, { 'content-type': 'text/html' });
          res.end('<html><head><title>504 Gateway Time-out</title></head></html>');
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          const status = answer.statusCode ?? 502;
          const shaped = proAnswer(method, path, status, body.toString());
          if (shaped) {
            res.writeHead(shaped.status, { 'content-type': 'application/json' });
            res.end(shaped.text);
            return;
          }
          const headers = { ...answer.headers };
          delete headers['x-rdadmin-batch'];
          res.writeHead(status, headers);
          res.end(body);
        });
      },
    );
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => proxy.close(r));
  await s.close();
});
beforeEach(() => {
  fault = undefined;
  pro = {};
  forwarded.length = 0;
});

const run = (args: string[], token = s.token) =>
  cli(args, { env: { RDADMIN_URL: url, RDADMIN_TOKEN: token } });

describe('bulk runs against a gateway and a server asking to slow down', () => {
  it('a 504 from a gateway after the change reached the server is NOT CONFIRMED, not failed', async () => {
    await s.seedUsers(['gw1', 'gw2', 'gw3'], { status: 0 });
    fault = 'gateway-after';
    const r = await run(['users', 'enable', '--name', 'gw', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const rows = JSON.parse(r.stdout) as { name: string; outcome: string; error: string }[];
    expect(rows.map((x) => [x.name, x.outcome]).sort()).toEqual([
      ['gw1', 'unknown'],
      ['gw2', 'unknown'],
      ['gw3', 'unknown'],
    ]);
    expect(rows[0]!.error).toMatch(/^not confirmed \(outcome unknown\): a gateway answered for the server/);
    expect(r.stderr).toContain('3 not confirmed (outcome unknown)');
    expect(r.stderr).toContain('may or may not have changed');
    // They were changed: "failed" would have been a lie.
    for (const n of ['gw1', 'gw2', 'gw3']) expect((await s.store.users.getByName(n))?.status).toBe(1);
  });

  it('a 429 asking to wait over a minute stops the run: the rest not attempted, the wait named', async () => {
    await s.seedUsers(
      Array.from({ length: 40 }, (_, i) => `sl${String(i).padStart(2, '0')}`),
      { status: 0 },
    );
    fault = 'slow-down';
    const r = await run(['users', 'enable', '--name', 'sl', '--yes', '--json', '--concurrency', '2']);
    expect(r.code, r.stderr).toBe(1);
    const rows = JSON.parse(r.stdout) as { outcome: string; error: string }[];
    expect(rows).toHaveLength(40);
    const failed = rows.filter((x) => x.outcome === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThanOrEqual(2);
    expect(rows.filter((x) => x.outcome === 'not_attempted').length).toBe(40 - failed.length);
    expect(rows.at(-1)!.error).toBe('not attempted: the run stopped on the server asking to slow down');
    expect(r.stderr).toContain('hint: the server asks to wait 120 s before the next request');
    expect(forwarded.filter((l) => l.startsWith('POST'))).toEqual([]);
  });
});

describe("rdadmin serve's own verbs against a server without them", () => {
  const notServe = /does not have it; it is rdadmin serve's own, and this server is not rdadmin serve/;

  it('say so once, before any change or dry-run claim, exit 1', async () => {
    const c = new SimClient(s.url, { id: '700000001', uuid: 'cHJvLWxpa2U=' });
    await c.heartbeat();
    await s.adminOk('POST', '/api/ab/shared/add', { name: 'Team' });
    for (const args of [
      ['devices', 'reset-uuid', '--id', '700000001', '--yes'],
      ['devices', 'disconnect', '--id', '700000001'],
      ['strategies', 'create', '--name', 'K2', '--option', 'enable-audio=N', '--dry-run'],
      ['strategies', 'update', '--name', 'Default', '--option', 'enable-audio=N'],
      ['strategies', 'delete', '--name', 'Default', '--yes'],
      ['strategies', 'effective', '--peer', '700000001'],
      ['ab', 'view-recycle', '--ab-name', 'Team'],
      ['ab', 'empty-recycle', '--ab-name', 'Team', '--dry-run'],
      ['tokens', 'list'],
    ]) {
      forwarded.length = 0;
      const r = await run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(notServe);
      expect(r.stderr).toContain('hint: do it in the Pro web console, or point --url at rdadmin serve');
      expect(r.stderr).not.toContain('Dry run: would');
      expect(
        forwarded.filter((l) => !l.startsWith('GET')),
        args.join(' '),
      ).toEqual([]);
    }
  });

  it('work as before against rdadmin serve itself', async () => {
    const r = await cli(['strategies', 'create', '--name', 'K3', '--dry-run'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("Dry run: would create strategy 'K3'");
  });
});

describe('answers as Pro gives them', () => {
  const books = async (name: string) =>
    (
      (await s.call('GET', `/api/ab/shared/profiles?name=${name}`, s.token)).json!.data as {
        guid: string;
        name: string;
      }[]
    ).filter((b) => b.name === name);

  it('a book or rule created with the answer {}, null or blank: exit 0, saying the GUID did not come', async () => {
    await s.seedUsers(['rule-anna']);
    for (const [i, okBody] of ['{}', 'null', ''].entries()) {
      pro = { okBody };
      const name = `ProBook${i}`;
      const add = await run(['ab', 'add-ab', '--ab-name', name]);
      expect([add.code, add.stdout, add.stderr]).toEqual([
        0,
        '',
        `Created shared address book '${name}'; the server did not return its GUID (view-ab shows it).\n`,
      ]);
      const [book] = await books(name);
      expect(book).toBeDefined();
      const json = await run(['ab', 'add-ab', '--ab-name', `${name}j`, '--json']);
      expect([json.code, JSON.parse(json.stdout)]).toEqual([0, { ok: true, name: `${name}j` }]);
      expect(await books(`${name}j`)).toHaveLength(1);
      const rule = await run([
        'ab',
        'add-rule',
        '--ab-name',
        name,
        '--rule-user',
        'rule-anna',
        '--rule-permission',
        'ro',
      ]);
      expect([rule.code, rule.stdout, rule.stderr]).toEqual([
        0,
        '',
        `Shared address book '${name}' with user 'rule-anna': read-only (ro); the server did not return the rule's GUID (view-rule shows it).\n`,
      ]);
      const rules = (await s.call('GET', `/api/ab/rules?ab=${book!.guid}`, s.token)).json!.data;
      expect(rules).toEqual([expect.objectContaining({ user: 'rule-anna', rule: 1 })]);
    }
    // With the GUID in the answer, as rdadmin serve gives it: printed on stdout.
    pro = {};
    const add = await run(['ab', 'add-ab', '--ab-name', 'ProBookG']);
    const [book] = await books('ProBookG');
    expect([add.code, add.stdout, add.stderr]).toEqual([
      0,
      `${book!.guid}\n`,
      "Created shared address book 'ProBookG'.\n",
    ]);
  });

  it('an invitation answered null: exit 0, the user invited', async () => {
    pro = { okBody: 'null' };
    const r = await run([
      'users',
      'invite',
      '--email',
      'zed@example.com',
      '--name',
      'pro-zed',
      '--group_name',
      'Default',
    ]);
    expect([r.code, r.stdout, r.stderr]).toEqual([
      0,
      '',
      'Invited pro-zed: the server sends the invitation to zed@example.com.\n',
    ]);
    expect(await s.store.users.getByName('pro-zed')).toBeDefined();
    const json = await run(
      [
        'users',
        'invite',
        '--email',
        'zoe@example.com',
        '--name',
        'pro-zoe',
        '--group_name',
        'Default',
      ].concat('--json'),
    );
    expect([json.code, JSON.parse(json.stdout)]).toEqual([0, {}]);
  });

  it('the dry run of add-ab with an API token that /api/currentUser refuses with a 400 or a 200 {"error"}', async () => {
    for (const currentUser of [400, 200] as const) {
      pro = { currentUser };
      const r = await run(['ab', 'add-ab', '--ab-name', `DryPro${currentUser}`, '--dry-run']);
      expect([r.code, r.stdout, r.stderr]).toEqual([
        0,
        '',
        `Dry run: would create shared address book 'DryPro${currentUser}'; nothing was changed.\n`,
      ]);
    }
  });

  it('login of an account with a second factor: exit 4, said so, with the way out; nothing saved', async () => {
    await s.seedUsers(['pro-totp', 'pro-mail']);
    pro = { tfa: { 'pro-totp': 'tfa_check', 'pro-mail': 'email_check' } };
    const cfg = await tempConfigDir();
    for (const [user, code] of [
      ['pro-totp', 'a TOTP code from an authenticator app'],
      ['pro-mail', 'a code sent by email'],
    ]) {
      const r = await cli(['login', '--url', url, '--username', user!, '--password-stdin'], {
        env: { RDADMIN_CONFIG_DIR: cfg },
        stdin: 'password123\n',
      });
      expect([r.code, r.stdout, r.stderr]).toEqual([
        4,
        '',
        `error: not logged in: user '${user}' needs a second factor (${code}) to log in, which rdadmin login does not support\n` +
          'hint: use an API token instead (made in the web console, or with `rdadmin tokens create` on rdadmin serve), saved in the profile with `rdadmin config set token -` (the token on stdin)\n',
      ]);
    }
    expect(existsSync(join(cfg, 'config.json'))).toBe(false);
  });

  it('a wrong password answered with a 200 {"error"}: exit 4 with the hint, as a 401', async () => {
    pro = { login200: true };
    const r = await cli(['login', '--url', url, '--username', 'admin', '--password-stdin'], {
      env: { RDADMIN_CONFIG_DIR: await tempConfigDir() },
      stdin: 'not-the-password\n',
    });
    expect([r.code, r.stdout, r.stderr]).toEqual([
      4,
      '',
      'error: not authenticated: wrong user name or password\n' +
        'hint: check the user name and the password (a disabled user cannot log in)\n',
    ]);
  });

  const DENIED_HINT =
    'hint: the server refused it for want of permission: an API token needs the permission of this area (given where the token was made: the web console, or `rdadmin tokens create --help`); a user session, the right in that area';

  it('"Permission denied" on a 200: exit 4, and a bulk run stops at the first', async () => {
    pro = { deny200: true };
    const none = await s.makeToken('device:r');
    const view = await run(['users', 'view'], none);
    expect([view.code, view.stdout, view.stderr]).toEqual([
      4,
      '',
      `error: Permission denied\n${DENIED_HINT}\n`,
    ]);
    await s.seedUsers(['pd1', 'pd2', 'pd3', 'pd4', 'pd5'], { status: 0 });
    const readOnly = await s.makeToken('user:r');
    const r = await run(
      ['users', 'enable', '--name', 'pd', '--yes', '--json', '--concurrency', '1'],
      readOnly,
    );
    expect(r.code, r.stderr).toBe(4);
    const rows = JSON.parse(r.stdout) as { outcome: string; error: string; status?: number }[];
    expect(rows.map((x) => x.outcome)).toEqual([
      'failed',
      'not_attempted',
      'not_attempted',
      'not_attempted',
      'not_attempted',
    ]);
    expect(rows[0]).toMatchObject({ error: 'Permission denied', status: 200 });
    expect(forwarded.filter((l) => l.startsWith('POST'))).toHaveLength(1);
    expect(r.stderr).toContain(
      'error: Enabled 0 of 5 users; 1 failed, 4 not attempted. Stopped: Permission denied\n',
    );
    expect(r.stderr).toContain(DENIED_HINT);
  });

  it('logout of an API token refused with "Permission denied" on a 200: exit 4, the token hint, the token kept', async () => {
    pro = { deny200: true };
    const cfg = await tempConfigDir();
    const env = { RDADMIN_CONFIG_DIR: cfg };
    const apiToken = await s.makeToken('user:r');
    expect((await cli(['config', 'set', 'url', url], { env })).code).toBe(0);
    expect((await cli(['config', 'set', 'token', '-'], { env, stdin: `${apiToken}\n` })).code).toBe(0);
    const r = await cli(['logout'], { env });
    expect([r.code, r.stderr]).toEqual([
      4,
      'error: not logged out: Permission denied\n' +
        "hint: profile 'default' keeps the token. An API token has no session to end: rdadmin logout --local removes the token without ending the session, and `rdadmin tokens revoke` (or the web console) revokes it\n",
    ]);
    const saved = JSON.parse(await readFile(join(cfg, 'config.json'), 'utf8'));
    expect(saved.profiles.default.token).toBe(apiToken);
  });

  it('other refusals on a 200 stay exit 1, and a bulk run goes on past them', async () => {
    pro = { err200: true };
    await s.seedUsers(['pe1', 'pe2']);
    const del = await run(['users', 'delete', '--name', 'pe', '--yes', '--concurrency', '1']);
    expect(del.code, del.stderr).toBe(1);
    expect(del.stderr).toContain(
      "FAILED to delete pe1: user 'pe1' is enabled: disable it first, then delete it\n",
    );
    expect(del.stderr).toContain(
      "FAILED to delete pe2: user 'pe2' is enabled: disable it first, then delete it\n",
    );
    expect(del.stderr).toContain('error: Deleted 0 of 2 users; 2 failed.\n');
    // Only a text that starts with "permission denied" is taken for Pro's permission refusal.
    pro = {
      refuse: { what: /^POST \/api\/users\/[^/]+\/disable$/, error: 'the policy says: permission denied' },
    };
    const off = await run(['users', 'disable', '--name', 'pe', '--yes', '--concurrency', '1']);
    expect(off.code, off.stderr).toBe(1);
    expect(off.stderr).toContain('FAILED to disable pe1: the policy says: permission denied\n');
    expect(off.stderr).toContain('FAILED to disable pe2: the policy says: permission denied\n');
    expect(off.stderr).toContain('error: Disabled 0 of 2 users; 2 failed.\n');
  });

  it('an audit page with "data": null is no records, as with --all', async () => {
    pro = { nullData: true };
    for (const extra of [[], ['--all']]) {
      const r = await run(['audits', 'view-conn', '--remote', '987654321', ...extra]);
      expect([r.code, r.stdout, r.stderr], extra.join(' ')).toEqual([
        0,
        '',
        'No connection records match.\n',
      ]);
    }
    const page = await run(['audits', 'view-conn', '--remote', '987654321', '--json']);
    expect([page.code, JSON.parse(page.stdout)]).toEqual([
      0,
      { data: [], total: 0, current: 1, pageSize: 10 },
    ]);
    const all = await run(['audits', 'view-conn', '--remote', '987654321', '--json', '--all']);
    expect([all.code, JSON.parse(all.stdout)]).toEqual([0, []]);
  });

  it('a blank or null answer to GET /api/strategies is a fault (exit 1), not "no strategies" nor "not found"', async () => {
    for (const [text, said] of [
      ['', 'an empty body where data was expected'],
      ['null', 'null where the strategies were expected'],
    ]) {
      pro = { getBody: { what: /^\/api\/strategies$/, text: text! } };
      for (const args of [
        ['strategies', 'list'],
        ['strategies', 'list', '--json'],
        ['strategies', 'view', '--name', 'Default'],
        ['strategies', 'enable', '--name', 'Default'],
      ]) {
        const r = await run(args);
        expect([r.code, r.stdout, r.stderr], `${args.join(' ')} (${text || 'blank'})`).toEqual([
          1,
          '',
          `error: the server answered HTTP 200 with ${said}\n` +
            'hint: is --url the RustDesk console (port 21114), and not a proxy or web page?\n',
        ]);
      }
    }
  });
});
