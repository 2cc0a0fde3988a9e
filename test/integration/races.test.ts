import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, newSecret } from '../../src/server/crypto';
import type { RouteSpec } from '../../src/server/routes';
import { validValue } from '../helpers/fuzz';
import { classify, fillPath, jsonSchemaOf, leaks, registry, routeName, send } from '../helpers/routes';
import { startTestServer, type TestServer } from '../helpers/server';

// Concurrent requests (docs/reliability.md §2): a check-then-write handler lets two requests pass
// the check before either writes; the database's constraints then refuse the second write. That
// must end in a 409 naming the conflict (or in the right answer), never in a 500.

let s: TestServer;
let routes: RouteSpec[];
let guids: string[];

beforeAll(async () => {
  s = await startTestServer();
  routes = registry(s.store).specs;
  await s.seedUsers(['race-user']);
  await s.store.devices.create('700000001', { uuid: 'dQ==', status: 1 });
  await s.store.strategies.create('race-strategy', {}, true);
  const db = s.store.database.sqlite;
  guids = ['users', 'devices', 'strategies'].map(
    (t) => (db.prepare(`SELECT guid FROM ${t} ORDER BY rowid DESC LIMIT 1`).get() as { guid: string }).guid,
  );
});
afterAll(async () => {
  await s.close();
});

async function auth(spec: RouteSpec): Promise<Record<string, string>> {
  const a = classify(spec.access);
  if (a.kind === 'public') return {};
  if (a.kind === 'area') return { authorization: `Bearer ${s.token}` };
  const token = newSecret('rds');
  await s.store.auth.createSession(hashToken(token), (await s.store.users.getByName('admin'))!.guid);
  return { authorization: `Bearer ${token}` };
}

async function burst(spec: RouteSpec, path: string, body: string | undefined, n: number) {
  const headers = { ...(await auth(spec)), 'content-type': 'application/json' };
  return Promise.all(
    Array.from({ length: n }, () => send(s.url, { method: spec.method, path, headers, body })),
  );
}

describe('the same valid request many times at once', () => {
  it('every writing route: no 5xx, every error a JSON {"error"} without internals', async () => {
    let n = 0;
    for (const spec of routes.filter((r) => r.method !== 'GET')) {
      const paths = spec.path.includes('{') ? guids.map((g) => fillPath(spec.path, g)) : [spec.path];
      for (const [i, path] of paths.entries()) {
        const value = validValue(jsonSchemaOf(spec.body), `race${n}x${i}`);
        const answers = await burst(spec, path, value === undefined ? '{}' : JSON.stringify(value), 6);
        for (const r of answers) {
          const where = `${routeName(spec)} (${path}) → ${r.status} ${r.text.slice(0, 200)}`;
          expect(r.status, where).toBeLessThan(500);
          expect(leaks(r.text), where).toBeUndefined();
          if (r.status >= 400 && !String(r.headers['content-type']).startsWith('text/plain'))
            expect(Object.keys(JSON.parse(r.text)), where).toEqual(['error']);
        }
        n++;
      }
    }
    expect(n).toBeGreaterThan(20);
    expect(s.logs.filter((l) => l.includes('internal error'))).toEqual([]);
  });

  it('POST /api/users: one user is created, the others get the usual 409', async () => {
    const spec = routes.find((r) => routeName(r) === 'POST /api/users')!;
    const body = JSON.stringify({ name: 'twin', password: 'password123', group_name: 'Default' });
    const answers = await burst(spec, '/api/users', body, 8);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    for (const r of answers.filter((a) => a.status === 409))
      expect(JSON.parse(r.text)).toEqual({ error: "a user named 'twin' already exists" });
    const rows = s.store.database.sqlite.prepare("SELECT count(*) AS n FROM users WHERE name = 'twin'").get();
    expect(rows).toEqual({ n: 1 });
  });

  it('first-contact heartbeats of one new ID at once: all answered 200, one device', async () => {
    const spec = routes.find((r) => routeName(r) === 'POST /api/heartbeat')!;
    await s.store.settings.set('require_deployment', false); // the burst above may have turned it on
    for (let i = 0; i < 15; i++) {
      const id = String(800_000_000 + i);
      const answers = await burst(spec, '/api/heartbeat', JSON.stringify({ id, uuid: 'dXU=' }), 6);
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const rows = s.store.database.sqlite.prepare('SELECT count(*) AS n FROM devices WHERE id = ?').get(id);
      expect(rows).toEqual({ n: 1 });
    }
    // The losing side of that race, forced: another request inserts the device between this one's
    // lookup and its insert.
    const repo = s.store.devices;
    const create = repo.create.bind(repo);
    repo.create = async (id, patch) => {
      if (id === '800000099') await create(id, { ...patch, note: 'the other request' });
      return create(id, patch);
    };
    try {
      const [r] = await burst(spec, '/api/heartbeat', JSON.stringify({ id: '800000099', uuid: 'dXU=' }), 1);
      expect(r!.status, r!.text).toBe(200);
      expect(JSON.parse(r!.text)).toHaveProperty('sysinfo', 1);
      expect(
        s.store.database.sqlite.prepare("SELECT note FROM devices WHERE id = '800000099'").all(),
      ).toEqual([{ note: 'the other request' }]);
    } finally {
      repo.create = create;
    }
  });

  it('a constraint refusal the handler did not foresee becomes a 409, logged, never a 500', async () => {
    // Simulates the losing side of a race: the row appears between the handler's check and its write.
    const spec = routes.find((r) => routeName(r) === 'POST /api/strategies')!;
    s.store.database.sqlite.exec(
      "CREATE TRIGGER race_twin BEFORE INSERT ON strategies WHEN NEW.name = 'late' BEGIN INSERT INTO strategies (guid, name, name_fold, created_at, updated_at) VALUES ('x-late', 'late', 'late', '', ''); END",
    );
    try {
      const [r] = await burst(spec, '/api/strategies', JSON.stringify({ name: 'late' }), 1);
      expect(r!.status).toBe(409);
      expect(JSON.parse(r!.text).error).toMatch(/^conflict: the name \(or ID\) is already taken/);
      expect(s.logs.some((l) => l.startsWith('conflict on POST /api/strategies'))).toBe(true);
    } finally {
      s.store.database.sqlite.exec('DROP TRIGGER race_twin');
    }
  });
});

