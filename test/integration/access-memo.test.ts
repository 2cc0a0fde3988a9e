import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inTransaction, openStore, type Store } from '../../src/server/store';
import { type ListedDevice, type Reacher, reachableCondition } from '../../src/server/store/devices';

/** FixedSql's statements (spied on below). */
interface Run {
  rows(text: string, params?: readonly unknown[]): unknown[][];
}

// A client's device list (a user's reachable devices, page after page) and the listing of every
// device (`devices view`, `export`) are answered from AccessMemo while nothing they depend on has
// changed: the total counted once, each page starting where the one before it ended. Every page
// must still be exactly what counting and OFFSET give at that moment, whatever was written in
// between, by any code path or by another connection.

let dir: string;
let file: string;
let store: Store;
let other: SQLite.Database;
const users: string[] = [];
const userGroups: string[] = [];
const deviceGroups: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rdadmin-memo-'));
  file = join(dir, 'db.sqlite3');
  store = await openStore(file);
  for (let i = 0; i < 3; i++) userGroups.push(await store.groups.createUserGroup(`ug${i}`, ''));
  for (let i = 0; i < 3; i++) deviceGroups.push(await store.groups.createDeviceGroup(`dg${i}`, ''));
  for (let i = 0; i < 6; i++) {
    users.push(
      await store.users.create({
        name: `u${i}`,
        password_hash: null,
        group_guid: userGroups[i % 3]!,
        status: 1,
      }),
    );
  }
  for (let i = 0; i < 40; i++) {
    await store.devices.create(String(100_000 + i * 7), {
      status: i % 5 === 0 ? 0 : 1,
      user_guid: i % 3 === 0 ? null : users[i % 6]!,
      device_group_guid: i % 4 === 0 ? deviceGroups[i % 3]! : null,
    });
  }
  await store.groups.addRules([
    { src: { type: 0, guid: userGroups[0]! }, dst: { type: 1, guid: deviceGroups[1]! } },
    { src: { type: 2, guid: users[1]! }, dst: { type: 0, guid: userGroups[2]! } },
  ]);
  other = new SQLite(file);
  other.pragma('busy_timeout = 5000');
});

