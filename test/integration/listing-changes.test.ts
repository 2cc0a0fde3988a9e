import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// A listing is read page by page (`current`, `pageSize`: all Pro's API offers). When rows that sort
// first leave it while it is read (deleted, or moved out of the filter by another admin), the rows
// after them move back onto pages already read; read on by offset, they were never seen, and a bulk
// verb silently left them alone. Every record that matched throughout must be listed or acted on,
// and the command must say that the listing changed underneath it.
//
// The changes are made deterministically between two pages: a proxy in front of a real server
// makes them (through the store) once it has the answer holding a given page of the listing, before
// the client gets that answer. Against rdadmin serve the pages after the first come in batches of
// ~2,000 rows, so the listings here are longer than that.

const N = 2600;
const PAGE = 50;

/** A listing's page asked for through the proxy: alone (a GET) or inside a batch. */
interface Asked {
  path: string;
  current: number;
}

interface Proxy {
  url: string;
  server: Server;
  /** Every page of a listing asked for, in order. */
  asked: Asked[];
  /** Run after the upstream answer holding page `current` of `path` is in, before it is passed on. */
  hook?: (pages: Asked[]) => Promise<void>;
}

function pagesIn(method: string, url: string, body: string): Asked[] {
  const page = (path: string): Asked[] => {
    const u = new URL(path, 'http://x');
    const current = u.searchParams.get('current');
    return current === null ? [] : [{ path: u.pathname, current: Number(current) }];
  };
  if (method === 'GET') return page(url);
  if (method === 'POST' && url.startsWith('/api/rdadmin/batch')) {
    const { requests } = JSON.parse(body) as { requests: { method: string; path: string }[] };
    return requests.filter((r) => r.method === 'GET').flatMap((r) => page(r.path));
  }
  return [];
}

async function startProxy(target: string): Promise<Proxy> {
  const up = new URL(target);
  const p: Proxy = { url: '', server: undefined as unknown as Server, asked: [] };
  // The pages of listings one at a time, so that a change made after an answer comes before any
  // later page is read (the client asks for pages ahead concurrently). Other requests go at once.
  let turn = Promise.resolve();
  p.server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const pages = pagesIn(req.method!, req.url!, body.toString());
    if (!pages.length) return pass(req, res, body, pages);
    const mine = turn;
    let done!: () => void;
    turn = new Promise((r) => (done = r));
    await mine;
    try {
      await pass(req, res, body, pages);
    } finally {
      done();
    }
  });
  const pass = async (req: IncomingMessage, res: ServerResponse, body: Buffer, pages: Asked[]) => {
    p.asked.push(...pages);
    const answer = await new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
      (resolve, reject) => {
        const r = request(
          { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
          async (resp) => {
            const got: Buffer[] = [];
            for await (const c of resp) got.push(c as Buffer);
            resolve({ status: resp.statusCode!, headers: resp.headers, body: Buffer.concat(got) });
          },
        );
        r.on('error', reject);
        r.end(body);
      },
    );
    if (pages.length && p.hook) await p.hook(pages);
    const { 'transfer-encoding': _, 'content-length': __, ...headers } = answer.headers;
    res.writeHead(answer.status, { ...headers, 'content-length': answer.body.length } as never);
    res.end(answer.body);
  };
  await new Promise<void>((r) => p.server.listen(0, '127.0.0.1', r));
  p.url = `http://127.0.0.1:${(p.server.address() as AddressInfo).port}`;
  return p;
}

/** Runs `change` once, when an answer holding page `at` or later of `path` is about to be passed on. */
function once(path: string, at: number, change: () => Promise<void>): (pages: Asked[]) => Promise<void> {
  let done = false;
  return async (pages) => {
    if (done || !pages.some((q) => q.path === path && q.current >= at)) return;
    done = true;
    await change();
  };
}

let s: TestServer;
let proxy: Proxy;
let env: Record<string, string>;

beforeAll(async () => {
  s = await startTestServer();
  proxy = await startProxy(s.url);
});
afterAll(async () => {
  proxy.server.close();
  await s.close();
});
beforeEach(() => {
  proxy.asked = [];
  proxy.hook = undefined;
  env = { RDADMIN_URL: proxy.url, RDADMIN_TOKEN: s.token, RDADMIN_PAGE_SIZE: String(PAGE) };
});

