import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BATCH_ACCEPT_JSON, BATCH_MAX_REQUESTS } from '../../src/wire/batch';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// POST /api/rdadmin/batch (rdadmin serve's own): each request inside is handled exactly as if it
// had been sent alone, and the CLI sends bulk work through it, one result per target as before.

let s: TestServer;
let env: Record<string, string>;

beforeEach(async () => {
  s = await startTestServer();
  env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
});
afterEach(async () => {
  await s.close();
});

type Item = { method: string; path: string; body?: string };
type Answer = { status: number; body: string };

async function batch(
  requests: Item[],
  token = s.token,
  accept?: string,
): Promise<{ status: number; type: string; text: string }> {
  const r = await s.fetch('/api/rdadmin/batch', {
    method: 'POST',
    token,
    headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) },
    body: JSON.stringify({ requests }),
  });
  return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
}

/** The answers of a batch that must be accepted: one NDJSON line per request. */
async function answers(requests: Item[], token = s.token): Promise<Answer[]> {
  const r = await batch(requests, token);
  expect(r.status, r.text).toBe(200);
  expect(r.type).toBe('application/x-ndjson');
  expect(r.text.endsWith('\n')).toBe(true);
  const lines = r.text.slice(0, -1).split('\n');
  expect(lines).toHaveLength(requests.length);
  return lines.map((l) => JSON.parse(l) as Answer);
}

/** The same request sent alone: its status and body text. */
async function alone(item: Item, token = s.token): Promise<Answer> {
  const r = await s.fetch(item.path, {
    method: item.method,
    token,
    ...(item.body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: item.body }),
  });
  return { status: r.status, body: await r.text() };
}

const guidOf = async (name: string) => (await s.store.users.getByName(name))!.guid;
const statusOf = async (name: string) => (await s.store.users.getByName(name))?.status;