afterAll(async () => {
  other?.close();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

const db = () => store.database.sqlite;
const pick = <T>(xs: readonly T[], i: number) => xs[i % xs.length]!;

/** Writes that change (or, the last ones, must not disturb) what users reach. */
const Op = fc.oneof(
  fc.record({
    k: fc.constant('device'),
    i: fc.nat(),
    col: fc.constantFrom('status', 'user', 'group'),
    v: fc.nat(),
  }),
  fc.record({ k: fc.constant('add-device'), i: fc.nat(), v: fc.nat() }),
  fc.record({ k: fc.constant('delete-device'), i: fc.nat() }),
  fc.record({ k: fc.constant('user'), i: fc.nat(), col: fc.constantFrom('status', 'group'), v: fc.nat() }),
  fc.record({ k: fc.constant('delete-user'), i: fc.nat() }),
  fc.record({ k: fc.constant('rule'), i: fc.nat(), v: fc.nat(), add: fc.boolean() }),
  fc.record({ k: fc.constant('delete-device-group'), i: fc.nat() }),
  fc.record({ k: fc.constant('other-connection'), i: fc.nat(), v: fc.nat() }),
  fc.record({ k: fc.constant('rollback'), i: fc.nat() }),
  fc.record({ k: fc.constant('rename'), i: fc.nat(), v: fc.nat() }),
);
type Op = typeof Op extends fc.Arbitrary<infer T> ? T : never;

let added = 0;
async function apply(op: Op): Promise<void> {
  const ids = db().prepare('SELECT id FROM devices ORDER BY id').pluck().all() as string[];
  const live = db().prepare('SELECT guid FROM users').pluck().all() as string[];
  const id = ids.length ? pick(ids, op.i) : undefined;
  switch (op.k) {
    case 'device': {
      if (!id) return;
      const value =
        op.col === 'status'
          ? op.v % 2
          : op.col === 'user'
            ? op.v % 3 === 0
              ? null
              : pick(live.length ? live : [null], op.v)
            : op.v % 2 === 0
              ? null
              : pick(deviceGroups, op.v);
      const column = { status: 'status', user: 'user_guid', group: 'device_group_guid' }[op.col];
      db().prepare(`UPDATE devices SET ${column} = ? WHERE id = ?`).run(value, id);
      return;
    }
    case 'add-device':
      await store.devices.create(`2${String(++added).padStart(5, '0')}${op.i % 10}`, {
        status: 1,
        user_guid: op.v % 2 ? pick(live.length ? live : [null], op.v) : null,
      });
      return;
    case 'delete-device':
      if (id) db().prepare('DELETE FROM devices WHERE id = ?').run(id);
      return;
    case 'user': {
      if (!live.length) return;
      const u = pick(live, op.i);
      if (op.col === 'status')
        db()
          .prepare('UPDATE users SET status = ? WHERE guid = ?')
          .run(op.v % 2, u);
      else db().prepare('UPDATE users SET group_guid = ? WHERE guid = ?').run(pick(userGroups, op.v), u);
      return;
    }
    case 'delete-user':
      // Devices keep existing with no user (ON DELETE SET NULL): a foreign key action, not a statement here.
      if (live.length > 2) db().prepare('DELETE FROM users WHERE guid = ?').run(pick(live, op.i));
      return;
    case 'rule': {
      if (op.add) {
        const src =
          op.v % 2 ? { type: 0, guid: pick(userGroups, op.i) } : { type: 2, guid: pick(live, op.i) };
        const dst =
          op.v % 3 ? { type: 1, guid: pick(deviceGroups, op.v) } : { type: 0, guid: pick(userGroups, op.v) };
        if (src.guid) await store.groups.addRules([{ src, dst }]);
      } else {
        const rules = db().prepare('SELECT rowid FROM access_rules ORDER BY rowid').pluck().all() as number[];
        if (rules.length) db().prepare('DELETE FROM access_rules WHERE rowid = ?').run(pick(rules, op.i));
      }
      return;
    }
    case 'delete-device-group': {
      // Keep one: deleting sets the devices' device_group_guid to NULL and drops its rules.
      const groups = db().prepare('SELECT guid FROM device_groups').pluck().all() as string[];
      if (groups.length > 1) {
        const g = pick(groups, op.i);
        db().prepare('DELETE FROM device_groups WHERE guid = ?').run(g);
        deviceGroups.splice(deviceGroups.indexOf(g), 1);
      }
      return;
    }
    case 'other-connection':
      if (id) other.prepare('UPDATE devices SET status = ? WHERE id = ?').run(op.v % 2, id);
      return;
    case 'rollback':
      if (!id) return;
      await store.database.db
        .transaction()
        .execute(async (trx) => {
          await sql`UPDATE devices SET status = 1 - status WHERE id = ${id}`.execute(trx);
          throw new Error('rolled back');
        })
        .catch(() => undefined);
      return;
    case 'rename':
      if (id) db().prepare('UPDATE devices SET device_name = ? WHERE id = ?').run(`n${op.v}`, id);
      return;
  }
}

function reacher(i: number, unassigned: boolean): Reacher | undefined {
  const u = db().prepare('SELECT guid, group_guid FROM users ORDER BY name').all() as {
    guid: string;
    group_guid: string;
  }[];
  if (!u.length) return undefined;
  const { guid, group_guid } = pick(u, i);
  return { userGuid: guid, groupGuid: group_guid, unassigned };
}

/**
 * What a page must be: every reachable device (every device, without `r`) in ID order, counted and
 * sliced at that moment.
 */
async function reference(r: Reacher | undefined, status: number | undefined): Promise<string[]> {
  let q = store.database.db.selectFrom('devices').select('devices.id');
  if (r) q = q.where(reachableCondition(r));
  if (status !== undefined) q = q.where('devices.status', '=', status);
  return (await q.orderBy('devices.id').execute()).map((d) => d.id);
}

describe('AccessMemo: totals and page starts of reachable-device and every-device listings', () => {
  for (const every of [false, true]) {
    it(`the next page starts after the last ID of the one before, and the total is not counted again (${every ? 'every device' : 'a user’s reachable devices'})`, async () => {
      // First, on the seeded fleet (the property below changes it at random).
      const r = every ? undefined : reacher(1, true)!;
      const f = r ? { reachable_by: r } : {};
      const want = await reference(r, undefined);
      expect(want.length).toBeGreaterThan(4);
      await store.devices.list(f, 0, 2); // counted, walked from the start
      // Counts go through Kysely; the page is read as arrays through the store's fixed SQL.
      const counts = vi.spyOn(store.database.db, 'executeQuery');
      const pages = vi.spyOn((store.database.fixed as unknown as { on: Run }).on, 'rows');
      try {
        const page2 = await store.devices.list(f, 2, 2);
        expect(page2.rows.map((d) => d.id)).toEqual(want.slice(2, 4));
        // One query: no count, no count of all devices; the page from page 1's last ID, offset 0.
        expect(counts.mock.calls).toHaveLength(0);
        expect(pages.mock.calls).toHaveLength(1);
        const [text, params] = pages.mock.calls[0]!;
        expect(text).toContain('"devices"."id" > ?');
        expect(params!.slice(-3)).toEqual([want[1], 2, 0]);
      } finally {
        counts.mockRestore();
        pages.mockRestore();
      }
    });
  }

  it('leaves listings filtered on anything it does not watch (a name) to counting and OFFSET', async () => {
    const hits = store.devices.memo!.hits;
    for (const f of [{ device_name: 'n' }, { id: '1' }, { user_name: 'u' }, { device_group_name: 'dg' }]) {
      await store.devices.list(f, 0, 2);
      await store.devices.list(f, 2, 2);
    }
    expect(store.devices.memo!.hits).toBe(hits);
  });

  it('every page equals counting and OFFSET at that moment, across writes of every kind', async () => {
    const before = store.devices.memo!.hits;
    // A client reading page after page (a cursor per listing), with writes between some pages.
    const Step = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          k: fc.constant('page' as const),
          who: fc.nat(),
          size: fc.integer({ min: 1, max: 7 }),
          jump: fc.nat({ max: 9 }),
          unassigned: fc.boolean(),
          status: fc.constantFrom(undefined, 1),
          // The listing of every device (`devices view`, `export`) instead of a user's.
          every: fc.boolean(),
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
          const r = step.every ? undefined : reacher(step.who, step.unassigned);
          if (!r && !step.every) continue;
          const key = JSON.stringify([r ?? 'every', step.status, step.size]);
          // Mostly the next page of this listing (as a client asks), sometimes another one.
          const current = step.jump === 0 ? 1 + (step.who % 4) : (next.get(key) ?? 1);
          const got = await store.devices.list(
            r ? { reachable_by: r, status: step.status } : { status: step.status },
            (current - 1) * step.size,
            step.size,
          );
          const want = await reference(r, step.status);
          expect(got.total).toBe(want.length);
          expect(got.rows.map((d) => d.id)).toEqual(
            want.slice((current - 1) * step.size, current * step.size),
          );
          next.set(key, current * step.size >= want.length ? 1 : current + 1);
        }
      }),
      { numRuns: 300 },
    );
    // The memo answered many of those pages (else this test would not be testing it).
    expect(store.devices.memo!.hits - before).toBeGreaterThan(200);
  });

  it('keeps nothing inside a transaction (its writes may be rolled back)', async () => {
    const r = reacher(0, true)!;
    const hits = store.devices.memo!.hits;
    await inTransaction(store, async (tx) => {
      await tx.devices.list({ reachable_by: r }, 0, 2);
      await tx.devices.list({ reachable_by: r }, 2, 2);
    });
    expect(store.devices.memo!.hits).toBe(hits);
  });
});