describe('devices disable over a device group that devices leave meanwhile', () => {
  let kg: string;
  let other: string;
  const ids = Array.from({ length: N }, (_, i) => `8${String(i).padStart(8, '0')}`);
  const guids: string[] = [];

  beforeAll(async () => {
    kg = await s.store.devices.createGroup('KG');
    other = await s.store.devices.createGroup('Elsewhere');
    for (const id of ids) guids.push(await s.store.devices.create(id, { device_group_guid: kg, status: 1 }));
  });
  afterEach(async () => {
    await s.store.devices.update(guids, { device_group_guid: kg, status: 1 });
  });

  async function statusOf(guid: string): Promise<number | undefined> {
    const d = s.store.database.sqlite.prepare('SELECT status FROM devices WHERE guid = ?').get(guid) as {
      status: number;
    };
    return d?.status;
  }

  // In batches, pages 2–41 come in the answer after which the change is made: the 300 movers were
  // all read (and are disabled: they matched when listed), and the 300 devices after row 2,050
  // move back onto pages already read. One request per page: pages 3 on are read after the change,
  // so movers 100–299 are never listed (they left first), and the 100 devices that stayed from row
  // 300 on move back onto pages 1–2. (That one is a dry run: its targets are those the run would
  // disable, without 2,400 requests one by one.)
  it.each([
    ['in batches (rdadmin serve)', [], 300, `Disabled ${N} devices.`],
    [
      'one request per page (as against Pro)',
      ['--no-batch', '--dry-run', '--json'],
      100,
      `Dry run: would disable ${N - 200} devices; nothing was changed.`,
    ],
  ])(
    'every device that stayed in the group is disabled, %s, and stderr says the listing changed',
    async (_, extra, again, summary) => {
      // Another admin moves the first 300 devices of KG (they sort first) to another group once
      // page 2 has been answered: the rest move back by 300 rows.
      const movers = guids.slice(0, 300);
      proxy.hook = once('/api/devices', 2, async () => {
        await s.store.devices.update(movers, { device_group_guid: other });
      });
      const r = await cli(['devices', 'disable', '--device_group_name', 'KG', '--yes', ...extra], { env });
      expect(r.code, r.stderr).toBe(0);
      const stayed = guids.slice(300);
      const left: string[] = [];
      if (extra.includes('--dry-run')) {
        const targets = new Set((JSON.parse(r.stdout) as { guid: string }[]).map((d) => d.guid));
        for (const g of stayed) if (!targets.has(g)) left.push(g);
      } else {
        for (const g of stayed) if ((await statusOf(g)) !== 0) left.push(g);
      }
      expect(left).toEqual([]);
      // Read again from page 1 once, which then held still.
      expect(r.stderr).toBe(
        `warning: the devices listing changed while it was read (rows were removed or added meanwhile), so it was read again from the first page: ${again} rows came from the reading again, after the others\n${summary}\n`,
      );
      // One whole reading, then one more of the 2,300 left in the group.
      const pages = proxy.asked.filter((q) => q.path === '/api/devices').map((q) => q.current);
      expect(pages.filter((c) => c === 1)).toHaveLength(2);
      expect(pages.slice(pages.lastIndexOf(1)).sort((x, y) => x - y)).toEqual(
        Array.from({ length: (N - 300) / PAGE }, (_, i) => i + 1),
      );
    },
    60_000, // 2,600 disables, in batches
  );

  it('a listing that holds still is read once, without a warning', async () => {
    const r = await cli(['devices', 'view', '--device_group_name', 'KG', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { guid: string }[]).map((d) => d.guid)).toEqual(guids);
    expect(r.stderr).toBe('');
    const pages = proxy.asked.filter((q) => q.path === '/api/devices').map((q) => q.current);
    expect(pages.sort((a, b) => a - b)).toEqual(Array.from({ length: N / PAGE }, (_, i) => i + 1));
  });

  it('moves that leave the total as it was are caught by the row that came twice', async () => {
    // One request per page (as against Pro), so that pages are answered one after another. After
    // page 2: a device that sorts before the read position joins KG and the last one leaves (the
    // rows move forward by one: one comes twice). After page 30: the second device leaves KG and
    // one that sorts last joins (they move back by one: one is skipped). `total` never changes.
    const early = await s.store.devices.create('800000000a', { device_group_guid: other, status: 1 });
    const late = await s.store.devices.create('899999999', { device_group_guid: other, status: 1 });
    try {
      const first = once('/api/devices', 2, async () => {
        await s.store.devices.update([early], { device_group_guid: kg });
        await s.store.devices.update([guids[N - 1]!], { device_group_guid: other });
      });
      const second = once('/api/devices', 30, async () => {
        await s.store.devices.update([guids[1]!], { device_group_guid: other });
        await s.store.devices.update([late], { device_group_guid: kg });
      });
      proxy.hook = async (pages) => {
        await first(pages);
        await second(pages);
      };
      const r = await cli(['devices', 'view', '--device_group_name', 'KG', '--json', '--no-batch'], { env });
      expect(r.code, r.stderr).toBe(0);
      const got = (JSON.parse(r.stdout) as { guid: string }[]).map((d) => d.guid);
      expect(new Set(got).size).toBe(got.length);
      const kept = guids.slice(2, N - 1);
      expect(kept.filter((g) => !got.includes(g))).toEqual([]);
      expect(r.stderr).toMatch(
        /^warning: the devices listing changed while it was read \(rows were removed or added meanwhile\), so it was read again from the first page: \d+ rows? came from the reading again, after the others\n$/,
      );
    } finally {
      await s.store.devices.delete(early);
      await s.store.devices.delete(late);
    }
  });

  it('a listing that keeps changing is read at most 4 times, then says rows may be missing', async () => {
    // Each reading: once an answer holding page 2 or later is in, 20 more devices leave KG.
    let moved = 0;
    let lastFirst = -1;
    proxy.hook = async (pages) => {
      const firsts = proxy.asked.filter((q) => q.path === '/api/devices' && q.current === 1).length;
      if (firsts === lastFirst || !pages.some((q) => q.path === '/api/devices' && q.current >= 2)) return;
      lastFirst = firsts;
      await s.store.devices.update(guids.slice(moved, moved + 20), { device_group_guid: other });
      moved += 20;
    };
    const r = await cli(['devices', 'view', '--device_group_name', 'KG', '--json'], { env });
    // The output is whole JSON, but a script must not take it for complete: exit 1.
    expect(r.code, r.stderr).toBe(1);
    const got = (JSON.parse(r.stdout) as { guid: string }[]).map((d) => d.guid);
    expect(new Set(got).size).toBe(got.length);
    expect(proxy.asked.filter((q) => q.path === '/api/devices' && q.current === 1)).toHaveLength(4);
    expect(r.stderr).toMatch(
      /^warning: the devices listing kept changing while it was read \(rows were removed or added meanwhile; read 4 times from the first page\), so rows may be missing: \d+ rows came from the readings again, after the others; run the command again once the changes are done\nerror: the devices listing changed while it was read and could not be read whole, so rows may be missing from what was shown or done above\nhint: run the same command again once the changes are done \(it selects its rows afresh\)\n$/,
    );
  });
});

