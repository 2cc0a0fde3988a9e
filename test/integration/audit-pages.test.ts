import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/server/store';
import { fold } from '../../src/server/store/like';

// The audit lists pick each page's ids from the filtered table first (newest first over the
// created_at index), then read and join those rows, and count without the device join. Every page
// and total must be what the records and the filters give: newest first, ties by id, nothing lost
// or repeated across pages, the device's name joined.

let dir: string;
let store: Store;
let clock = Date.UTC(2026, 0, 1);

interface Conn {
  device: string;
  peer: string;
  type: number;
  at: string;
}
interface Entry {
  operator: string;
  typ: number;
  at: string;
}
const conns: Conn[] = [];
const entries: Entry[] = [];
const DEVICES = ['111111111', '222222222', '333333333'];
const OWNER = { name: 'owner', guid: '' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rdadmin-audit-pages-'));
  store = await openStore(join(dir, 'db.sqlite3'), () => new Date(clock));
  await store.users.createGroup('Staff');
  const g = await store.users.getGroupByName('Staff');
  OWNER.guid = await store.users.create({
    name: OWNER.name,
    password_hash: null,
    group_guid: g!.guid,
    status: 1,
  });
  const named = await store.devices.create(DEVICES[0]!, { device_name: 'Front desk' });
  await store.devices.update([named], { user_guid: OWNER.guid });
  // 90 connections and 60 console entries; the clock often stands still (ties are ordered by id).
  const rand = fc.sample(fc.tuple(fc.nat(2), fc.nat(2), fc.nat(3), fc.boolean()), { numRuns: 90, seed: 7 });
  for (const [i, [d, p, type, tick]] of rand.entries()) {
    if (tick) clock += 1000;
    const c = { device: DEVICES[d]!, peer: `9${p}8${p}7${p}`, type, at: new Date(clock).toISOString() };
    await store.auditLogs.connEvent({
      device_id: c.device,
      device_uuid: '',
      conn_id: i + 1,
      kind: 'auth',
      peer_id: c.peer,
      peer_name: '',
      conn_type: c.type,
      primary_auth: null,
      two_factor: null,
    });
    conns.push(c);
  }
  for (let i = 0; i < 60; i++) {
    if (i % 3 === 0) clock += 1000;
    const e = { operator: i % 2 ? 'Admin' : 'ops-bot', typ: i % 4, at: new Date(clock).toISOString() };
    await store.audit.console({
      typ: e.typ,
      iop: 1,
      operatorGuid: null,
      operator: e.operator,
      ip: '',
      detail: `#${i}`,
    });
    entries.push(e);
  }
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** All pages of `list`, in order, and the totals each page gave. */
async function pages<R>(
  list: (offset: number, limit: number) => Promise<{ rows: R[]; total: number }>,
  size: number,
): Promise<{ rows: R[]; totals: number[] }> {
  const rows: R[] = [];
  const totals: number[] = [];
  for (let offset = 0; offset < 1000; offset += size) {
    const page = await list(offset, size);
    totals.push(page.total);
    rows.push(...page.rows);
    if (page.rows.length < size) break;
  }
  return { rows, totals };
}

/** Newest first, ties by insertion order (the id), newest id first. */
const newestFirst = <T extends { at: string }>(all: T[]) =>
  all
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (a.r.at === b.r.at ? b.i - a.i : a.r.at < b.r.at ? 1 : -1))
    .map((x) => x.i);

describe('audit list pages', () => {
  it('connections: every page and total as the records and filters give, device names joined', async () => {
    const times = [...new Set(conns.map((c) => c.at))].sort();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 13 }),
        fc.option(fc.constantFrom('%222%', '%8_7%', '9080%', '%zz%', '111111111'), { nil: undefined }),
        fc.option(fc.nat(3), { nil: undefined }),
        fc.option(fc.constantFrom(...times), { nil: undefined }),
        fc.boolean(),
        async (size, remote, type, from, own) => {
          const like = (p: string, t: string) =>
            new RegExp(`^${p.replace(/[%_]/g, (m) => (m === '%' ? '.*' : '.'))}$`).test(fold(t));
          const want = newestFirst(conns).filter((i) => {
            const c = conns[i]!;
            return (
              (remote === undefined || like(remote, c.device) || like(remote, c.peer)) &&
              (type === undefined || c.type === type) &&
              (from === undefined || c.at >= from) &&
              (!own || c.device === DEVICES[0])
            );
          });
          const filter = {
            remote,
            conn_type: type,
            from,
            own: own ? { userGuid: OWNER.guid, nameFold: OWNER.name } : undefined,
          };
          const got = await pages((o, l) => store.auditLogs.listConn(filter, o, l), size);
          for (const t of got.totals) expect(t).toBe(want.length);
          expect(got.rows.map((r) => r.conn_id - 1)).toEqual(want);
          for (const r of got.rows)
            expect(r.device_name).toBe(r.device_id === DEVICES[0] ? 'Front desk' : null);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('console: every page and total as the records and filters give', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 11 }),
        fc.option(fc.constantFrom('%admin%', 'OPS-%', '%x%'), { nil: undefined }),
        fc.option(fc.nat(3), { nil: undefined }),
        async (size, operator, typ) => {
          const want = newestFirst(entries).filter((i) => {
            const e = entries[i]!;
            const op = operator === undefined ? undefined : fold(operator.replace(/%/g, ''));
            return (
              (op === undefined ||
                (operator!.startsWith('%')
                  ? fold(e.operator).includes(op)
                  : fold(e.operator).startsWith(op))) &&
              (typ === undefined || e.typ === typ)
            );
          });
          const got = await pages((o, l) => store.auditLogs.listConsole({ operator, typ }, o, l), size);
          for (const t of got.totals) expect(t).toBe(want.length);
          expect(got.rows.map((r) => Number(r.detail.slice(1)))).toEqual(want);
        },
      ),
      { numRuns: 60 },
    );
  });
});
