import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app';
import type { RouteSpec } from '../../src/server/routes';
import { startTestServer, type TestServer } from '../helpers/server';

let s: TestServer;
let routes: RouteSpec[];
let adminSession: string;

beforeAll(async () => {
  s = await startTestServer();
  routes = createApp({
    store: s.store,
    clock: () => new Date(),
    log: () => {},
    config: { invitationTtl: 60 },
  }).routes;
  await s.seedUsers(['plain']);
  adminSession = await s.login('admin', 'test1234');
});
afterAll(async () => {
  await s.close();
});

const GUID = '01a00000-0000-7000-8000-000000000000';

// Access control of every route (the authorization matrix) is in authz.test.ts.

describe('input validation: 4xx with {"error"}, never 5xx', () => {
  const post = (path: string, body: string, token = s.token) =>
    s.fetch(path, { method: 'POST', token, headers: { 'content-type': 'application/json' }, body });

  it.each([
    ['not JSON', '{name:', 400, 'not valid JSON'],
    ['empty body', '', 400, 'request body is required'],
    ['an array', '[]', 400, 'request body'],
    ['a bare number', '42', 400, 'request body'],
    ['missing fields', '{}', 400, "field 'name' is required"],
    ['a wrong type', '{"name":1,"password":"password123","group_name":"Default"}', 400, "field 'name'"],
    ['a short password', '{"name":"x","password":"short","group_name":"Default"}', 400, 'between 8 and 128'],
    [
      'a bad email',
      '{"name":"x","password":"password123","group_name":"Default","email":"nope"}',
      400,
      "field 'email'",
    ],
  ])('POST /api/users with %s → %s', async (_what, body, status, message) => {
    const r = await post('/api/users', body);
    expect(r.status).toBe(status);
    expect(((await r.json()) as { error: string }).error).toContain(message);
  });

  it.each([
    ['pageSize=0', 'pageSize'],
    ['pageSize=100000', 'at most 1000'],
    ['current=abc', 'current'],
    ['current=-1', 'current'],
    ['pageSize=1.5', 'whole number'],
  ])('GET /api/users?%s → 400', async (qs, message) => {
    const r = await s.fetch(`/api/users?${qs}`, { token: s.token });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toContain(message);
  });

  it('an oversized body → 413', async () => {
    const r = await post('/api/users', JSON.stringify({ name: 'x'.repeat(2_000_000) }));
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: string }).error).toContain('larger than');
  });

  it('unknown routes and unknown GUIDs → 404 {"error"}', async () => {
    const r = await s.fetch('/api/nope', { token: s.token });
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: 'no such endpoint: GET /api/nope' });
    const u = await s.fetch(`/api/users/${GUID}/disable`, { method: 'POST', token: s.token });
    expect(u.status).toBe(404);
    const list = await s.fetch('/api/users/force-logout', {
      method: 'POST',
      token: s.token,
      body: JSON.stringify({ user_guids: [GUID] }),
    });
    expect(list.status).toBe(404);
  });

  it('PUT /api/users/tfa/totp/enforce with enforce:true needs url', async () => {
    const admin = await s.store.users.getByName('admin');
    const r = await s.fetch('/api/users/tfa/totp/enforce', {
      method: 'PUT',
      token: s.token,
      body: JSON.stringify({ user_guids: [admin!.guid], enforce: true }),
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toContain("'url' is required");
  });

  it('every answer carries security headers', async () => {
    const r = await s.fetch('/api/openapi.json');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
  });
});

