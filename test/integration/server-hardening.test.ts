import { chmod, copyFile, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/serve';
import { send } from '../helpers/routes';
import { startTestServer, type TestServer } from '../helpers/server';

// Findings of a security review of `rdadmin serve`: log forging, invitation secrets in the log,
// the modes of the data folder and database, and request bodies that are not valid UTF-8 / Unicode.

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

/** C0 controls, DEL, C1 controls: none may reach a log line from a request. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The log entries written since `from`, once the request that wrote them is answered. */
const logsSince = (from: number) => s.logs.slice(from);

describe('the request log: one request is one line', () => {
  it.each([
    [
      'a forged request line after LF',
      'POST',
      '/api/users/x%0A2026-11-27T11:50:00.000Z%20POST%20%2Fapi%2Ftokens%20200%201.0ms/disable',
      'POST /api/users/x%0A2026-11-27T11:50:00.000Z POST %2Fapi%2Ftokens 200 1.0ms/disable ',
    ],
    ['CR LF', 'GET', '/nothing%0D%0AFORGED-LINE', 'GET /nothing%0D%0AFORGED-LINE 404 '],
    ['NUL, ESC, DEL', 'GET', '/x%00y%1B%5B2Jz%7F', 'GET /x%00y%1B[2Jz%7F 404 '],
    ['a C1 control (NEL) and CSI', 'GET', '/a%C2%85b%C2%9B', 'GET /a%C2%85b%C2%9B 404 '],
  ])('%s: percent-encoded in the logged path', async (_what, method, path, start) => {
    const from = s.logs.length;
    const r = await send(s.url, { method, path, headers: { authorization: `Bearer ${s.token}` } });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    const lines = logsSince(from);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(CONTROL);
    expect(lines[0]!.startsWith(start), lines[0]).toBe(true);
  });

  it('inside a batch too', async () => {
    const from = s.logs.length;
    const r = await s.call('POST', '/api/rdadmin/batch', s.token, {
      requests: [{ method: 'POST', path: '/api/users/x%0AFORGED%0D/disable' }],
    });
    expect(r.status).toBe(200);
    const lines = logsSince(from);
    expect(lines.find((l) => l.startsWith('(batch) '))).toMatch(
      /^\(batch\) POST \/api\/users\/x%0AFORGED%0D\/disable 4\d\d \d+\.\dms$/,
    );
    for (const l of lines) expect(l).not.toMatch(CONTROL);
  });

  it('the "internal error on" line: the path is encoded, the stack frames stay below it', async () => {
    const t = await startTestServer();
    try {
      t.store.database.sqlite.exec('DROP TABLE strategies');
      const r = await send(t.url, {
        method: 'GET',
        path: '/api/strategies/x%0A2026-11-27T11:50:00.000Z%20FORGED',
        headers: { authorization: `Bearer ${t.token}` },
      });
      expect(r.status).toBe(500);
      const entry = t.logs.find((l) => l.startsWith('internal error on '))!;
      const [head, ...frames] = entry.split('\n');
      expect(head).toMatch(
        /^internal error on GET \/api\/strategies\/x%0A2026-11-27T11:50:00\.000Z FORGED: SqliteError: no such table: strategies$/,
      );
      expect(frames.length).toBeGreaterThan(0);
      for (const f of frames) expect(f).toMatch(/^ {4}at /);
    } finally {
      await t.close();
    }
  });
});

describe('invitation secrets never reach the log', () => {
  const SECRET = 'rdi_TopSecretInvitation0123456789';

  it.each([
    ['/api/invitations/', '/api/invitations/***'],
    ['//api/invitations/', '//api/invitations/***'],
    ['/API/invitations/', '/API/invitations/***'],
    ['/api/Invitations/', '/api/Invitations/***'],
    ['/api/INVITATIONS/', '/api/INVITATIONS/***'],
    ['/api/invitations%2F', '/api/invitations***'],
    ['/api/invitations;', '/api/invitations***'],
    ['/api/invitations/x/', '/api/invitations/***'],
    ['/api/%69nvitations/', '/api/invitations/***'],
    ['/api/%2569nvitations/', '/api/%2569nvitations/***'],
    ['/api/invitations%0A', '/api/invitations***'],
  ])('%s<secret> is logged as %s', async (prefix, shown) => {
    for (const method of ['GET', 'POST']) {
      const from = s.logs.length;
      const r = await send(s.url, {
        method,
        path: `${prefix}${SECRET}`,
        headers: { 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: '{"password":"password123"}' } : {}),
      });
      expect(r.status).toBe(404);
      const lines = logsSince(from);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${method} ${shown.replace(/[*]/g, '\\*')} 404 \\d+\\.\\dms$`));
    }
  });

  it('nor the "internal error on" and "conflict on" lines', async () => {
    const t = await startTestServer();
    try {
      const invite = await t.call('POST', '/api/users/invite', t.token, {
        name: 'invited',
        email: 'invited@example.com',
        group_name: 'Default',
      });
      expect(invite.status).toBe(200);
      const url = new URL(invite.json!['invitation_url'] as string);
      const secret = url.pathname.split('/').pop()!;
      // A write the database refuses as a duplicate (the path of a race between two requests).
      t.store.database.sqlite.exec(`
        CREATE TABLE boom (x TEXT PRIMARY KEY);
        INSERT INTO boom VALUES ('1');
        CREATE TRIGGER boom_on_use BEFORE UPDATE ON invitations BEGIN INSERT INTO boom VALUES ('1'); END;
      `);
      const conflict = await t.call('POST', `/api/invitations/${secret}`, '', { password: 'password123' });
      expect(conflict.status).toBe(409);
      t.store.database.sqlite.exec('DROP TABLE invitations');
      const failed = await t.call('GET', `/api/invitations/${secret}`, '');
      expect(failed.status).toBe(500);
      const all = t.logs.join('\n');
      expect(all).toContain('conflict on POST /api/invitations/***: ');
      expect(all).toContain('internal error on GET /api/invitations/***: ');
      expect(all).not.toContain(secret);
    } finally {
      await t.close();
    }
  });
});

describe('the data folder and the database are private to their owner', () => {
  const modeOf = async (p: string) => (await stat(p)).mode & 0o777;
  let previous: number;
  let root: string;
  beforeAll(async () => {
    previous = process.umask(0o022);
    root = await mkdtemp(join(tmpdir(), 'rdadmin-modes-'));
  });
  afterAll(async () => {
    process.umask(previous);
    await rm(root, { recursive: true, force: true });
  });

  const serve = (dataDir: string) => startServer({ host: '127.0.0.1', port: 0, dataDir, log: () => {} });

  it('a data folder rdadmin makes is 0700; db.sqlite3, -wal and -shm are 0600', async () => {
    const dir = join(root, 'new', 'rdadmin');
    const server = await serve(dir);
    try {
      // A write, so the -wal file certainly exists.
      await server.store.settings.set('log_retention_days', 30);
      expect((await modeOf(dir)).toString(8)).toBe('700');
      expect((await modeOf(join(root, 'new'))).toString(8)).toBe('755');
      for (const f of ['db.sqlite3', 'db.sqlite3-wal', 'db.sqlite3-shm', 'secret.key'])
        expect((await modeOf(join(dir, f))).toString(8), f).toBe('600');
    } finally {
      await server.close();
    }
  });

  it('an existing folder keeps its mode; database files left loose (after a crash) are tightened', async () => {
    // A crash leaves db.sqlite3 with -wal and -shm beside it: copied here while a connection
    // still holds unwritten changes in the WAL, then given the modes an older rdadmin left.
    const live = join(root, 'live');
    const first = await serve(live);
    const sqlite = first.store.database.sqlite;
    sqlite.pragma('wal_autocheckpoint = 0');
    await first.store.settings.set('log_retention_days', 30);
    const dir = join(root, 'existing');
    await mkdir(dir, { mode: 0o755 });
    for (const f of ['db.sqlite3', 'db.sqlite3-wal', 'db.sqlite3-shm', 'secret.key']) {
      await copyFile(join(live, f), join(dir, f));
      await chmod(join(dir, f), f === 'secret.key' ? 0o600 : 0o644);
    }
    await first.close();
    expect((await stat(join(dir, 'db.sqlite3-wal'))).size).toBeGreaterThan(0);
    const server = await serve(dir);
    try {
      expect(await server.store.settings.get('log_retention_days')).toBe(30);
      expect((await modeOf(dir)).toString(8)).toBe('755');
      for (const f of ['db.sqlite3', 'db.sqlite3-wal', 'db.sqlite3-shm'])
        expect((await modeOf(join(dir, f))).toString(8), f).toBe('600');
    } finally {
      await server.close();
    }
  });
});

describe('request bodies must be valid UTF-8 and valid Unicode', () => {
  const json = { 'content-type': 'application/json' };
  const body = (before: string, bytes: number[], after: string) =>
    Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
  const post = (path: string, b: string | Buffer, token = s.token) =>
    send(s.url, { method: 'POST', path, headers: { ...json, authorization: `Bearer ${token}` }, body: b });

  it('a password of invalid UTF-8 bytes is refused (400), not stored as U+FFFD', async () => {
    const r = await post(
      '/api/users',
      body('{"name":"ffuser","group_name":"Default","password":"', Array(8).fill(0xff), '"}'),
    );
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toEqual({ error: 'the request body is not valid UTF-8' });
    expect(await s.store.users.getByName('ffuser')).toBeUndefined();
  });

  it('a login with invalid bytes is 400, never a match for another password', async () => {
    // The user whose password is eight U+FFFD: what eight invalid bytes used to become.
    await s.adminOk('POST', '/api/users', {
      name: 'fffd',
      group_name: 'Default',
      password: '\ufffd'.repeat(8),
    });
    const login = (b: Buffer | string) =>
      send(s.url, { method: 'POST', path: '/api/login', headers: json, body: b });
    const bad = await login(body('{"username":"fffd","password":"', Array(8).fill(0xfe), '"}'));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toEqual({ error: 'the request body is not valid UTF-8' });
    const good = await login(JSON.stringify({ username: 'fffd', password: '\ufffd'.repeat(8) }));
    expect(good.status).toBe(200);
  });

  it.each([
    ['an overlong encoding', [0xc0, 0xaf]],
    ['a surrogate encoded in UTF-8 (CESU)', [0xed, 0xa0, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['a code point beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ])('a name with %s is refused', async (_what, bytes) => {
    const r = await post(
      '/api/users',
      body('{"name":"n', bytes, '","group_name":"Default","password":"password123"}'),
    );
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toEqual({ error: 'the request body is not valid UTF-8' });
  });

  it.each([
    [
      'a lone high surrogate in a value',
      '{"name":"a\\ud800","group_name":"Default","password":"password123"}',
      "request body field 'name' is not valid Unicode text",
    ],
    [
      'a lone low surrogate in a value',
      '{"name":"\\uDC00b","group_name":"Default","password":"password123"}',
      "request body field 'name' is not valid Unicode text",
    ],
    [
      'reversed surrogates',
      '{"name":"\\udc00\\ud800","group_name":"Default","password":"password123"}',
      "request body field 'name' is not valid Unicode text",
    ],
    [
      'a lone surrogate in a field name',
      '{"name":"k","group_name":"Default","password":"password123","\\ud83d":1}',
      'request body has a field name that is not valid Unicode text',
    ],
  ])('%s is refused (400) naming the problem', async (_what, text, message) => {
    const r = await post('/api/users', text);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error).toContain(message);
    expect(JSON.parse(r.text).error).toContain('lone surrogate');
  });

  it('a surrogate pair (an emoji) and an escaped backslash before "ud800" are fine', async () => {
    const r = await post(
      '/api/users',
      '{"name":"smile\\ud83d\\ude00","group_name":"Default","password":"pass\\\\ud800word"}',
    );
    expect(r.status, r.text).toBe(200);
    expect((await s.store.users.getByName('smile\u{1f600}'))?.name).toBe('smile\u{1f600}');
    expect((await s.login('smile\u{1f600}', 'pass\\ud800word')).length).toBeGreaterThan(0);
  });

  it('a lone surrogate deep inside a nested body is found and named (400)', async () => {
    const depth = 200_000;
    const r = await post('/api/users', `${'['.repeat(depth)}"\\ud800"${']'.repeat(depth)}`);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error).toMatch(
      /^request body field '0\.0\.0\.[0.]*…' is not valid Unicode text/,
    );
  });

  it('inside a batch: the request with a lone surrogate gets 400, the batch runs on', async () => {
    const r = await post(
      '/api/rdadmin/batch',
      JSON.stringify({
        requests: [
          {
            method: 'POST',
            path: '/api/users',
            body: '{"name":"b\\ud800","group_name":"Default","password":"password123"}',
          },
          {
            method: 'POST',
            path: '/api/users',
            // The body text itself holds a lone surrogate (JSON.stringify sends it as \udc00).
            body: '{"name":"c\udc00","group_name":"Default","password":"password123"}',
          },
          {
            method: 'POST',
            path: '/api/users',
            body: '{"name":"batchok","group_name":"Default","password":"password123"}',
          },
        ],
      }),
    );
    expect(r.status).toBe(200);
    const [first, second, third] = r.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(first.status).toBe(400);
    expect(JSON.parse(first.body).error).toContain("request body field 'name' is not valid Unicode text");
    expect(second.status).toBe(400);
    expect(JSON.parse(second.body).error).toMatch(
      /^request body is not valid Unicode text: .*lone surrogate/,
    );
    expect(third.status).toBe(200);
    expect(await s.store.users.getByName('c\ufffd')).toBeUndefined();
    const bad = await post(
      '/api/rdadmin/batch',
      body('{"requests":[{"method":"POST","path":"/api/users","body":"', [0xff], '"}]}'),
    );
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toEqual({ error: 'the request body is not valid UTF-8' });
  });

  it('audit posts (read without rounding) and legacy address book uploads are checked too', async () => {
    const conn = await send(s.url, {
      method: 'POST',
      path: '/api/audit/conn',
      headers: json,
      body: '{"id":"123456789","uuid":"u","peer":["\\ud800"],"conn_id":1,"session_id":1,"action":"new"}',
    });
    expect(conn.status).toBe(400);
    expect(JSON.parse(conn.text).error).toContain('lone surrogate');
    const ab = await post('/api/ab', JSON.stringify({ data: '{"tags":["\\udfff"],"peers":[]}' }));
    expect(ab.status).toBe(400);
    expect(JSON.parse(ab.text).error).toContain('lone surrogate');
  });
});

describe('length limits are named, not taken for a wrong type', () => {
  it.each([
    [
      'a login password over 1,000 characters',
      '/api/login',
      { username: 'admin', password: 'x'.repeat(1001) },
      "field 'password' must be at most 1000 characters",
    ],
    [
      'a user name over 100 characters',
      '/api/users',
      { name: 'n'.repeat(101), password: 'password123', group_name: 'Default' },
      "field 'name' must be at most 100 characters",
    ],
  ])('%s', async (_what, path, body, message) => {
    const r = await send(s.url, {
      method: 'POST',
      path,
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error).toContain(message);
    expect(r.text).not.toContain('must be a string');
  });
});

describe('behind a reverse proxy (--trust-proxy)', () => {
  const beat = (t: TestServer, id: string, xff?: string) =>
    send(t.url, {
      method: 'POST',
      path: '/api/heartbeat',
      headers: { 'content-type': 'application/json', ...(xff ? { 'x-forwarded-for': xff } : {}) },
      body: JSON.stringify({ id, uuid: 'dXVpZA==' }),
    });
  const failedLogin = (t: TestServer, xff: string) =>
    send(t.url, {
      method: 'POST',
      path: '/api/login',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': xff },
      body: JSON.stringify({ username: `ghost-${xff}`, password: 'wrong-password' }),
    });

  it("takes the client's address from the proxy's X-Forwarded-For entry, only when trusted", async () => {
    const proxied = await startTestServer({ config: { trustProxy: true } });
    try {
      // The last entry is the proxy's; one the client wrote itself before it is not believed.
      expect((await beat(proxied, '770000001', '6.6.6.6, 203.0.113.7')).status).toBe(200);
      expect((await proxied.store.devices.getById('770000001'))?.ip).toBe('203.0.113.7');
      expect((await beat(proxied, '770000002', 'not-an-address')).status).toBe(200);
      expect((await proxied.store.devices.getById('770000002'))?.ip).toBe('127.0.0.1');
      // Failed logins are throttled per client, not for everyone behind the proxy.
      let last = 0;
      for (let i = 0; i < 8; i++) last = (await failedLogin(proxied, '198.51.100.1')).status;
      expect(last).toBe(429);
      expect((await failedLogin(proxied, '198.51.100.2')).status).toBe(401);
    } finally {
      await proxied.close();
    }
    expect((await beat(s, '770000003', '203.0.113.7')).status).toBe(200);
    expect((await s.store.devices.getById('770000003'))?.ip).toBe('127.0.0.1');
  });

  it('builds invitation links from the address the client used, alone and in a batch', async () => {
    const invite = (t: TestServer, name: string, headers: Record<string, string>, batch = false) => {
      const body = JSON.stringify({ name, email: `${name}@example.com`, group_name: 'Default' });
      return batch
        ? send(t.url, {
            method: 'POST',
            path: '/api/rdadmin/batch',
            headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json', ...headers },
            body: JSON.stringify({ requests: [{ method: 'POST', path: '/api/users/invite', body }] }),
          }).then((r) => JSON.parse(JSON.parse(r.text.split('\n')[0]!).body) as Record<string, unknown>)
        : send(t.url, {
            method: 'POST',
            path: '/api/users/invite',
            headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json', ...headers },
            body,
          }).then((r) => JSON.parse(r.text) as Record<string, unknown>);
    };
    const link = (j: Record<string, unknown>) => String(j['invitation_url']).replace(/[^/]+$/, '');
    // What nginx sends for https://rd.example.com/rustdesk/ proxied to the server's root.
    const forwarded = {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'rd.example.com',
      'x-forwarded-prefix': '/rustdesk/',
      'x-forwarded-for': '203.0.113.9',
    };
    const proxied = await startTestServer({ config: { trustProxy: true } });
    try {
      const want = 'https://rd.example.com/rustdesk/api/invitations/';
      expect(link(await invite(proxied, 'fwd-alone', forwarded))).toBe(want);
      expect(link(await invite(proxied, 'fwd-batch', forwarded, true))).toBe(want);
      // Only Host and the scheme from the proxy; values that are not a scheme, host or path are ignored.
      const port = new URL(proxied.url).port;
      expect(
        link(
          await invite(proxied, 'fwd-host', { 'x-forwarded-proto': 'https', host: `rd.example.com:${port}` }),
        ),
      ).toBe(`https://rd.example.com:${port}/api/invitations/`);
      expect(
        link(
          await invite(proxied, 'fwd-bad', {
            'x-forwarded-proto': 'javascript',
            'x-forwarded-host': 'evil.example/x',
            'x-forwarded-prefix': '/a b',
          }),
        ),
      ).toBe(`${proxied.url}/api/invitations/`);
    } finally {
      await proxied.close();
    }
    // Not behind a trusted proxy: forwarding headers are anyone's, the link is the server's own address.
    expect(link(await invite(s, 'fwd-untrusted', forwarded))).toBe(`${s.url}/api/invitations/`);
    const fixed = await startTestServer({
      config: { trustProxy: true, publicUrl: 'https://console.example.org/' },
    });
    try {
      expect(link(await invite(fixed, 'fwd-public', forwarded, true))).toBe(
        'https://console.example.org/api/invitations/',
      );
    } finally {
      await fixed.close();
    }
  });
});