describe('POST /api/rdadmin/batch', () => {
  it('GET tells the most requests a batch may hold, and so does a header on every answer', async () => {
    const r = await s.fetch('/api/rdadmin/batch', { token: s.token });
    expect([r.status, await r.json()]).toEqual([200, { max_requests: BATCH_MAX_REQUESTS }]);
    for (const [path, token] of [
      ['/api/users', s.token],
      ['/api/users', undefined],
      ['/api/nothing', s.token],
    ] as const) {
      const a = await s.fetch(path, token ? { token } : {});
      expect(a.headers.get('x-rdadmin-batch'), path).toBe(String(BATCH_MAX_REQUESTS));
    }
  });

  it('runs each request in order, as if sent alone: same status, same body, same console record', async () => {
    await s.seedUsers(['ann', 'ben']);
    const [ann, ben] = [await guidOf('ann'), await guidOf('ben')];
    const requests: Item[] = [
      { method: 'POST', path: `/api/users/${ann}/disable` },
      { method: 'GET', path: '/api/users?name=ann' },
      { method: 'POST', path: '/api/users/00000000-0000-0000-0000-000000000000/disable' },
      {
        method: 'POST',
        path: '/api/users',
        body: '{"name":"cid","password":"password123","group_name":"Default"}',
      },
      {
        method: 'POST',
        path: '/api/users',
        body: '{"name":"cid","password":"password123","group_name":"Default"}',
      },
      { method: 'POST', path: '/api/users', body: '{"name":' },
      { method: 'DELETE', path: `/api/users/${ben}` },
      { method: 'GET', path: '/api/nothing/here' },
    ];
    const got = await answers(requests);
    expect(got.map((a) => a.status)).toEqual([200, 200, 404, 200, 409, 400, 400, 404]);
    expect(await statusOf('ann')).toBe(0);
    expect(await statusOf('cid')).toBe(1);
    expect(await statusOf('ben')).toBe(1);
    // The listing saw the disable before it (order), and every refusal reads as when sent alone.
    expect(JSON.parse(got[1]!.body)).toMatchObject({ data: [{ name: 'ann', status: 0 }], total: 1 });
    for (const i of [2, 4, 5, 6, 7]) expect(got[i], requests[i]!.path).toEqual(await alone(requests[i]!));

    const log = await s.fetch('/api/audits/console?pageSize=10', { token: s.token });
    const rows = ((await log.json()) as { data: { operator: string; ip: string; detail: string }[] }).data;
    expect(rows.map((r) => r.detail)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^disabled user 'ann'/),
        expect.stringMatching(/^created user 'cid'/),
      ]),
    );
    for (const r of rows) expect([r.operator, r.ip]).toEqual(['admin', '127.0.0.1']);
    // The request log shows the batch and each request inside it.
    expect(s.logs.filter((l) => l.startsWith('POST /api/rdadmin/batch 200'))).toHaveLength(1);
    expect(s.logs.filter((l) => l.startsWith('(batch) '))).toHaveLength(requests.length);
  });

  it('answers every kind of body as when sent alone: JSON, JSON written otherwise, empty', async () => {
    await s.seedUsers(['dot']);
    const added = await answers([
      { method: 'POST', path: '/api/ab/shared/add', body: '{"name":"Ops book"}' },
    ]);
    expect(added[0]!.status).toBe(200);
    const book = (JSON.parse(added[0]!.body) as { guid: string }).guid;
    const reads: Item[] = [
      { method: 'GET', path: '/api/users?name=dot' }, // c.json()
      { method: 'GET', path: '/api/audits/console?pageSize=3' }, // written by its own serialiser
      { method: 'GET', path: '/api/ab/shared/profiles?current=1&pageSize=10' },
    ];
    const got = await answers(reads);
    for (const [i, item] of reads.entries()) expect(got[i], item.path).toEqual(await alone(item));
    // An empty answer (c.body(null)) stays empty, and the change is made.
    const [renamed] = await answers([
      {
        method: 'PUT',
        path: '/api/ab/shared/update/profile',
        body: JSON.stringify({ guid: book, name: 'Ops' }),
      },
    ]);
    expect(renamed).toEqual({ status: 200, body: '' });
    expect(await alone(reads[2]!)).toMatchObject({ body: expect.stringContaining('"name":"Ops"') });
  });

  it('with Accept answers=json, a JSON answer comes as the document itself; other answers as text', async () => {
    await s.seedUsers(['dot']);
    const reads: Item[] = [
      { method: 'GET', path: '/api/users?name=dot' }, // c.json()
      { method: 'GET', path: `/api/users/${'0'.repeat(8)}-0000-0000-0000-000000000000/enable` }, // an error
      { method: 'GET', path: '/api/audits/console?pageSize=3' }, // written by its own serialiser
      { method: 'POST', path: `/api/users/${await guidOf('dot')}/disable` }, // c.json({})
    ];
    // The reads sent alone first: the batch ends by disabling dot.
    const [first, notFound, log] = [await alone(reads[0]!), await alone(reads[1]!), await alone(reads[2]!)];
    const r = await batch(reads, s.token, BATCH_ACCEPT_JSON);
    expect(r.status, r.text).toBe(200);
    const lines = r.text.slice(0, -1).split('\n');
    expect(lines).toHaveLength(reads.length);
    // The document is the same text as when sent alone, not a string holding it.
    expect(lines[0]).toBe(`{"status":${first!.status},"json":${first!.body}}`);
    expect(notFound!.status).toBeGreaterThanOrEqual(400);
    expect(JSON.parse(lines[1]!)).toEqual({ status: notFound!.status, json: JSON.parse(notFound!.body) });
    expect(JSON.parse(lines[2]!)).toEqual(log);
    expect(JSON.parse(lines[3]!)).toEqual({ status: 200, json: {} });
    expect(await statusOf('dot')).toBe(0);
    // Without the parameter (an older client), every answer is text.
    const plain = await answers(reads.slice(0, 1));
    expect(plain[0]).toEqual(await alone(reads[0]!));
  });

  it('authorizes each request on its own, with the batch credentials', async () => {
    await s.seedUsers(['ann']);
    const ann = await guidOf('ann');
    const readOnly = await s.makeToken('user:r');
    const got = await answers(
      [
        { method: 'GET', path: '/api/users?name=ann' },
        { method: 'POST', path: `/api/users/${ann}/disable` },
        { method: 'GET', path: '/api/devices' },
      ],
      readOnly,
    );
    expect(got.map((a) => a.status)).toEqual([200, 403, 403]);
    expect(JSON.parse(got[1]!.body).error).toMatch(/lacks permission user:rw \(it has user:r\)/);
    expect(await statusOf('ann')).toBe(1);

    await s.seedUsers(['plain']);
    const session = await s.login('plain', 'password123');
    const mine = await answers([{ method: 'POST', path: `/api/users/${ann}/disable` }], session);
    expect(mine.map((a) => [a.status, JSON.parse(a.body).error])).toEqual([
      [403, 'administrator rights required'],
    ]);
    for (const bad of [undefined, 'rdt_not-a-token']) {
      const r = await s.fetch('/api/rdadmin/batch', {
        method: 'POST',
        ...(bad ? { token: bad } : {}),
        body: JSON.stringify({ requests: [{ method: 'POST', path: `/api/users/${ann}/disable` }] }),
      });
      expect(r.status).toBe(401);
    }
    expect(await statusOf('ann')).toBe(1);
  });

  it('holds admin API requests only: login, sessions, tokens, client endpoints and batches are refused', async () => {
    const refused: Item[] = [
      { method: 'POST', path: '/api/login', body: '{"username":"admin","password":"test1234"}' },
      { method: 'POST', path: '/api/logout' },
      { method: 'GET', path: '/api/tokens' },
      { method: 'POST', path: '/api/heartbeat', body: '{"id":"123","uuid":"u"}' },
      { method: 'GET', path: '/api/rdadmin/batch' },
      {
        method: 'POST',
        path: '/api/rdadmin/batch',
        body: '{"requests":[{"method":"GET","path":"/api/users"}]}',
      },
    ];
    const got = await answers(refused);
    for (const [i, a] of got.entries()) {
      expect(a.status, refused[i]!.path).toBe(400);
      expect(JSON.parse(a.body).error).toBe(
        `${refused[i]!.method} ${refused[i]!.path} cannot be part of a batch: a batch holds admin API requests only`,
      );
    }
    expect(s.logs.some((l) => l.includes('(batch) POST /api/login'))).toBe(true);
    expect(s.logs.filter((l) => l.startsWith('POST /api/login '))).toEqual([]);
  });

  it('refuses a malformed batch whole, naming what is wrong, and runs none of it', async () => {
    await s.seedUsers(['ann']);
    const ok = { method: 'POST', path: `/api/users/${await guidOf('ann')}/disable` };
    const cases: [unknown, RegExp][] = [
      [{ requests: [] }, /requests' must hold at least one request/],
      [
        { requests: Array.from({ length: BATCH_MAX_REQUESTS + 1 }, () => ok) },
        new RegExp(`at most ${BATCH_MAX_REQUESTS} requests`),
      ],
      [{ requests: [ok, { method: 'GET', path: 'http://elsewhere/api/users' }] }, /must be an \/api\/ path/],
      [{ requests: [ok, { method: 'GET', path: '/api/users x' }] }, /must be an \/api\/ path/],
      [{ requests: [ok, { method: 'TRACE', path: '/api/users' }] }, /must be one of GET/],
      [{ requests: [ok, { method: 'POST', path: '/api/users', body: { name: 'x' } }] }, /body as text/],
      [{ requests: [ok], extra: 1 }, /unknown field\(s\): extra/],
      [[ok], /request body/],
    ];
    for (const [body, error] of cases) {
      const r = await s.fetch('/api/rdadmin/batch', {
        method: 'POST',
        token: s.token,
        body: JSON.stringify(body),
      });
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(error);
    }
    expect(await statusOf('ann')).toBe(1);
  });
});

