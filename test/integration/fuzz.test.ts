import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, newSecret } from '../../src/server/crypto';
import type { RouteSpec } from '../../src/server/routes';
import { SimClient } from '../../src/sim/rustdesk-client';
import { BATCH_MAX_REQUESTS } from '../../src/wire/batch';
import { type FuzzRequest, fixedBodies, NASTY_STRINGS, requestFor } from '../helpers/fuzz';
import { requiredQueryFor } from '../helpers/required-query';
import {
  classify,
  leaks,
  type RawAnswer,
  registry,
  routeName,
  SECURITY_HEADERS,
  send,
} from '../helpers/routes';
import { startTestServer, type TestServer } from '../helpers/server';

// Request fuzzing (docs/reliability.md §2) over every route of the registry, with fast-check.
// Whatever arrives, the server must answer: never a 5xx, an error is exactly {"error": string}
// (text routes may answer text/plain), a success matches the declared response schema, every
// answer carries the security headers and shows no stack trace or SQL, and afterwards the server
// still answers correctly. FUZZ_RUNS raises the random requests per route (default 60);
// FUZZ_SEED replays the run a failure names (its message gives the seed).

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 60);
/** The paths a batch accepts (src/wire/batch.ts); other paths are refused with the whole batch. */
const BATCH_ITEM_PATH = /^\/api\/[\x21-\x7e]*$/;
if (process.env['FUZZ_SEED']) fc.configureGlobal({ seed: Number(process.env['FUZZ_SEED']) });

let s: TestServer;
let routes: RouteSpec[];
let pool: string[] = [];
const counts = { requests: 0, batched: 0, byStatus: new Map<number, number>() };

beforeAll(async () => {
  // This file sends bursts of failed logins on purpose; throttling has its own tests at production limits.
  s = await startTestServer({ config: { loginLimits: { perMinute: 1_000_000, perHour: 1_000_000 } } });
  routes = registry(s.store).specs;
  await s.seedUsers(['fuzz-alice', 'fuzz_bob', 'fuzz%carol', "o'brien", 'ÄÖÜ-user']);
  await s.seedUsers(['fuzz-off'], { status: 0 });
  await s.store.strategies.create('fuzz-strategy', { 'enable-keyboard': 'N' }, true);
  await s.store.devices.createGroup('fuzz-devgroup');
  for (const id of ['111111111', '222222222'])
    await s.store.devices.create(id, { uuid: 'dXVpZA==', status: 1 });
  await s.store.devices.create('333333333', { uuid: 'dXVpZA==', status: 0 });
  const db = s.store.database.sqlite;
  const guids = [
    ...(db.prepare('SELECT guid FROM users').all() as { guid: string }[]),
    ...(db.prepare('SELECT guid FROM devices').all() as { guid: string }[]),
    ...(db.prepare('SELECT guid FROM strategies').all() as { guid: string }[]),
  ].map((r) => r.guid);
  pool = [
    ...guids,
    'admin',
    'Default',
    'fuzz-alice',
    'fuzz-strategy',
    'fuzz-devgroup',
    '111111111',
    '333333333',
    'test1234',
    'password123',
    'user_name',
    'note',
    'ab',
  ];
});

afterAll(async () => {
  await s.close();
});

async function authFor(spec: RouteSpec): Promise<Record<string, string>> {
  const a = classify(spec.access);
  if (a.kind === 'public') return {};
  if (a.kind === 'area') return { authorization: `Bearer ${s.token}` };
  // Session routes: a fresh administrator's session each time (a fuzzed logout ends one).
  const token = newSecret('rds');
  const admin = await s.store.users.getByName('admin');
  await s.store.auth.createSession(hashToken(token), admin!.guid);
  return { authorization: `Bearer ${token}` };
}

function describeRequest(spec: RouteSpec, req: FuzzRequest): string {
  const body = req.body === undefined ? '(none)' : String(req.body).slice(0, 300);
  return `${spec.method} ${req.path}?${req.query.slice(0, 300)} body=${body}`;
}

/** The invariants every answer must hold, whatever was sent. */
function checkAnswer(spec: RouteSpec, req: FuzzRequest, r: RawAnswer): void {
  const where = `${describeRequest(spec, req)} → ${r.status} ${r.text.slice(0, 300)}`;
  counts.requests++;
  counts.byStatus.set(r.status, (counts.byStatus.get(r.status) ?? 0) + 1);
  expect(r.status, where).toBeLessThan(500);
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(r.headers[k], `${k} on ${where}`).toBe(v);
  const sent = `${req.path} ${req.query} ${req.body === undefined ? '' : String(req.body)}`;
  const leak = leaks(r.text);
  if (leak) expect(leaks(sent), `${leak} in ${where}`).toBe(leak); // only if the request itself held it
  const type = String(r.headers['content-type'] ?? '');
  const isText = spec.responseText !== undefined && type.startsWith('text/plain');
  if (r.status >= 300) {
    if (isText) {
      expect(r.text.trim().length, where).toBeGreaterThan(0);
      return;
    }
    expect(type, where).toMatch(/^application\/json/);
    const body = JSON.parse(r.text) as Record<string, unknown>;
    expect(Object.keys(body), where).toEqual(['error']);
    expect(typeof body['error'], where).toBe('string');
    expect((body['error'] as string).length, where).toBeGreaterThan(0);
    return;
  }
  if (spec.responseText !== undefined) return;
  expect(type, where).toMatch(/^application\/json/);
  const value = JSON.parse(r.text) as unknown;
  if (spec.response) {
    const parsed = spec.response.safeParse(value);
    expect(
      parsed.success,
      `${where}: answer does not match the declared schema: ${parsed.error?.message}`,
    ).toBe(true);
  }
}

