import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';

// The legacy address book (GET/POST /api/ab, POST /api/ab/get): what RustDesk clients before the
// personal and shared books read and write, as one JSON string. It is the caller's personal book,
// so the modern endpoints see every change, and the reverse.

let s: TestServer;
let bob: string;
let cid: string;

beforeAll(async () => {
  s = await startTestServer();
  await s.seedUsers(['bob', 'cid']);
  bob = await s.login('bob', 'password123');
  cid = await s.login('cid', 'password123');
});
afterAll(async () => {
  await s.close();
});

type Json = Record<string, unknown>;

const call = (method: string, path: string, token: string, body?: unknown) =>
  s.call(method, path, token, body);

/** The legacy read, with `data` and its `tag_colors` parsed. */
async function pull(token: string, how: 'GET' | 'POST' = 'GET') {
  const r = await call(how, how === 'GET' ? '/api/ab' : '/api/ab/get', token);
  expect(r.status, r.text).toBe(200);
  const data = JSON.parse(r.json!['data'] as string) as { tags: string[]; peers: Json[]; tag_colors: string };
  return {
    ...data,
    tag_colors: JSON.parse(data.tag_colors) as Record<string, number>,
    licensed: r.json!['licensed_devices'],
  };
}

const push = (token: string, data: unknown) =>
  call('POST', '/api/ab', token, { data: typeof data === 'string' ? data : JSON.stringify(data) });

const WORK = 0xff5b8def;

describe('the legacy address book', () => {
  it('starts empty, with licensed_devices = max_peer_one_ab (0: no limit)', async () => {
    expect(await pull(bob)).toEqual({ tags: [], peers: [], tag_colors: {}, licensed: 0 });
  });

  it('an upload replaces the personal book; the modern endpoints and both legacy reads see it', async () => {
    const r = await push(bob, {
      tags: ['work', 'home'],
      peers: [
        {
          id: '123456789',
          alias: 'office pc',
          tags: ['work'],
          hash: 'h-1',
          username: 'bob',
          hostname: 'office',
          platform: 'Windows',
        },
        { id: '987654321', tags: ['lab'] },
      ],
      tag_colors: JSON.stringify({ work: WORK }),
    });
    expect(r).toMatchObject({ status: 200, text: '' });

    const guid = (await call('POST', '/api/ab/personal', bob)).json!['guid'] as string;
    const peers = await call('POST', `/api/ab/peers?current=1&pageSize=100&ab=${guid}`, bob);
    expect(peers.json!['data']).toEqual([
      expect.objectContaining({
        id: '123456789',
        alias: 'office pc',
        tags: ['work'],
        hash: 'h-1',
        hostname: 'office',
        platform: 'Windows',
      }),
      expect.objectContaining({ id: '987654321', alias: '', tags: ['lab'], hash: '' }),
    ]);
    const tags = (await call('POST', `/api/ab/tags/${guid}`, bob)).json as unknown as {
      name: string;
      color: number;
    }[];
    expect(tags.map((t) => t.name)).toEqual(['work', 'home', 'lab']);
    expect(tags[0]!.color).toBe(WORK);

    for (const how of ['GET', 'POST'] as const) {
      const back = await pull(bob, how);
      expect(back.tags).toEqual(['work', 'home', 'lab']);
      expect(back.peers.map((p) => p['id'])).toEqual(['123456789', '987654321']);
      expect(back.peers[0]).toMatchObject({
        alias: 'office pc',
        hash: 'h-1',
        username: 'bob',
        tags: ['work'],
      });
      expect(back.tag_colors).toEqual(Object.fromEntries(tags.map((t) => [t.name, t.color])));
    }
    // Another user's legacy book is their own.
    expect((await pull(cid)).peers).toEqual([]);
  });

  it('a second upload removes the peers it lacks, overwrites the rest, and keeps tag colours', async () => {
    const before = await pull(bob);
    expect(
      (
        await push(bob, {
          tags: ['home', 'work'],
          peers: [{ id: '123456789', alias: 'renamed', tags: ['home'] }],
        })
      ).status,
    ).toBe(200);
    const after = await pull(bob);
    expect(after.peers).toEqual([
      {
        id: '123456789',
        alias: 'renamed',
        tags: ['home'],
        hash: '',
        username: '',
        hostname: '',
        platform: '',
        note: '',
      },
    ]);
    expect(after.tags).toEqual(['home', 'work']);
    expect(after.tag_colors).toEqual({ home: before.tag_colors['home'], work: WORK });
  });

  it('is in the console log, with what changed', async () => {
    const r = await call('GET', '/api/audits/console?pageSize=100', s.token);
    const details = (r.json!['data'] as { detail: string; operator: string }[])
      .filter((x) => x.operator === 'bob')
      .map((x) => x.detail);
    expect(details).toContain(
      "replaced the personal address book of 'bob' from a legacy client: 0 peers added, 1 updated, 1 removed; 2 tags",
    );
  });

  it('refuses bad uploads with a 400 that names the field, and changes nothing', async () => {
    const before = await pull(bob);
    const cases: [unknown, string][] = [
      ['{"tags": [', "request body field 'data' is not valid JSON"],
      [{ peers: 'x' }, "request body field 'data' field 'peers' must be a list of peers"],
      [{ peers: [{ alias: 'no id' }] }, "request body field 'data' field 'peers.0.id' is required"],
      [{ tags: ['ok'], tag_colors: '{' }, "request body field 'data' field 'tag_colors' is not valid JSON"],
      [
        { tag_colors: JSON.stringify({ t: 'red' }) },
        "request body field 'data' field 'tag_colors' field 't' must be a 32-bit ARGB integer",
      ],
    ];
    for (const [data, error] of cases) {
      const r = await push(bob, data);
      expect(r.status, JSON.stringify(data)).toBe(400);
      expect(r.json!['error']).toBe(error);
    }
    const noData = await call('POST', '/api/ab', bob, { tags: [] });
    expect(noData).toMatchObject({ status: 400, json: { error: "request body field 'data' is required" } });
    expect(await pull(bob)).toEqual(before);
  });

  it('max_peer_one_ab refuses an upload with more peers, whole', async () => {
    const before = await pull(bob);
    await s.store.settings.set('max_peer_one_ab', 1);
    try {
      expect((await pull(bob)).licensed).toBe(1);
      const r = await push(bob, { peers: [{ id: '111111111' }, { id: '222222222' }] });
      expect(r.status).toBe(400);
      expect(r.json!['error']).toBe(
        "the personal address book of 'bob' may hold at most 1 peers (max_peer_one_ab); the upload has 2",
      );
      expect(await pull(bob)).toEqual({ ...before, licensed: 1 });
    } finally {
      await s.store.settings.set('max_peer_one_ab', 0);
    }
  });

  it('needs a session or an address_book token (rw to write)', async () => {
    expect((await call('GET', '/api/ab', '')).status).toBe(401);
    const ro = await s.makeToken('address_book:r');
    expect((await call('GET', '/api/ab', ro)).status).toBe(200);
    expect((await push(ro, { peers: [] })).status).toBe(403);
  });
});