describe('users lifecycle on the server', () => {
  it('refuses to delete an enabled user, with the fix in the message; deletes a disabled one', async () => {
    await s.seedUsers(['victim']);
    const v = await s.store.users.getByName('victim');
    const del = await s.fetch(`/api/users/${v!.guid}`, { method: 'DELETE', token: s.token });
    expect(del.status).toBe(400);
    expect(await del.json()).toEqual({ error: "user 'victim' is enabled: disable it first, then delete it" });
    expect((await s.fetch(`/api/users/${v!.guid}/disable`, { method: 'POST', token: s.token })).status).toBe(
      200,
    );
    expect((await s.fetch(`/api/users/${v!.guid}`, { method: 'DELETE', token: s.token })).status).toBe(200);
    expect(await s.store.users.getByName('victim')).toBeUndefined();
  });

  it('disabling a user ends their sessions; force-logout ends them too', async () => {
    await s.seedUsers(['sess']);
    const u = await s.store.users.getByName('sess');
    const t1 = await s.login('sess', 'password123');
    await s.fetch(`/api/users/${u!.guid}/disable`, { method: 'POST', token: s.token });
    expect((await s.fetch('/api/currentUser', { method: 'POST', token: t1 })).status).toBe(401);
  });

  it('login, currentUser and logout follow the client shapes', async () => {
    const r = await s.fetch('/api/login', {
      method: 'POST',
      body: JSON.stringify({ username: 'admin', password: 'test1234', id: '123456789', uuid: 'abc' }),
    });
    const body = (await r.json()) as {
      type: string;
      access_token: string;
      user: { name: string; is_admin: boolean; info: object };
    };
    expect(body).toMatchObject({ type: 'access_token', user: { name: 'admin', is_admin: true } });
    expect(body.user.info).toBeTypeOf('object');
    const me = await s.fetch('/api/currentUser', { method: 'POST', token: body.access_token, body: '{}' });
    expect(((await me.json()) as { name: string }).name).toBe('admin');
    expect(
      (await s.fetch('/api/logout', { method: 'POST', token: body.access_token, body: '{}' })).status,
    ).toBe(200);
    expect((await s.fetch('/api/currentUser', { method: 'POST', token: body.access_token })).status).toBe(
      401,
    );
    const bad = await s.fetch('/api/login', {
      method: 'POST',
      body: JSON.stringify({ username: 'admin', password: 'nope' }),
    });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'wrong user name or password' });
  });

  it('the request log holds method, path, status and time, and never a secret', async () => {
    const line = s.logs.find((l) => l.startsWith('POST /api/login '));
    expect(line).toMatch(/^POST \/api\/login (200|401) \d+\.\dms$/);
    const all = s.logs.join('\n');
    expect(all).not.toContain(s.token);
    expect(all).not.toContain(adminSession);
    expect(all).not.toContain('test1234"');
  });

  it('stores only hashes: no token or password in clear in the database', async () => {
    const tokens = s.store.database.sqlite.prepare('SELECT token_hash FROM api_tokens').all() as {
      token_hash: string;
    }[];
    expect(tokens.every((t) => /^[0-9a-f]{64}$/.test(t.token_hash))).toBe(true);
    const pw = s.store.database.sqlite
      .prepare("SELECT password_hash FROM users WHERE name='admin'")
      .get() as { password_hash: string };
    expect(pw.password_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    const dump = JSON.stringify(s.store.database.sqlite.prepare('SELECT * FROM api_tokens').all());
    expect(dump).not.toContain(s.token);
  });
});

describe('OpenAPI document', () => {
  it('documents every route with its access rule', async () => {
    const doc = (await (await s.fetch('/api/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { description: string }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const spec of routes) {
      const op = doc.paths[spec.path]?.[spec.method.toLowerCase()];
      expect(op, `${spec.method} ${spec.path}`).toBeDefined();
      expect(op!.description).toContain('Access:');
    }
    expect(JSON.stringify(doc.paths['/api/users']!['post'])).toContain('password');
  });
});

describe('a full disk', () => {
  it('a change that cannot be written is 503 naming it, nothing kept, logged as a full disk; then writes work again', async () => {
    const db = s.store.database.sqlite;
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    let full: { status: number; json: unknown; name: string } | undefined;
    try {
      for (let i = 0; i < 200 && !full; i++) {
        const name = `full-${i}`;
        const r = await s.call('POST', '/api/user-groups', s.token, { name, note: 'x'.repeat(1900) });
        if (r.status !== 200) full = { status: r.status, json: r.json, name };
      }
    } finally {
      db.pragma('max_page_count = 1073741823');
    }
    expect(full?.status).toBe(503);
    expect(full?.json).toEqual({ error: "the server's disk is full: nothing was changed; try again later" });
    expect(await s.store.users.getGroupByName(full!.name)).toBeUndefined();
    expect(s.logs.some((l) => l.includes('disk full on POST /api/user-groups') && l.includes('full'))).toBe(
      true,
    );
    expect(s.logs.some((l) => l.includes('cannot rollback'))).toBe(false);
    expect((await s.call('POST', '/api/user-groups', s.token, { name: full!.name })).status).toBe(200);
  });
});