/** fast-check prints the whole counterexample (megabytes here): keep the failure readable. */
function shortReport(d: fc.RunDetails<[FuzzRequest]>): void {
  if (!d.failed) return;
  const cause = d.errorInstance instanceof Error ? d.errorInstance.message : String(d.errorInstance);
  // The server's own account of a 500 (its log line, with the stack) says where to look.
  const logged = s.logs.filter((l) => l.includes('internal error')).slice(-1)[0] ?? '';
  throw new Error(
    `fuzz failure (seed ${d.seed}, path ${d.counterexamplePath}): ${cause.slice(0, 3000)}\n${logged.slice(0, 3000)}`,
  );
}

async function fire(spec: RouteSpec, req: FuzzRequest): Promise<void> {
  const headers = await authFor(spec);
  if (req.contentType) headers['content-type'] = req.contentType;
  const r = await send(s.url, {
    method: spec.method,
    path: `${req.path}${req.query ? `?${req.query}` : ''}`,
    headers,
    body: req.body,
  });
  checkAnswer(spec, req, r);
}

/** The one client whose heartbeats the controls send (a registered ID keeps its machine's uuid). */
let controlClient: SimClient | undefined;

/** The server still answers correctly: a listing, a login, a client heartbeat, a sound database. */
async function control(): Promise<void> {
  const users = await s.fetch('/api/users?name=admin&pageSize=10', { token: s.token });
  expect(users.status).toBe(200);
  const body = (await users.json()) as { data: { name: string }[] };
  expect(body.data.map((u) => u.name)).toContain('admin');
  expect((await s.login('admin', 'test1234')).startsWith('rds_')).toBe(true);
  controlClient ??= new SimClient(s.url, { id: '999000111' });
  const hb = await controlClient.heartbeat();
  expect(hb.error).toBeUndefined();
  expect(s.store.database.sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
  expect(s.logs.filter((l) => l.includes('internal error'))).toEqual([]);
}

describe('request fuzzing over every route', () => {
  it('has routes to fuzz, with the nasty strings in place', () => {
    expect(routes.length).toBeGreaterThanOrEqual(38);
    expect(NASTY_STRINGS).toEqual(expect.arrayContaining(['%', '_', "'", '"', '\\', '😀']));
  });

  it('hostile bodies on every route that takes one: deep nesting, 1.5 MiB, bare values, non-JSON', async () => {
    let n = 0;
    for (const spec of routes.filter((r) => r.method !== 'GET')) {
      for (const b of fixedBodies(spec)) {
        const req: FuzzRequest = {
          path: spec.path.replace(/\{\w+\}/g, encodeURIComponent(pool[0]!)),
          query: '',
          body: b.body,
          contentType: b.contentType ?? 'application/json',
        };
        await fire(spec, req);
        n++;
      }
    }
    expect(n).toBeGreaterThan(500);
    await control();
  });

  it(
    'random requests (fast-check) on every route: wrong types, missing/extra fields, hostile strings',
    async () => {
      const before = counts.requests;
      for (const spec of routes) {
        await fc.assert(
          fc.asyncProperty(requestFor(spec, pool), async (req) => fire(spec, req)),
          { numRuns: RUNS, endOnFailure: true, reporter: shortReport },
        );
      }
      expect(counts.requests - before).toBeGreaterThanOrEqual(routes.length * RUNS);
      await control();
    },
    30_000 + RUNS * 500,
  );

  it(
    'the same request several times at once (races between check and write) on every writing route',
    async () => {
      const before = counts.requests;
      const writers = routes.filter((r) => r.method !== 'GET');
      for (const spec of writers) {
        await fc.assert(
          fc.asyncProperty(requestFor(spec, pool), async (req) => {
            await Promise.all(Array.from({ length: 4 }, () => fire(spec, req)));
          }),
          { numRuns: Math.ceil(RUNS / 3), endOnFailure: true, reporter: shortReport },
        );
      }
      expect(counts.requests - before).toBeGreaterThanOrEqual(writers.length * 4 * Math.ceil(RUNS / 3));
      await control();
    },
    30_000 + RUNS * 500,
  );

  it(
    'the same random requests inside batches: each answer holds the same invariants',
    async () => {
      // Every request a batch may hold (admin API routes), generated as above, sent 100 at a time.
      const items: {
        spec: RouteSpec;
        req: FuzzRequest;
        item: { method: string; path: string; body?: string };
      }[] = [];
      for (const spec of routes.filter((r) => classify(r.access).kind === 'area')) {
        for (const req of fc.sample(requestFor(spec, pool), Math.ceil(RUNS / 3))) {
          const path = `${req.path}${req.query ? `?${req.query}` : ''}`;
          if (typeof req.body !== 'string' && req.body !== undefined) continue; // bytes, not text
          if (req.contentType && !req.contentType.startsWith('application/json')) continue;
          if (!BATCH_ITEM_PATH.test(path) || path.length > 4096) continue; // refused whole: tested apart
          items.push({ spec, req, item: { method: spec.method, path, body: req.body } });
        }
      }
      expect(items.length).toBeGreaterThan(routes.length);
      // Batches of up to 100 requests and under the 1 MiB body limit (a bigger one is refused whole).
      const chunks: (typeof items)[] = [[]];
      let size = 0;
      for (const it of items) {
        const n = JSON.stringify(it.item).length;
        if (n > 512 * 1024) continue;
        if (chunks.at(-1)!.length === BATCH_MAX_REQUESTS || size + n > 768 * 1024) {
          chunks.push([]);
          size = 0;
        }
        chunks.at(-1)!.push(it);
        size += n;
      }
      for (const chunk of chunks) {
        const r = await send(s.url, {
          method: 'POST',
          path: '/api/rdadmin/batch',
          headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ requests: chunk.map((c) => c.item) }),
        });
        expect(r.status, r.text.slice(0, 300)).toBe(200);
        const lines = r.text.trimEnd().split('\n');
        expect(lines).toHaveLength(chunk.length);
        for (const [k, line] of lines.entries()) {
          const { spec, req } = chunk[k]!;
          const a = JSON.parse(line) as { status: number; body: string };
          const where = `(in a batch) ${describeRequest(spec, req)} → ${a.status} ${a.body.slice(0, 300)}`;
          counts.requests++;
          counts.batched++;
          counts.byStatus.set(a.status, (counts.byStatus.get(a.status) ?? 0) + 1);
          expect(a.status, where).toBeLessThan(500);
          const leak = leaks(a.body);
          if (leak)
            expect(leaks(`${req.path} ${req.query} ${req.body ?? ''}`), `${leak} in ${where}`).toBe(leak);
          if (spec.responseText !== undefined) continue;
          const value = JSON.parse(a.body) as Record<string, unknown>;
          if (a.status >= 300) {
            expect(Object.keys(value), where).toEqual(['error']);
            expect(typeof value['error'], where).toBe('string');
          } else if (spec.response) {
            expect(spec.response.safeParse(value).success, `${where}: not the declared schema`).toBe(true);
          }
        }
      }
      await control();
    },
    30_000 + RUNS * 500,
  );

  it('page numbers and sizes out of range on every list route', async () => {
    const required = await requiredQueryFor(s);
    const lists = routes.filter(
      (r) => r.method === 'GET' && r.query && 'pageSize' in (r.query as { shape?: object }).shape!,
    );
    expect(lists.map(routeName)).toEqual(expect.arrayContaining(['GET /api/users', 'GET /api/devices']));
    const values = [
      '0',
      '-1',
      '1.5',
      'abc',
      '',
      '1e3',
      '1000000000',
      '1000000001',
      '99999999999999999999',
      'NaN',
      '%00',
    ];
    for (const spec of lists) {
      for (const current of values) {
        for (const pageSize of [...values, '1000', '1001']) {
          await fire(spec, {
            path: spec.path,
            query: [
              required(spec),
              `current=${encodeURIComponent(current)}&pageSize=${encodeURIComponent(pageSize)}`,
            ]
              .filter(Boolean)
              .join('&'),
          });
        }
      }
      // The last valid page far beyond the data: an empty page, not an error.
      const extra = required(spec);
      const r = await s.fetch(`${spec.path}?${extra ? `${extra}&` : ''}current=1000000000&pageSize=1000`, {
        token: s.token,
      });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { data: unknown[] }).data).toEqual([]);
    }
    await control();
  });

  it('reports what ran', () => {
    const total = counts.requests;
    const statuses = [...counts.byStatus.entries()].sort(([a], [b]) => a - b);
    expect(total).toBeGreaterThan(routes.length * RUNS);
    expect(statuses.every(([st]) => st < 500)).toBe(true);
    // One line for docs/reliability.md: how many requests, and the answers they got.
    console.log(
      `fuzz: ${total} requests over ${routes.length} routes (${counts.batched} of them inside batches); statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  });
});
