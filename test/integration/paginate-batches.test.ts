import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApi } from '../../src/client';
import { collect, paginate } from '../../src/client/paginate';
import { Transport } from '../../src/client/transport';
import { startTestServer, type TestServer } from '../helpers/server';

// A listing read from a server that takes batches (rdadmin serve) asks for the pages ahead in
// batches: one round trip for many pages. Rows must come exactly as page by page (once each, in
// order), every page asked for once, and a batch that fails on the way is made up for by asking
// its pages alone, as a lone page would be retried.

describe('listings over a server that takes batches', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
    await s.seedUsers(Array.from({ length: 2345 }, (_, i) => `user${String(i).padStart(5, '0')}`));
  });
  afterAll(async () => {
    await s.close();
  });

  it('rdadmin serve: every user once, in order, the pages after the first in a few batches', async () => {
    const api = createApi({
      baseUrl: s.url,
      token: s.token,
      timeoutMs: 10_000,
      connections: 4,
      pageSize: 50,
    });
    try {
      s.logs.length = 0;
      const got = await collect(api.users.list({}));
      const want = await s.store.users.list({}, 0, 10_000);
      expect(got.map((u) => u.guid)).toEqual(want.rows.map((u) => u.guid));
      expect(got).toHaveLength(2346); // and admin
      const pages = Math.ceil(2346 / 50);
      const alone = s.logs.filter((l) => /^GET \/api\/users /.test(l));
      const inBatches = s.logs.filter((l) => /^\(batch\) GET \/api\/users /.test(l));
      const batches = s.logs.filter((l) => /^POST \/api\/rdadmin\/batch 200/.test(l));
      expect(alone).toHaveLength(1);
      expect(inBatches).toHaveLength(pages - 1);
      // 2,000 rows ahead (40 pages of 50), topped up when half are read: 46 pages in two batches.
      expect(batches).toHaveLength(2);
    } finally {
      await api.close();
    }
  });
});

/** A list endpoint over `n` rows that announces batches, counting what it is asked. */
interface Fake {
  url: string;
  server: Server;
  asked: number[];
  batches: number[];
  /** Batches whose connection is cut before any answer (by number, from 1). */
  cut: Set<number>;
}

const Row = z.object({ guid: z.string() });

async function fake(n: number, announce = true, trickle = false): Promise<Fake> {
  const f: Fake = { url: '', server: undefined as unknown as Server, asked: [], batches: [], cut: new Set() };
  const page = (path: string) => {
    const q = new URL(path, 'http://x').searchParams;
    const current = Number(q.get('current'));
    const size = Number(q.get('pageSize'));
    f.asked.push(current);
    const data = Array.from({ length: Math.max(0, Math.min(size, n - (current - 1) * size)) }, (_, i) => ({
      guid: `g${(current - 1) * size + i}`,
    }));
    return JSON.stringify({ data, total: n });
  };
  f.server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    if (announce) res.setHeader('X-Rdadmin-Batch', '100');
    if (req.method === 'GET') return void res.end(page(req.url!));
    const { requests } = JSON.parse(text) as { requests: { path: string }[] };
    f.batches.push(requests.length);
    if (f.cut.has(f.batches.length)) return void req.socket.destroy();
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    for (const r of requests) {
      res.write(`${JSON.stringify({ status: 200, body: page(r.path) })}\n`);
      if (trickle) await new Promise((done) => setTimeout(done, 1));
    }
    res.end();
  });
  await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
  f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
  return f;
}

describe('paginate in batches', () => {
  it('every row once, in order; every page asked for once; at most ~2,000 rows asked ahead', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 3 }),
        async (n, size, prefetch) => {
          const f = await fake(n);
          const t = new Transport({ baseUrl: f.url, timeoutMs: 5000, connections: 4 });
          try {
            const seen: string[] = [];
            let read = 0;
            for await (const r of paginate(t, '/api/users', {}, Row, { pageSize: size, prefetch })) {
              seen.push(r.guid);
              read = Math.floor(seen.length / size) + 1;
              // The page being read, plus what is asked ahead: `prefetch` pages or ~2,000 rows.
              expect(Math.max(...f.asked)).toBeLessThanOrEqual(
                read + Math.max(prefetch, Math.floor(2000 / size)),
              );
            }
            expect(seen).toEqual(Array.from({ length: n }, (_, i) => `g${i}`));
            const pages = Math.max(1, Math.ceil(n / size));
            expect([...f.asked].sort((a, b) => a - b)).toEqual(
              Array.from({ length: pages }, (_, i) => i + 1),
            );
            // Page 1 alone (it says the server takes batches), the rest in batches.
            expect(f.asked.length - f.batches.reduce((a, b) => a + b, 0)).toBe(1);
            for (const b of f.batches) expect(b).toBeLessThanOrEqual(100);
          } finally {
            await t.close();
            f.server.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('answers that trickle in still leave in full batches (topped up once half are read)', async () => {
    const f = await fake(10_000, true, true);
    const t = new Transport({ baseUrl: f.url, timeoutMs: 5000, connections: 4 });
    try {
      const got = await collect(paginate(t, '/api/users', {}, Row, { pageSize: 100, prefetch: 3 }));
      expect(got).toHaveLength(10_000);
      // 99 pages after the first: 20 asked ahead, topped up by about 10 at a time.
      expect(f.batches.reduce((a, b) => a + b, 0)).toBe(99);
      for (const b of f.batches.slice(0, -1)) expect(b).toBeGreaterThanOrEqual(8);
    } finally {
      await t.close();
      f.server.close();
    }
  });

  it('the pages of a batch whose connection breaks are asked for alone, and the listing completes', async () => {
    const f = await fake(1000);
    f.cut.add(1);
    const t = new Transport({ baseUrl: f.url, timeoutMs: 5000, connections: 4 });
    try {
      const got = await collect(paginate(t, '/api/users', {}, Row, { pageSize: 10, prefetch: 3 }));
      expect(got.map((r) => r.guid)).toEqual(Array.from({ length: 1000 }, (_, i) => `g${i}`));
      // Page 1, then a batch of pages 2–100 that was cut; they went alone.
      expect(f.batches[0]).toBe(99);
      expect(f.asked.filter((p) => p >= 2 && p <= 100).length).toBe(99);
    } finally {
      await t.close();
      f.server.close();
    }
  });

  it.each([
    ['with batches turned off (--no-batch), even where batches are taken', true, false],
    ['from a server that does not announce batches (Pro)', false, true],
  ])('one request per page %s', async (_, announce, batch) => {
    const f = await fake(500, announce);
    const t = new Transport({ baseUrl: f.url, timeoutMs: 5000, connections: 4, batch });
    try {
      const got = await collect(paginate(t, '/api/users', {}, Row, { pageSize: 10, prefetch: 3 }));
      expect(got).toHaveLength(500);
      expect(f.batches).toEqual([]);
      expect(f.asked).toHaveLength(50);
    } finally {
      await t.close();
      f.server.close();
    }
  });
});
