import fc from 'fast-check';
import { MockAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError } from '../../src/cli/errors';
import { createApi } from '../../src/client';
import { collect, paginate } from '../../src/client/paginate';
import { Transport } from '../../src/client/transport';

// paginate() with `prefetch`: the next pages are asked for while the current one is read; rows
// still come once each, in order, and no more pages are fetched than `total` says exist.

const ORIGIN = 'http://rd.test:21114';
const Row = z.object({ guid: z.string(), name: z.string() });
type Row = z.infer<typeof Row>;
const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ guid: `g${i}`, name: `user${i}` }));

function fake(answer: (current: number, pageSize: number) => { status: number; body: unknown }) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const asked: number[] = [];
  agent
    .get(ORIGIN)
    .intercept({ path: (p) => p.startsWith('/api/users?'), method: 'GET' })
    .reply((req) => {
      const q = new URL(req.path, ORIGIN).searchParams;
      const current = Number(q.get('current'));
      asked.push(current);
      const a = answer(current, Number(q.get('pageSize')));
      return { statusCode: a.status, data: JSON.stringify(a.body) };
    })
    .persist();
  const t = new Transport({
    baseUrl: ORIGIN,
    timeoutMs: 5_000,
    connections: 4,
    retries: 0,
    dispatcher: agent,
  });
  return {
    t,
    asked,
    close: async () => {
      await t.close();
      await agent.close();
    },
  };
}

const slicing = (all: Row[]) => (current: number, size: number) => ({
  status: 200,
  body: { data: all.slice((current - 1) * size, current * size), total: all.length },
});

describe('paginate with prefetch', () => {
  it('every row once, in order, each page asked for exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 4 }),
        async (n, size, prefetch) => {
          const s = fake(slicing(rows(n)));
          try {
            const got = await collect(paginate(s.t, '/api/users', {}, Row, { pageSize: size, prefetch }));
            expect(got).toEqual(rows(n));
            const pages = Math.max(1, Math.ceil(n / size));
            expect([...s.asked].sort((a, b) => a - b)).toEqual(
              Array.from({ length: pages }, (_, i) => i + 1),
            );
          } finally {
            await s.close();
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('looks at most `prefetch` pages ahead of the page being read', async () => {
    const s = fake(slicing(rows(100)));
    try {
      let page = 0;
      for await (const r of paginate(s.t, '/api/users', {}, Row, { pageSize: 10, prefetch: 2 })) {
        const p = Math.floor(Number(r.guid.slice(1)) / 10) + 1;
        if (p !== page) {
          page = p;
          expect(Math.max(...s.asked)).toBeLessThanOrEqual(Math.min(10, page + 2));
          if (page < 9) expect(s.asked).toContain(page + 1); // the next page is already on its way
        }
      }
    } finally {
      await s.close();
    }
  });

  it('through createApi, a listing reads one page ahead per pooled connection but one', async () => {
    for (const connections of [1, 2, 8]) {
      const agent = new MockAgent();
      agent.disableNetConnect();
      const asked: number[] = [];
      const all = Array.from({ length: 200 }, (_, i) => ({ guid: `g${i}`, name: `u${i}`, status: 1 }));
      agent
        .get(ORIGIN)
        .intercept({ path: (p) => p.startsWith('/api/users?'), method: 'GET' })
        .reply((req) => {
          const current = Number(new URL(req.path, ORIGIN).searchParams.get('current'));
          asked.push(current);
          const data = all.slice((current - 1) * 10, current * 10);
          return { statusCode: 200, data: JSON.stringify({ data, total: all.length }) };
        })
        .persist();
      const api = createApi({
        baseUrl: ORIGIN,
        timeoutMs: 5_000,
        connections,
        pageSize: 10,
        dispatcher: agent,
      });
      try {
        const rowsSeen: string[] = [];
        for await (const u of api.users.list({})) {
          // While page 1 is read, the pages asked for are page 1 and the `connections - 1` after it.
          if (rowsSeen.length === 0)
            expect(Math.max(...asked), `${connections} connections`).toBe(connections);
          rowsSeen.push(u.guid);
        }
        expect(rowsSeen).toEqual(all.map((u) => u.guid));
      } finally {
        await api.transport.close();
        await agent.close();
      }
    }
  });

  it('a failing page ahead is reported when its turn comes, after the rows before it', async () => {
    const all = rows(50);
    const s = fake((current, size) =>
      current === 3 ? { status: 500, body: { error: 'boom' } } : slicing(all)(current, size),
    );
    try {
      const seen: Row[] = [];
      let error: unknown;
      try {
        for await (const r of paginate(s.t, '/api/users', {}, Row, { pageSize: 10, prefetch: 3 }))
          seen.push(r);
      } catch (err) {
        error = err;
      }
      expect(seen).toEqual(all.slice(0, 20));
      expect(error).toBeInstanceOf(ApiError);
      expect((error as Error).message).toContain('boom');
    } finally {
      await s.close();
    }
  });

  it('stopping early leaves no unhandled failure behind', async () => {
    const s = fake((current, size) =>
      current === 1 ? slicing(rows(40))(current, size) : { status: 503, body: { error: 'down' } },
    );
    try {
      const it = paginate(s.t, '/api/users', {}, Row, { pageSize: 10, prefetch: 3 });
      expect((await it.next()).value).toEqual({ guid: 'g0', name: 'user0' });
      await it.return(undefined);
      await new Promise((r) => setTimeout(r, 20)); // let the abandoned pages settle
      expect(s.asked.sort()).toEqual([1, 2, 3, 4]);
    } finally {
      await s.close();
    }
  });
});
