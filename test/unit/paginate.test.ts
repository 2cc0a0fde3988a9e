import fc from 'fast-check';
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError } from '../../src/cli/errors';
import { collect, paginate } from '../../src/client/paginate';
import { Transport, type TransportOptions } from '../../src/client/transport';

const ORIGIN = 'http://rd.test:21114';
const Row = z.object({ guid: z.string(), name: z.string() });
type Row = z.infer<typeof Row>;

function rows(n: number, from = 0): Row[] {
  return Array.from({ length: n }, (_, i) => ({ guid: `g${from + i}`, name: `user${from + i}` }));
}

interface Page {
  current: number;
  pageSize: number;
  query: Record<string, string>;
}

/**
 * A fake list endpoint on a fresh MockAgent: `answer` gets the page asked for and returns the body.
 * Every request is recorded in `pages`.
 */
function fakeServer(answer: (page: Page) => unknown, extra: Partial<TransportOptions> = {}) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const pages: Page[] = [];
  agent
    .get(ORIGIN)
    .intercept({ path: (p) => p.startsWith('/api/users?'), method: 'GET' })
    .reply((req) => {
      const query = Object.fromEntries(new URL(req.path, ORIGIN).searchParams);
      const page = { current: Number(query['current']), pageSize: Number(query['pageSize']), query };
      pages.push(page);
      return { statusCode: 200, data: JSON.stringify(answer(page)) };
    })
    .persist();
  const t = new Transport({
    baseUrl: ORIGIN,
    timeoutMs: 5_000,
    connections: 1,
    retries: 0,
    dispatcher: agent,
    ...extra,
  });
  return {
    t,
    pages,
    async close() {
      await t.close();
      agent.assertNoPendingInterceptors();
      await agent.close();
    },
  };
}

/** A well-behaved server holding `all`; `withTotal` decides whether `total` is in the envelope. */
function slicing(all: Row[], withTotal: boolean) {
  return ({ current, pageSize }: Page) => ({
    data: all.slice((current - 1) * pageSize, current * pageSize),
    ...(withTotal ? { total: all.length } : {}),
  });
}

