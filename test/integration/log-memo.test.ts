import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inTransaction, openStore, type Store } from '../../src/server/store';

// A log read page after page (`audits view-conn --all`) is answered from its memo while the log is
// unchanged: the total counted once, each page starting after the record where the one before it
// ended. Every page must still be exactly what counting and OFFSET give at that moment, whatever
// was written in between (new records, updated ones, pruned ones, another connection's, a
// rolled-back transaction's).

/** FixedSql's statements (spied on below). */
interface Run {
  records(text: string, params?: readonly unknown[]): unknown[];
}

let dir: string;
let store: Store;
let other: SQLite.Database;
let clock = Date.UTC(2026, 0, 1);
let nextConn = 1;
const DEVICES = ['111222333', '222333444', '333444555'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rdadmin-log-memo-'));
  const file = join(dir, 'db.sqlite3');
  store = await openStore(file, () => new Date(clock));
  for (let i = 0; i < 30; i++) await connect(i % 3, i % 4 === 0);
  for (let i = 0; i < 12; i++) await consoleEntry(i);
  other = new SQLite(file);
  other.pragma('busy_timeout = 5000');
});
afterAll(async () => {
  other?.close();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

const db = () => store.database.sqlite;

async function connect(device: number, tick: boolean): Promise<void> {
  if (tick) clock += 1000; // otherwise a tie: ordered by id
  await store.auditLogs.connEvent({
    device_id: DEVICES[device % 3]!,
    device_uuid: '',
    conn_id: nextConn++,
    kind: 'new',
    ip: '192.0.2.1',
  });
}

async function consoleEntry(i: number): Promise<void> {
  if (i % 2) clock += 1000;
  await store.audit.console({
    typ: i % 3,
    iop: 1,
    operatorGuid: null,
    operator: i % 2 ? 'Admin' : 'ops-bot',
    ip: '',
    detail: `#${i}`,
  });
}

const Op = fc.oneof(
  fc.record({ k: fc.constant('connect' as const), d: fc.nat(2), tick: fc.boolean() }),
  // A connection learns its controller: peer_id changes what a `remote` filter matches.
  fc.record({ k: fc.constant('auth' as const), i: fc.nat(), peer: fc.constantFrom('922', '8', '5522') }),
  fc.record({ k: fc.constant('close' as const), i: fc.nat() }),
  fc.record({ k: fc.constant('note' as const), i: fc.nat() }),
  fc.record({ k: fc.constant('prune' as const), n: fc.nat(3) }),
  fc.record({ k: fc.constant('other-connection' as const), d: fc.nat(2), del: fc.boolean() }),
  fc.record({ k: fc.constant('rollback' as const), d: fc.nat(2) }),
  fc.record({ k: fc.constant('console' as const), i: fc.nat() }),
);
type Op = typeof Op extends fc.Arbitrary<infer T> ? T : never;

async function apply(op: Op): Promise<void> {
  const conns = db().prepare('SELECT guid, device_id, conn_id FROM audit_conn ORDER BY id').all() as {
    guid: string;
    device_id: string;
    conn_id: number;
  }[];
  const pick = (i: number) => conns[i % Math.max(conns.length, 1)];
  switch (op.k) {
    case 'connect':
      return connect(op.d, op.tick);
    case 'auth':
    case 'close': {
      const c = pick(op.i);
      if (!c) return;
      await store.auditLogs.connEvent({
        device_id: c.device_id,
        device_uuid: '',
        conn_id: c.conn_id,
        ...(op.k === 'auth'
          ? {
              kind: 'auth',
              peer_id: op.peer,
              peer_name: '',
              conn_type: 1,
              primary_auth: null,
              two_factor: null,
            }
          : { kind: 'close' }),
      });
      return;
    }
    case 'note': {
      const c = pick(op.i);
      if (c) await store.auditLogs.setNote(c.guid, `n${op.i}`);
      return;
    }
    case 'prune': {
      // The oldest records go, as retention prunes them.
      const times = db()
        .prepare('SELECT created_at FROM audit_conn ORDER BY created_at')
        .pluck()
        .all() as string[];
      if (times.length > 10) await store.auditLogs.prune(times[op.n]!);
      return;
    }
    case 'other-connection':
      if (op.del) other.prepare('DELETE FROM audit_conn WHERE id = (SELECT max(id) FROM audit_conn)').run();
      else
        other
          .prepare(
            'INSERT INTO audit_conn (guid, device_id, device_id_fold, conn_id, created_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(
            `other-${nextConn}`,
            DEVICES[op.d]!,
            DEVICES[op.d]!,
            nextConn++,
            new Date(clock).toISOString(),
          );
      return;
    case 'rollback':
      await inTransaction(store, async (tx) => {
        await tx.auditLogs.connEvent({
          device_id: DEVICES[op.d]!,
          device_uuid: '',
          conn_id: nextConn++,
          kind: 'new',
          ip: '',
        });
        throw new Error('rolled back');
      }).catch(() => undefined);
      return;
    case 'console':
      return consoleEntry(op.i);
  }
}

/** What a page must be: the matching records newest first (ties by id), at that moment. */
function reference(log: 'conn' | 'console', filter: string | undefined): number[] {
  const text =
    log === 'conn'
      ? `SELECT id FROM audit_conn WHERE ? IS NULL OR device_id_fold LIKE ? OR peer_id_fold LIKE ?
         ORDER BY created_at DESC, id DESC`
      : `SELECT id FROM audit_console WHERE ? IS NULL OR operator_fold LIKE ? ORDER BY created_at DESC, id DESC`;
  const params =
    log === 'conn' ? [filter ?? null, filter ?? null, filter ?? null] : [filter ?? null, filter ?? null];
  return db()
    .prepare(text)
    .pluck()
    .all(...params) as number[];
}

function list(log: 'conn' | 'console', filter: string | undefined, offset: number, limit: number) {
  return log === 'conn'
    ? store.auditLogs.listConn({ remote: filter }, offset, limit)
    : store.auditLogs.listConsole({ operator: filter }, offset, limit);
}

const hits = () => store.auditLogs.memos!.audit_conn.hits + store.auditLogs.memos!.audit_console.hits;

describe('log memos: totals and page starts of audit log listings', () => {
  it('a page after one already served starts after its last record, and the log is not counted again', async () => {
    const want = reference('conn', undefined);
    await list('conn', undefined, 0, 4);
    // Counts go through Kysely; the page is read through the store's fixed SQL.
    const counts = vi.spyOn(store.database.db.getExecutor(), 'executeQuery');
    const pages = vi.spyOn((store.database.fixed as unknown as { on: Run }).on, 'records');
    try {
      const page2 = await list('conn', undefined, 4, 4);
      expect(page2.rows.map((r) => r.id)).toEqual(want.slice(4, 8));
      expect(page2.total).toBe(want.length);
      // One query, the page: no count, and no OFFSET (the page resumes after page 1's last record).
      expect(counts.mock.calls).toHaveLength(0);
      expect(pages.mock.calls).toHaveLength(1);
      const [text, params] = pages.mock.calls[0]!;
      expect(text).toContain('"audit_conn"."created_at" <= ?');
      expect(params!.slice(-2)).toEqual([4, 0]);
    } finally {
      counts.mockRestore();
      pages.mockRestore();
    }
  });

  it('every page equals counting and OFFSET at that moment, across writes of every kind', async () => {
    const before = hits();
    const Step = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          k: fc.constant('page' as const),
          log: fc.constantFrom('conn' as const, 'console' as const),
          filter: fc.constantFrom(undefined, '%22%', '%5%', '%adm%'),
          size: fc.integer({ min: 1, max: 7 }),
          jump: fc.nat({ max: 9 }),
        }),
      },
      { weight: 1, arbitrary: Op },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(Step, { minLength: 5, maxLength: 40 }), async (steps) => {
        const next = new Map<string, number>();
        for (const step of steps) {
          if (step.k !== 'page') {
            await apply(step);
            continue;
          }
          const key = JSON.stringify([step.log, step.filter, step.size]);
          // Mostly the next page of this listing (as `--all` asks), sometimes another one.
          const current = step.jump === 0 ? 1 + (step.size % 3) : (next.get(key) ?? 1);
          const got = await list(step.log, step.filter, (current - 1) * step.size, step.size);
          const want = reference(step.log, step.filter);
          expect(got.total).toBe(want.length);
          expect(got.rows.map((r) => r.id)).toEqual(
            want.slice((current - 1) * step.size, current * step.size),
          );
          next.set(key, current * step.size >= want.length ? 1 : current + 1);
        }
      }),
      { numRuns: 200 },
    );
    // The memos answered many of those pages (else this test would not be testing them).
    expect(hits() - before).toBeGreaterThan(150);
  });

  it('keeps nothing for a user’s own log (it depends on which devices they own) or in a transaction', async () => {
    const before = hits();
    const own = { own: { userGuid: 'nobody', nameFold: 'nobody' } };
    await store.auditLogs.listConn(own, 0, 2);
    await store.auditLogs.listConn(own, 2, 2);
    await inTransaction(store, async (tx) => {
      await tx.auditLogs.listConn({}, 0, 2);
      await tx.auditLogs.listConn({}, 2, 2);
    });
    expect(hits()).toBe(before);
  });
});