describe('bulk verbs send their requests in batches (rdadmin serve)', () => {
  const many = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);

  it('users disable over 250 users: the listing in one batch, then three, one result per user, the same as one request each', async () => {
    const names = many(250, 'leaver');
    await s.seedUsers(names, { group: 'Leavers' });
    const batched = await cli(['users', 'disable', '--group_name', 'Leavers', '--yes'], { env });
    expect(batched.code).toBe(0);
    expect(batched.stdout.trim().split('\n').sort()).toEqual(names.map((n) => `Disabled ${n}`));
    expect(batched.stderr).toContain('Disabled 250 users.');
    for (const n of names) expect(await statusOf(n), n).toBe(0);
    // The listing: page 1 alone, pages 2 and 3 in one batch; then the disables in three.
    expect(s.logs.filter((l) => l.startsWith('POST /api/rdadmin/batch 200'))).toHaveLength(4);
    expect(s.logs.filter((l) => l.startsWith('(batch) GET /api/users'))).toHaveLength(2);
    // The listing's answers said the server takes batches (X-Rdadmin-Batch): it was not asked.
    expect(s.logs.filter((l) => l.startsWith('GET /api/rdadmin/batch'))).toEqual([]);
    expect(s.logs.filter((l) => l.startsWith('(batch) POST /api/users/'))).toHaveLength(250);
    expect(s.logs.filter((l) => l.startsWith('POST /api/users/'))).toEqual([]);

    s.logs.length = 0;
    const single = await cli(['users', 'enable', '--group_name', 'Leavers', '--yes', '--no-batch'], { env });
    expect(single.code).toBe(0);
    expect(single.stdout.trim().split('\n').sort()).toEqual(names.map((n) => `Enabled ${n}`));
    expect(s.logs.filter((l) => l.includes('/api/rdadmin/batch'))).toEqual([]);
    expect(s.logs.filter((l) => l.startsWith('GET /api/users'))).toHaveLength(3);
    expect(s.logs.filter((l) => l.startsWith('POST /api/users/'))).toHaveLength(250);
    for (const n of names) expect(await statusOf(n), n).toBe(1);
  });

  it('a request refused inside a batch fails that target alone, reported as when sent alone; exit 1', async () => {
    await s.seedUsers(['a-off-1', 'a-off-2'], { group: 'Mixed', status: 0 });
    await s.seedUsers(['a-on-1', 'a-on-2'], { group: 'Mixed' });
    const runs = [];
    for (const extra of [[], ['--no-batch']]) {
      const r = await cli(['users', 'delete', '--group_name', 'Mixed', '--yes', '--json', ...extra], { env });
      expect(r.code, extra.join(' ')).toBe(1);
      runs.push(
        (JSON.parse(r.stdout) as { name: string; ok: boolean; outcome?: string; error?: string }[])
          .map((x) => `${x.name} ${x.ok ? 'done' : `${x.outcome}: ${x.error}`}`)
          .sort(),
      );
      // The second run finds the enabled ones only.
      await s.seedUsers(['a-off-1', 'a-off-2'], { group: 'Mixed', status: 0 });
    }
    expect(runs[0]).toEqual([
      'a-off-1 done',
      'a-off-2 done',
      "a-on-1 failed: user 'a-on-1' is enabled: disable it first, then delete it (HTTP 400)",
      "a-on-2 failed: user 'a-on-2' is enabled: disable it first, then delete it (HTTP 400)",
    ]);
    expect(runs[1]).toEqual(runs[0]);
  });

  it('a token that may not make the change stops the run with exit 4, nothing changed', async () => {
    await s.seedUsers(many(5, 'keep'), { group: 'Keep' });
    const readOnly = await s.makeToken('user:r');
    const r = await cli(['users', 'disable', '--group_name', 'Keep', '--yes'], {
      env: { ...env, RDADMIN_TOKEN: readOnly },
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/permission denied: token '[^']+' lacks permission user:rw/);
    for (const n of many(5, 'keep')) expect(await statusOf(n)).toBe(1);
  });

  it('with nothing asked before (GUIDs given), the CLI asks whether the server takes batches', async () => {
    const admin = await guidOf('admin');
    const books = [
      await s.store.addressBooks.createShared({ name: 'Old', ownerGuid: admin }),
      await s.store.addressBooks.createShared({ name: 'Older', ownerGuid: admin }),
    ];
    const r = await cli(['ab', 'delete-ab', '--ab-guid', books.join(','), '--yes'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(s.logs.filter((l) => l.startsWith('GET /api/rdadmin/batch 200'))).toHaveLength(1);
    expect(s.logs.filter((l) => l.startsWith('(batch) DELETE /api/ab/shared 200'))).toHaveLength(2);
  });

  it('--debug shows each batch', async () => {
    await s.seedUsers(many(3, 'dbg'), { group: 'Dbg' });
    const r = await cli(['users', 'disable', '--group_name', 'Dbg', '--yes', '--debug'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/debug: batch of 3: POST \/api\/users\/[^ ]+\/disable …/);
    expect(r.stderr).toMatch(/debug: → POST \/api\/rdadmin\/batch/);
  });
});
