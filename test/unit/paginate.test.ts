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
    const s = server(({ current }) => ({ data: book[current] ?? [], total: 5 }));
    await expect(collect(paginate(s.t, '/api/users', {}, Row, { pageSize: 2 }))).resolves.toEqual([
      a,
      b,
      c,
      d,
    ]);
    expect(s.pages).toHaveLength(3);
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