describe('users view --json while other users are deleted', () => {
  // admin sorts first, then the group's users: users 0–249 of the group are deleted once page 2 is
  // answered. In batches pages 2–41 were read before: 250 users after row 2,050 move back past the
  // reader. One request per page: rows 100–349 move back onto pages 1–2; 150 of them were deleted,
  // 100 stay.
  it.each([
    ['in batches (rdadmin serve)', [], 250],
    ['one request per page (as against Pro)', ['--no-batch'], 100],
  ])('every user not deleted is listed once, %s', async (_, extra, again) => {
    const group = `lc-${extra.length}`;
    const names = Array.from({ length: N }, (_, i) => `${group}-${String(i).padStart(5, '0')}`);
    await s.seedUsers(names, { group });
    const victims: string[] = [];
    for (const n of names.slice(0, 250)) victims.push((await s.store.users.getByName(n))!.guid);
    proxy.hook = once('/api/users', 2, async () => {
      for (const g of victims) await s.store.users.delete(g);
    });
    const r = await cli(['users', 'view', '--group_name', group, '--json', ...extra], { env });
    expect(r.code, r.stderr).toBe(0);
    const got = (JSON.parse(r.stdout) as { name: string }[]).map((u) => u.name);
    expect(new Set(got).size).toBe(got.length);
    const listed = new Set(got);
    expect(names.slice(250).filter((n) => !listed.has(n))).toEqual([]);
    expect(r.stderr).toBe(
      `warning: the users listing changed while it was read (rows were removed or added meanwhile), so it was read again from the first page: ${again} rows came from the reading again, after the others\n`,
    );
  });
});