let open: { close(): Promise<void> }[] = [];
beforeEach(() => {
  open = [];
});
afterEach(async () => {
  for (const s of open) await s.close();
});
function server(answer: (page: Page) => unknown, extra: Partial<TransportOptions> = {}) {
  const s = fakeServer(answer, extra);
  open.push(s);
  return s;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('paginate: properties', () => {
  it('with total: every row once, in order, in exactly max(1, ceil(N/pageSize)) requests', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 50 }), async (n, size) => {
        const s = fakeServer(slicing(rows(n), true));
        try {
          const got = await collect(paginate(s.t, '/api/users', { name: '%a%' }, Row, { pageSize: size }));
          expect(got).toEqual(rows(n));
          // An exactly full last page ends the loop: no extra empty request.
          expect(s.pages).toHaveLength(Math.max(1, Math.ceil(n / size)));
          expect(s.pages.map((p) => p.current)).toEqual(s.pages.map((_, i) => i + 1));
          for (const p of s.pages)
            expect(p.query).toEqual({ name: '%a%', current: String(p.current), pageSize: String(size) });
        } finally {
          await s.close();
        }
      }),
      { numRuns: 120 },
    );
  });

  it('without total: reads until a short page (one empty page after an exactly full one)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 50 }), async (n, size) => {
        const s = fakeServer(slicing(rows(n), false));
        try {
          const got = await collect(paginate(s.t, '/api/users', {}, Row, { pageSize: size }));
          expect(got).toEqual(rows(n));
          expect(s.pages).toHaveLength(Math.floor(n / size) + 1);
        } finally {
          await s.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('paginate: examples', () => {
  it('reads past page 1 without total (the scripts would stop after one page)', async () => {
    const s = server(slicing(rows(25), false));
    await expect(collect(paginate(s.t, '/api/users', {}, Row, { pageSize: 10 }))).resolves.toEqual(rows(25));
    expect(s.pages.map((p) => p.current)).toEqual([1, 2, 3]);
  });

  it('a server that caps the page size is reported, not silently truncated', async () => {
    const all = rows(120);
    const s = server(({ current, pageSize }) => ({
      data: all.slice((current - 1) * pageSize, (current - 1) * pageSize + Math.min(pageSize, 50)),
      total: all.length,
    }));
    const err = await rejection(collect(paginate(s.t, '/api/users', {}, Row, { pageSize: 100 })));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toContain('returned 50 rows for pageSize=100 on page 1, but reports 120');
    expect((err as ApiError).hint).toContain('RDADMIN_PAGE_SIZE=50');
  });

  it('N multiple of pageSize with total: stops on the full last page', async () => {
    const s = server(slicing(rows(20), true));
    await expect(collect(paginate(s.t, '/api/users', {}, Row, { pageSize: 10 }))).resolves.toHaveLength(20);
    expect(s.pages.map((p) => p.current)).toEqual([1, 2]);
  });

  it('yields rows as they arrive: the first row comes before page 2 is asked for', async () => {
    const s = server(slicing(rows(30), true));
    const it = paginate(s.t, '/api/users', {}, Row, { pageSize: 10 });
    const first = await it.next();
    expect(first.value).toEqual({ guid: 'g0', name: 'user0' });
    expect(s.pages).toHaveLength(1);
    await it.return(undefined);
    expect(s.pages).toHaveLength(1);
  });

  it('waits for the transport’s pace between pages (stdout not yet taking the rows)', async () => {
    let release: (() => void) | undefined;
    let blocked = false;
    const s = server(slicing(rows(30), true), {
      pace: () => (blocked ? new Promise<void>((r) => (release = r)) : undefined),
    });
    const it = paginate(s.t, '/api/users', {}, Row, { pageSize: 10 });
    for (let i = 0; i < 10; i++) await it.next(); // page 1, read through
    blocked = true;
    const next = it.next();
    await new Promise((r) => setTimeout(r, 50));
    expect(s.pages).toHaveLength(1); // page 2 not asked for while the pace holds
    blocked = false;
    release!();
    expect((await next).value).toEqual({ guid: 'g10', name: 'user10' });
    expect(s.pages).toHaveLength(2);
    expect(await collect(it)).toHaveLength(19);
  });

  it('drops rows whose GUID was already seen on an earlier page', async () => {
    const [a, b, c, d] = rows(4) as [Row, Row, Row, Row];
    const book: Record<number, Row[]> = { 1: [a, b], 2: [b, c], 3: [d] };
    const notices: string[] = [];
    const s = server(({ current }) => ({ data: book[current] ?? [], total: 5 }), {
      notice: (l) => notices.push(l),
    });
    await expect(collect(paginate(s.t, '/api/users', {}, Row, { pageSize: 2 }))).resolves.toEqual([
      a,
      b,
      c,
      d,
    ]);
    // A row twice in one reading means the rows moved (some were added before it): the listing is
    // read again from page 1, here every time, since this server always answers so; no row is
    // handed on twice.
    expect(s.pages.map((p) => p.current)).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
    expect(notices).toEqual([
      'the users listing kept changing while it was read (rows were removed or added meanwhile; read 4 times from the first page), so rows may be missing: 0 rows came from the readings again, after the others; run the command again once the changes are done',
    ]);
  });

  it('a server that repeats the same full page forever ends with an ApiError', async () => {
    for (const total of [1_000_000, undefined]) {
      const s = server(() => ({ data: rows(5), total }));
      const seen: Row[] = [];
      const err = await rejection(
        (async () => {
          // The cap is far above 2, and keeps a regression from spinning for 100 000 pages.
          for await (const r of paginate(s.t, '/api/users', {}, Row, { pageSize: 5, maxPages: 50 }))
            seen.push(r);
        })(),
      );
      expect(err).toBeInstanceOf(ApiError);
      expect(err.message).toMatch(/repeated page 2 of \/api\/users/);
      expect(seen).toEqual(rows(5));
      expect(s.pages).toHaveLength(2);
    }
  });

  it('stops at the page cap when every page is new but total never ends', async () => {
    const s = server(({ current, pageSize }) => ({
      data: rows(pageSize, (current - 1) * pageSize),
      total: 1e9,
    }));
    const err = await rejection(collect(paginate(s.t, '/api/users', {}, Row, { pageSize: 3, maxPages: 4 })));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toMatch(/stopped after 4 pages/);
    expect(s.pages).toHaveLength(4);
  });

  it('rejects a row that fails the row schema, naming the field', async () => {
    const s = server(() => ({
      data: [
        { guid: 'g1', name: 'ok' },
        { guid: 'g2', name: 42 },
      ],
      total: 2,
    }));
    const err = await rejection(collect(paginate(s.t, '/api/users', {}, Row, { pageSize: 10 })));
    expect(err.constructor).toBe(ApiError);
    expect((err as ApiError).exitCode).toBe(1);
    expect(err.message).toMatch(/unexpected row from \/api\/users: name/);
  });

  it('rejects an envelope whose data is not a list', async () => {
    const s = server(() => ({ data: { guid: 'g1' }, total: 1 }));
    const err = await rejection(collect(paginate(s.t, '/api/users', {}, Row, { pageSize: 10 })));
    expect(err.constructor).toBe(ApiError);
    expect(err.message).toMatch(/unexpected answer.*data/);
  });

  it('treats a missing or null data as an empty page', async () => {
    const s = server(() => ({ data: null, total: 0 }));
    await expect(collect(paginate(s.t, '/api/users', {}, Row, { pageSize: 10 }))).resolves.toEqual([]);
    expect(s.pages).toHaveLength(1);
  });
});

describe('paginate: a listing that changes while it is read', () => {
  /** `all` rows; `change(n)` runs once `n` answers have been given (the set changes between pages). */
  function moving(all: Row[], change: (answered: number, rows: Row[]) => Row[], withTotal = true) {
    let now = all;
    let answered = 0;
    return ({ current, pageSize }: Page) => {
      const body = {
        data: now.slice((current - 1) * pageSize, current * pageSize),
        ...(withTotal ? { total: now.length } : {}),
      };
      now = change(++answered, now);
      return body;
    };
  }

  it('rows removed before the read position: read again from page 1, the rows it missed after the others', async () => {
    const all = rows(10);
    const notices: string[] = [];
    // After page 2 of the first reading, the first two rows go: rows 6 and 7 move onto page 2.
    const s = server(
      moving(all, (n, r) => (n === 2 ? r.slice(2) : r)),
      { notice: (l) => notices.push(l) },
    );
    const got = await collect(paginate(s.t, '/api/users', {}, Row, { pageSize: 3 }));
    expect(got.map((r) => r.guid)).toEqual(['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g8', 'g9', 'g6', 'g7']);
    expect(s.pages.map((p) => p.current)).toEqual([1, 2, 3, 1, 2, 3]);
    expect(notices).toEqual([
      'the users listing changed while it was read (rows were removed or added meanwhile), so it was read again from the first page: 2 rows came from the reading again, after the others',
    ]);
  });

  it('a rise of total counts too (one row removed before the position, two added after it)', async () => {
    const all = rows(10);
    const notices: string[] = [];
    const s = server(
      moving(all, (n, r) => (n === 2 ? [...r.slice(1), ...rows(2, 100)] : r)),
      { notice: (l) => notices.push(l) },
    );
    const got = await collect(paginate(s.t, '/api/users', {}, Row, { pageSize: 3 }));
    expect(new Set(got.map((r) => r.guid))).toEqual(
      new Set([...rows(10), ...rows(2, 100)].map((r) => r.guid)),
    );
    expect(got).toHaveLength(12);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('1 row came from the reading again');
  });

  it('a listing that holds still is read once and says nothing', async () => {
    const notices: string[] = [];
    const s = server(slicing(rows(10), true), { notice: (l) => notices.push(l) });
    await expect(collect(paginate(s.t, '/api/users', {}, Row, { pageSize: 3 }))).resolves.toEqual(rows(10));
    expect(s.pages.map((p) => p.current)).toEqual([1, 2, 3, 4]);
    expect(notices).toEqual([]);
  });

  it('reread: false (the audit logs) reads once, as before', async () => {
    const notices: string[] = [];
    const s = server(
      moving(rows(10), (n, r) => (n === 2 ? r.slice(2) : r)),
      { notice: (l) => notices.push(l) },
    );
    const got = await collect(paginate(s.t, '/api/users', {}, Row, { pageSize: 3, reread: false }));
    expect(got).toHaveLength(8);
    expect(s.pages.map((p) => p.current)).toEqual([1, 2, 3]);
    expect(notices).toEqual([]);
  });

  it('rows without a guid cannot be read again: a warning says rows may be missing', async () => {
    const Loose = z.object({ name: z.string() });
    const all = Array.from({ length: 10 }, (_, i) => ({ name: `n${i}` }));
    const notices: string[] = [];
    let answered = 0;
    let now = all;
    const s = server(
      ({ current, pageSize }) => {
        const body = { data: now.slice((current - 1) * pageSize, current * pageSize), total: now.length };
        if (++answered === 2) now = now.slice(2);
        return body;
      },
      { notice: (l) => notices.push(l) },
    );
    const got = await collect(paginate(s.t, '/api/users', {}, Loose, { pageSize: 3 }));
    expect(got).toHaveLength(8);
    expect(s.pages.map((p) => p.current)).toEqual([1, 2, 3]);
    expect(notices).toEqual([
      'the users listing changed while it was read (rows were removed or added meanwhile) and its rows carry no guid, so it cannot be read again without repeating rows: rows may be missing; run the command again once the changes are done',
    ]);
  });
});
