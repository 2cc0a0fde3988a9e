import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/server/store';
import { fold } from '../../src/server/store/like';

// The ID filters of the audit logs (`remote` on connections and file transfers, `device` on
// alarms) find the IDs they match in audit_ids (migration 0013) and then those IDs' records through
// indexes, when that is cheaper than testing every record. Whichever way a page is found, every
// page and total must be exactly what testing each record with the LIKE gives: that reference is
// computed here by SQLite itself, on a second connection, with the plain LIKE over the records.

let dir: string;
let file: string;
let store: Store;
let ref: Database.Database;
let clock = Date.UTC(2026, 0, 1);

const DIGITS = Array.from({ length: 60 }, (_, i) => String(100_000_000 + i * 7_654_321));
const ODD = ['ab%cd', 'x_y12', 'back\\slash', 'ÄBC123', 'CamelCase7', '12_34', '  spaced  '];
const DEVICES = [...DIGITS, ...ODD];
const PEERS = [...DIGITS.slice(0, 6), 'p100', 'p200', 'P300', 'peer_x', 'ÖSTER1', '%pct'];
// Console operators: a few, one far more often than the rest, one rarely.
const OPS = ['admin', 'Admin2', 'ci-bot', 'Mike', 'ÄLFRED', 'ops_x', '50%off', '', 'rare-op'];
let nextId = 900_000_000;
let conn = 0;

const pick = <T>(xs: readonly T[], n: number) => xs[n % xs.length]!;

/** One connection's events: opened, usually authorised (the controller's ID), sometimes closed. */
async function connection(device: string, peer: string | undefined, type: number, close: boolean) {
  const conn_id = ++conn;
  const poster = { device_id: device, device_uuid: '', conn_id };
  await store.auditLogs.connEvent({ ...poster, kind: 'new', ip: '10.0.0.1' });
  if (peer !== undefined)
    await store.auditLogs.connEvent({
      ...poster,
      kind: 'auth',
      peer_id: peer,
      peer_name: '',
      conn_type: type,
      primary_auth: null,
      two_factor: null,
    });
  if (close) await store.auditLogs.connEvent({ ...poster, kind: 'close' });
}

async function fileEvent(device: string, peer: string) {
  await store.auditLogs.fileEvent({
    device_id: device,
    device_uuid: '',
    peer_id: peer,
    peer_name: '',
    conn_id: null,
    type: 0,
    path: '/tmp/x',
    is_file: true,
    num: null,
    ip: '',
    info: '{}',
  });
}

async function consoleEntry(operator: string, typ: number) {
  await store.audit.console({ typ, iop: 1, operatorGuid: null, operator, ip: '', detail: 'x' });
}