/** What a listed device holds (ListedDevice). */
const LISTED = [
  'guid',
  'id',
  'uuid',
  'device_name',
  'device_username',
  'os',
  'cpu',
  'memory',
  'version',
  'ip',
  'note',
  'status',
  'user_guid',
  'last_online',
  'created_at',
  'user_name',
  'group_name',
  'device_group_name',
  'strategy_name',
] as const satisfies readonly (keyof ListedDevice)[];

describe('a listed page', () => {
  it('holds each device as getByGuid() reads it, every column it lists and joined name', async () => {
    const strategy = await store.strategies.create('page-record', {});
    // What the property test above left of the users and device groups.
    const liveUsers = db().prepare('SELECT guid FROM users ORDER BY name').pluck().all() as string[];
    const liveGroups = db().prepare('SELECT guid FROM device_groups').pluck().all() as string[];
    const guids: string[] = [];
    for (let i = 0; i < 3; i++) {
      // A distinct value in every column, so that two columns read in each other's place show.
      guids.push(
        await store.devices.create(`9${i}0000001`, {
          uuid: `uuid-${i}`,
          pk: i === 0 ? null : `pk-${i}`,
          device_name: `Name-${i}`,
          device_username: `User-${i}`,
          os: `os-${i}`,
          cpu: `cpu-${i}`,
          memory: `memory-${i}`,
          version: `version-${i}`,
          ip: `10.0.0.${i}`,
          note: `note-${i}`,
          status: i % 2,
          user_guid: i === 2 ? null : pick(liveUsers, i),
          device_group_guid: i === 1 ? null : pick(liveGroups, i),
          strategy_guid: i === 0 ? strategy : null,
          last_online: i === 1 ? null : `2026-01-0${i + 1}T00:00:00.000Z`,
          sysinfo_at: `2026-02-0${i + 1}T00:00:00.000Z`,
          conns: `[${i}]`,
        }),
      );
    }
    const { rows } = await store.devices.list({ id: '9_0000001' }, 0, 10);
    expect(rows.map((d) => d.guid)).toEqual(guids);
    for (const d of rows) {
      const record = (await store.devices.getByGuid(d.guid)) as Record<string, unknown>;
      expect(d).toEqual(Object.fromEntries(LISTED.map((k) => [k, record[k]])));
    }
    expect(rows[0]!.strategy_name).toBe('page-record');
    expect(rows[0]!.user_name).toBeTruthy();
    expect(rows[0]!.group_name).toBeTruthy();
    expect(rows[2]!.device_group_name).toBeTruthy();
  });
});