describe('two deletes of one record at once', () => {
  it('one deletes it and is logged; the other is 404 and logs nothing', async () => {
    for (const kind of ['users', 'devices'] as const) {
      if (kind === 'users') await s.seedUsers(['twice-deleted'], { status: 0 });
      else await s.store.devices.create('700000077', { uuid: 'dw==', status: 0 });
      const db = s.store.database.sqlite;
      const guid = (
        db.prepare(`SELECT guid FROM ${kind} ORDER BY rowid DESC LIMIT 1`).get() as { guid: string }
      ).guid;
      const before = (await s.store.audit.listConsole(1000)).length;
      // Each request loads the record, then waits a moment before it deletes (as one whose load
      // and write are apart would): all of them find it, and only one can delete it.
      const repo = s.store[kind] as unknown as { getByGuid: (g: string) => Promise<unknown> };
      const load = repo.getByGuid;
      repo.getByGuid = async (g) => {
        const found = await load.call(repo, g);
        await new Promise((r) => setTimeout(r, 50));
        return found;
      };
      let answers: Awaited<ReturnType<typeof send>>[];
      try {
        answers = await Promise.all(
          Array.from({ length: 4 }, () =>
            send(s.url, {
              method: 'DELETE',
              path: `/api/${kind}/${guid}`,
              headers: { authorization: `Bearer ${s.token}` },
            }),
          ),
        );
      } finally {
        repo.getByGuid = load;
      }
      expect(answers.map((a) => a.status).sort(), kind).toEqual([200, 404, 404, 404]);
      expect((await s.store.audit.listConsole(1000)).length - before, kind).toBe(1);
    }
  });
});

describe('a change and its audit record: together or not at all', () => {
  it('when the audit record cannot be written, the user, device or assignment stays as it was', async () => {
    await s.seedUsers(['atomic-user']);
    await s.store.devices.create('700000002', { uuid: 'dQ==', status: 0 });
    const user = (await s.store.users.getByName('atomic-user'))!;
    const device = (await s.store.devices.getById('700000002'))!;
    const db = s.store.database.sqlite;
    db.exec(
      "CREATE TRIGGER no_audit BEFORE INSERT ON audit_console BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    );
    try {
      const call = (method: string, path: string, body?: string) =>
        send(s.url, { method, path, headers: { authorization: `Bearer ${s.token}` }, body });
      expect((await call('POST', `/api/users/${user.guid}/disable`)).status).toBe(500);
      expect((await call('POST', `/api/devices/${device.guid}/enable`)).status).toBe(500);
      expect(
        (
          await call(
            'POST',
            `/api/devices/${device.guid}/assign`,
            JSON.stringify({ type: 'note', value: 'x' }),
          )
        ).status,
      ).toBe(500);
      expect((await call('DELETE', `/api/devices/${device.guid}`)).status).toBe(500);
      expect((await s.store.users.getByGuid(user.guid))!.status).toBe(1);
      const after = (await s.store.devices.getByGuid(device.guid))!;
      expect([after.status, after.note]).toEqual([0, '']);
    } finally {
      db.exec('DROP TRIGGER no_audit');
    }
    // And with the audit log writable again, the same calls work and are logged.
    const r = await send(s.url, {
      method: 'POST',
      path: `/api/users/${user.guid}/disable`,
      headers: { authorization: `Bearer ${s.token}` },
    });
    expect(r.status).toBe(200);
    expect((await s.store.audit.listConsole(5)).map((a) => a.detail)).toContain(
      "disabled user 'atomic-user' (API token 'all')",
    );
  });
});