async function alarm(device: string, typ: number) {
  await store.auditLogs.alarmEvent({
    device_id: device,
    device_uuid: '',
    typ,
    ip: '',
    info: '{}',
    conn_id: null,
    conn_audit_ref: null,
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rdadmin-audit-ids-'));
  file = join(dir, 'db.sqlite3');
  store = await openStore(file, () => new Date(clock));
  const named = await store.devices.create(DIGITS[0]!, { device_name: 'Front desk' });
  expect(named).toBeTruthy();
  const plan = fc.sample(fc.tuple(fc.nat(1000), fc.nat(1000), fc.nat(3), fc.nat(9)), {
    numRuns: 2400,
    seed: 11,
  });
  for (const [i, [d, p, type, roll]] of plan.entries()) {
    if (roll < 4) clock += 1000;
    // Devices are logged unevenly (the first ones far more often), as in a real fleet.
    const device = pick(DEVICES, roll < 6 ? d % 8 : d);
    if (i % 3 === 0)
      await consoleEntry(d % 97 === 0 ? 'rare-op' : roll < 6 ? 'admin' : pick(OPS, p % 8), type);
    if (i % 6 === 5) await fileEvent(device, pick(PEERS, p));
    else if (i % 6 === 4) await alarm(roll === 0 ? '' : device, type);
    else await connection(device, roll === 9 ? undefined : pick(PEERS, p), type, roll % 2 === 0);
  }
  ref = new Database(file, { readonly: true });
});
afterAll(async () => {
  ref?.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

type Kind = 'conn' | 'file' | 'alarm' | 'console';
const COLUMNS: Record<Kind, string[]> = {
  conn: ['device_id_fold', 'peer_id_fold'],
  file: ['device_id_fold', 'peer_id_fold'],
  alarm: ['device_id_fold'],
  console: ['operator_fold'],
};

/** The ids of the records the filter matches, newest first, by testing every record. */
function expected(kind: Kind, value: string, type?: number, from?: string): number[] {
  // An empty value is no filter.
  const where = ['1'];
  if (value !== '')
    where.push(
      `(${COLUMNS[kind]
        .map((c) => (value === '-' ? `(${c} IS NULL OR ${c} = '')` : `${c} LIKE @p ESCAPE '\\'`))
        .join(' OR ')})`,
    );
  if (type !== undefined) where.push(kind === 'conn' ? 'conn_type = @type' : 'typ = @type');
  if (from !== undefined) where.push('created_at >= @from');
  const params: Record<string, string | number> = {};
  if (value !== '' && value !== '-') params['p'] = fold(value);
  if (type !== undefined) params['type'] = type;
  if (from !== undefined) params['from'] = from;
  return ref
    .prepare(`SELECT id FROM audit_${kind} WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC`)
    .pluck()
    .all(params) as number[];
}

function list(kind: Kind, value: string, offset: number, limit: number, type?: number, from?: string) {
  const logs = store.auditLogs;
  if (kind === 'conn') return logs.listConn({ remote: value, conn_type: type, from }, offset, limit);
  if (kind === 'file') return logs.listFile({ remote: value, from }, offset, limit);
  if (kind === 'console') return logs.listConsole({ operator: value, typ: type, from }, offset, limit);
  return logs.listAlarm({ device: value, typ: type, from }, offset, limit);
}

const ANY_ID = [...DEVICES, ...PEERS];
/** Filters as people type them: whole IDs, pieces of IDs (short and long), patterns, odd ones. */
const filter = fc.oneof(
  fc.constantFrom(...ANY_ID),
  fc
    .tuple(fc.constantFrom(...ANY_ID), fc.nat(12), fc.integer({ min: 1, max: 6 }))
    .map(([id, start, len]) => `%${[...id].slice(start % id.length, (start % id.length) + len).join('')}%`),
  fc.tuple(fc.constantFrom(...DIGITS), fc.nat(8)).map(([id, at]) => `${id.slice(0, at)}_${id.slice(at + 1)}`),
  fc.constantFrom(...ANY_ID).map((id) => `${id.slice(0, 4)}%`),
  fc.constantFrom(
    '-',
    '%',
    '%zz%',
    'ab\\%cd',
    '%\\_%',
    '%x\\_y%',
    '%ä%',
    '%1%',
    '%12%',
    'back\\\\slash',
    '%\\',
    // A NUL ends the pattern for SQLite's LIKE (and must for the trigram query too).
    `${DIGITS[3]!.slice(0, 4)}\0zz%`,
    `%${DIGITS[5]!.slice(2, 6)}\0`,
  ),
  fc.string({ maxLength: 4 }),
  fc.constantFrom(...OPS),
  fc
    .tuple(fc.constantFrom(...OPS), fc.nat(8), fc.integer({ min: 1, max: 4 }))
    .map(
      ([op, start, len]) =>
        `%${[...op].slice(start % (op.length || 1), (start % (op.length || 1)) + len).join('')}%`,
    ),
  fc.constantFrom('%admin%', 'ADMIN', '%\\%off', '50\\%%', '%bot', 'ops\\_%'),
);

describe('audit log ID filters', () => {
  it('every page and total is what testing each record with the LIKE gives', async () => {
    const times = ref
      .prepare('SELECT DISTINCT created_at FROM audit_conn ORDER BY 1')
      .pluck()
      .all() as string[];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Kind>('conn', 'file', 'alarm', 'console'),
        filter,
        fc.integer({ min: 1, max: 40 }),
        fc.nat(400),
        fc.option(fc.nat(3), { nil: undefined }),
        fc.option(fc.constantFrom(...times), { nil: undefined }),
        fc.nat(5),
        async (kind, typed, size, at, type, from, write) => {
          let value = typed;
          // Now and then a new record first, with an ID never logged before (the triggers must
          // add it), or a connection that learns a new controller.
          // Half of those times the filter is that new ID.
          if (write === 0) await connection(String(++nextId), pick(PEERS, at), 1, false);
          if (write === 1) await connection(pick(DEVICES, at), `p${++nextId}`, 1, true);
          if (write === 2) await alarm(String(++nextId), 2);
          if (write === 3) await consoleEntry(`Op${++nextId}`, 1);
          if (write <= 3 && at % 2 === 0)
            value = write === 1 ? `p${nextId}` : write === 3 ? `op${nextId}` : String(nextId);
          const want = expected(kind, value, kind === 'file' ? undefined : type, from);
          const offset = want.length ? at % (want.length + 5) : at % 3;
          const got = await list(kind, value, offset, size, kind === 'file' ? undefined : type, from);
          expect(got.total).toBe(want.length);
          expect(got.rows.map((r) => r.id)).toEqual(want.slice(offset, offset + size));
          if (kind === 'conn' || kind === 'file')
            for (const r of got.rows as { device_id: string; device_name: string | null }[])
              expect(r.device_name).toBe(r.device_id === DIGITS[0] ? 'Front desk' : null);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('a filter naming one device reads that device’s records through the ID indexes, not every record', async () => {
    const id = DIGITS[20]!;
    const few = [id, `%${id.slice(1)}%`];
    // (The premise: a rarely logged device, and a piece of its ID no other ID holds.)
    for (const value of few) expect(expected('conn', value).length).toBeLessThan(20);
    for (const value of [...few, '-']) {
      const p = await store.auditLogs.plan((e) => store.auditLogs.listConn({ remote: value }, 0, 10, e));
      const count = p.count.join(' | ');
      expect(count).toContain('INDEX audit_conn_device_id');
      expect(count).toContain('INDEX audit_conn_peer_id');
      expect(count).not.toMatch(/SCAN audit_conn\b/);
      if (value === '-') continue;
      expect(count).toContain('audit_ids');
      // Gathered through the indexes and sorted, not found by walking the log.
      expect(p.page.join(' | ')).not.toMatch(/SCAN audit_conn\b/);
    }
    const a = await store.auditLogs.plan((e) => store.auditLogs.listAlarm({ device: id }, 0, 10, e));
    expect(a.count.join(' | ')).toContain('INDEX audit_alarm_device_id');
    expect(a.count.join(' | ')).not.toMatch(/SCAN audit_alarm\b/);
    const f = await store.auditLogs.plan((e) => store.auditLogs.listFile({ remote: id }, 0, 10, e));
    expect(f.count.join(' | ')).toContain('INDEX audit_file_peer_id');
  });

  it('an operator filter naming a rare operator reads that operator’s entries through the index', async () => {
    expect(expected('console', '%rare%').length).toBeLessThan(40); // of about 1,000 entries
    const p = await store.auditLogs.plan((e) =>
      store.auditLogs.listConsole({ operator: '%rare%' }, 0, 10, e),
    );
    expect(p.count.join(' | ')).toContain('INDEX audit_console_operator_fold');
    expect(p.count.join(' | ')).toContain('audit_operators');
    expect(p.count.join(' | ')).not.toMatch(/SCAN audit_console\b/);
    expect(p.page.join(' | ')).not.toMatch(/SCAN audit_console\b/);
    const none = await store.auditLogs.plan((e) =>
      store.auditLogs.listConsole({ operator: '%nobody%' }, 0, 10, e),
    );
    expect(none).toEqual({ count: [], page: [] });
  });

  it('a filter matching most IDs tests each record instead; one matching none reads no record', async () => {
    // '%' matches every ID logged, and there are more than a twentieth as many IDs as records.
    const broad = await store.auditLogs.plan((e) => store.auditLogs.listConn({ remote: '%' }, 0, 10, e));
    expect(broad.count.join(' | ')).not.toContain('audit_ids');
    expect(broad.page.join(' | ')).toContain('audit_conn_created');
    const none = await store.auditLogs.plan((e) => store.auditLogs.listConn({ remote: '%qqq%' }, 0, 10, e));
    expect(none).toEqual({ count: [], page: [] });
    expect(await store.auditLogs.listConn({ remote: '%qqq%' }, 0, 10)).toEqual({ rows: [], total: 0 });
  });

  /**
   * A database written by `write`, taken back to before `migration` by `undo`, then opened (the
   * migration runs again); `check` reads it.
   */
  async function afterMigration(
    migration: string,
    write: (s: Store) => Promise<void>,
    undo: (raw: Database.Database) => void,
    check: (s: Store) => Promise<void>,
  ) {
    const dir2 = await mkdtemp(join(tmpdir(), 'rdadmin-audit-migration-'));
    try {
      const file2 = join(dir2, 'db.sqlite3');
      let s = await openStore(file2, () => new Date(clock));
      await write(s);
      await s.close();
      const raw = new Database(file2);
      undo(raw);
      raw.prepare('DELETE FROM kysely_migration WHERE name = ?').run(migration);
      raw.close();
      s = await openStore(file2, () => new Date(clock));
      try {
        await check(s);
      } finally {
        await s.close();
      }
    } finally {
      await rm(dir2, { recursive: true, force: true });
    }
  }

  it('operators logged before migration 0014 are found (the migration fills audit_operators)', async () => {
    await afterMigration(
      '0014_audit_operators',
      (s) =>
        s.audit.console({ typ: 1, iop: 1, operatorGuid: null, operator: 'Backfill-Op', ip: '', detail: 'x' }),
      // Before 0014: no audit_operators, nor its triggers.
      (raw) =>
        raw.exec(`DROP TRIGGER audit_console_operators_insert; DROP TRIGGER audit_console_operators_update;
          DROP TABLE audit_operators`),
      async (s) => {
        expect((await s.auditLogs.listConsole({ operator: '%fill-op%' }, 0, 10)).total).toBe(1);
        expect((await s.auditLogs.listConsole({ operator: 'backfill-op' }, 0, 10)).total).toBe(1);
        expect((await s.auditLogs.listConsole({ operator: '%other%' }, 0, 10)).total).toBe(0);
      },
    );
  });

  it('IDs logged before migration 0013 are found (the migration fills audit_ids from the logs)', async () => {
    await afterMigration(
      '0013_audit_ids',
      async (s) => {
        const saved = store;
        store = s;
        try {
          await connection('555000111', 'p555', 1, true);
          await fileEvent('555000222', '555000111');
          await alarm('555000333', 1);
        } finally {
          store = saved;
        }
      },
      // Before 0013: no audit_ids, nor its triggers and indexes.
      (raw) => {
        const names = raw
          .prepare(
            "SELECT type, name FROM sqlite_master WHERE (name LIKE 'audit_ids%' OR name LIKE 'audit_%_ids_%' OR name LIKE 'audit_%_device_id' OR name LIKE 'audit_%_peer_id') AND type IN ('table', 'trigger', 'index')",
          )
          .all() as { type: string; name: string }[];
        expect(names.length).toBeGreaterThanOrEqual(10);
        for (const n of names.filter((x) => x.type !== 'table'))
          raw.exec(`DROP ${n.type} IF EXISTS "${n.name}"`);
        raw.exec('DROP TABLE audit_ids_fts; DROP TABLE audit_ids');
      },
      async (s) => {
        expect((await s.auditLogs.listConn({ remote: '555000111' }, 0, 10)).total).toBe(1);
        expect((await s.auditLogs.listFile({ remote: '555000111' }, 0, 10)).total).toBe(1);
        expect((await s.auditLogs.listConn({ remote: '%p55%' }, 0, 10)).total).toBe(1);
        expect((await s.auditLogs.listFile({ remote: '%000222' }, 0, 10)).total).toBe(1);
        expect((await s.auditLogs.listAlarm({ device: '555000333' }, 0, 10)).total).toBe(1);
        expect((await s.auditLogs.listAlarm({ device: '555000111' }, 0, 10)).total).toBe(0);
      },
    );
  });
});

describe('audit log ID filters with long literal runs', () => {
  it('match exactly what the LIKE gives (the trigram index takes a few trigrams of a long run)', async () => {
    const x = (n: number) => 'x'.repeat(n);
    const LONG = [x(100), `${x(60)}y${x(39)}`, `${x(99)}1`, 'yx'.repeat(50), 'x_'.repeat(50), `1${x(99)}`];
    for (const [i, id] of LONG.entries()) {
      await connection(id, LONG[(i + 1) % LONG.length], 1, true);
      await alarm(id, 1);
    }
    ref.close();
    ref = new Database(file, { readonly: true });
    const run = fc.string({
      unit: fc.constantFrom('x', 'x', 'x', 'x', 'y', '1', '_', '%', '\\'),
      minLength: 9,
      maxLength: 100,
    });
    const fixed = fc.constantFrom(
      `%${x(90)}`,
      `${x(95)}%`,
      `%${x(40)}y%`,
      `%${x(40)}y${x(39)}`,
      `%${'x_'.repeat(40)}%`,
      `%${'x_'.repeat(45)}1`,
      `%${x(98)}1%`,
      `%${x(99)}%`,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Kind>('conn', 'file', 'alarm'),
        fc.oneof(run, fixed),
        async (kind, value) => {
          const want = expected(kind, value);
          const got = await list(kind, value, 0, 1000);
          expect(got.total).toBe(want.length);
          expect(got.rows.map((r) => r.id)).toEqual(want.slice(0, 1000));
        },
      ),
      { numRuns: 300 },
    );
  });
});
