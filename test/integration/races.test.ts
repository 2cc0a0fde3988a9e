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
