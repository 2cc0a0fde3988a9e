import {
  CompiledQuery,
  type Expression,
  type Kysely,
  type RawBuilder,
  type Selectable,
  type SqlBool,
  sql,
  type Updateable,
} from 'kysely';
import { AccessMemo } from './access-memo';
import { type RuleSource, ruleTargets } from './access-rules';
import type { FixedSql, Param } from './db';
import { newGuid } from './ids';
import { fold, foldLike, likeFilter, trigramQuery } from './like';
import type { DB, DeviceGroupTable, DeviceTable } from './schema';
import type { StrategyChain } from './strategies';

export type DeviceRecord = Selectable<DeviceTable> & {
  user_name: string | null;
  group_name: string | null;
  device_group_name: string | null;
  strategy_name: string | null;
};
export type DeviceGroupRecord = Selectable<DeviceGroupTable>;

/** A device as listings use it: what it shows, and the user it belongs to. */
export type ListedDevice = Pick<
  DeviceRecord,
  | 'guid'
  | 'id'
  | 'uuid'
  | 'device_name'
  | 'device_username'
  | 'os'
  | 'cpu'
  | 'memory'
  | 'version'
  | 'ip'
  | 'note'
  | 'status'
  | 'user_guid'
  | 'last_online'
  | 'created_at'
  | 'user_name'
  | 'group_name'
  | 'device_group_name'
  | 'strategy_name'
>;

/**
 * A listed page's columns, in the order listedDevice() reads them. Pages are read as arrays and
 * made into records in JS: better-sqlite3 takes about twice as long to build each row as an object
 * of named properties itself, and columns nobody lists (the folded copies, key, timestamps of
 * bookkeeping) cost their share too (a page of 100 devices with its joins: all 28 columns as
 * objects 1.2 ms, as arrays 0.7 ms, these 19 as arrays 0.5 ms).
 */
const LISTED_COLUMNS = `devices.guid, devices.id, devices.uuid, devices.device_name, devices.device_username,
  devices.os, devices.cpu, devices.memory, devices.version, devices.ip, devices.note, devices.status,
  devices.user_guid, devices.last_online, devices.created_at, users.name, user_groups.name,
  device_groups.name, strategies.name`;

/** A row of LISTED_COLUMNS (a test holds it equal to the same fields of getByGuid()'s record). */
function listedDevice(r: unknown[]): ListedDevice {
  return {
    guid: r[0] as string,
    id: r[1] as string,
    uuid: r[2] as string,
    device_name: r[3] as string,
    device_username: r[4] as string,
    os: r[5] as string,
    cpu: r[6] as string,
    memory: r[7] as string,
    version: r[8] as string,
    ip: r[9] as string,
    note: r[10] as string,
    status: r[11] as number,
    user_guid: r[12] as string | null,
    last_online: r[13] as string | null,
    created_at: r[14] as string,
    user_name: r[15] as string | null,
    group_name: r[16] as string | null,
    device_group_name: r[17] as string | null,
    strategy_name: r[18] as string | null,
  };
}

/** LIKE filters of GET /api/devices (`-` = not set). */
export interface DeviceFilter {
  id?: string;
  device_name?: string;
  user_name?: string;
  /** The assigned user's user group. */
  group_name?: string;
  device_group_name?: string;
  device_username?: string;
  /** Exact device group (by GUID). */
  device_group_guid?: string;
  /** Only devices assigned to this user (by GUID). */
  user_guid?: string;
  /** Only what this user may connect to (server-model §1.5); see reachableCondition(). */
  reachable_by?: Reacher;
  /** Only enabled (1) or disabled (0) devices. */
  status?: number;
}

type DeviceRef = 'devices.user_guid' | 'devices.device_group_guid';

/**
 * A device's reference column in a condition. Written `+column` when `indexed` is false, which
 * keeps SQLite from gathering the matching rows through that column's index: it then tests each
 * row it walks (in ID order, for a page; see pageQuery()).
 */
function deviceRef(column: DeviceRef, indexed: boolean) {
  return indexed ? sql.ref(column) : sql`+${sql.ref(column)}`;
}

/**
 * Devices whose reference `column` is set to a row that `rows` selects where its folded `value`
 * column is LIKE the filter (or, for `-`, empty), or unset when the filter is `-`: what a LEFT JOIN
 * and the filter on the joined column give, since the reference is a foreign key.
 */
function pointsInto(
  column: DeviceRef,
  indexed: boolean,
  value: string | undefined,
  rows: (cond: (col: string) => Expression<SqlBool>) => RawBuilder<unknown>,
): Expression<SqlBool> | null {
  if (value === undefined || value === '') return null;
  const ref = deviceRef(column, indexed);
  const inRows = sql<SqlBool>`${ref} IN (${rows((col) => likeFilter(sql.ref<string>(col), value)!)})`;
  return value === '-' ? sql<SqlBool>`(${ref} IS NULL OR ${inRows})` : inRows;
}

/** A user asking what they may reach: who they are, and whether unassigned devices count. */
export interface Reacher extends RuleSource {
  /** Devices with no user and no device group (off when only admins may reach those). */
  unassigned: boolean;
}

/**
 * The devices a user may connect to (server-model §1.5), as one condition: enabled devices whose
 * user (if any) is enabled, and that are the user's own, or belong to a member of the user's group
 * or of a user group the user or their group has a rule to, or sit in a device group the user or
 * their group has a rule to; or (unless only administrators may) have no user and no device group.
 * Grants are a union. The rules are the one edge set of access_rules (src → dst). `indexed`: see
 * deviceRef().
 */
export function reachableCondition(r: Reacher, indexed = true) {
  const user = deviceRef('devices.user_guid', indexed);
  const group = deviceRef('devices.device_group_guid', indexed);
  // "The device's user is one of these users", as SQLite is best at it: with the indexes, a list
  // it builds once and then looks devices up by (so the matching devices are found through their
  // user index); when testing walked rows one by one, a lookup of that one user by its key (a
  // list is built from every enabled user, or every member of a group, on each query: about 10
  // ms with 10,000 users, for pages of 100 devices). The two differ only for a device with no user
  // (NULL against false), where the first is preceded by `IS NULL OR` and the second is one branch
  // of an OR that must be true: they select the same devices.
  const userIn = (users: RawBuilder<unknown>, where: RawBuilder<unknown>) =>
    indexed
      ? sql<SqlBool>`${user} IN (SELECT ${users}.guid FROM users ${users} WHERE ${where})`
      : sql<SqlBool>`EXISTS (SELECT 1 FROM users ${users} WHERE ${users}.guid = ${user} AND (${where}))`;
  const eu = sql.raw('eu');
  const ru = sql.raw('ru');
  return sql<SqlBool>`(devices.status = 1
    AND (${user} IS NULL OR ${userIn(eu, sql`eu.status = 1`)})
    AND (${user} = ${r.userGuid}
      OR ${userIn(ru, sql`ru.group_guid = ${r.groupGuid} OR ru.group_guid IN (${ruleTargets('userGroups', r)})`)}
      OR ${group} IN (${ruleTargets('deviceGroups', r)})
      OR (${r.unassigned ? 1 : 0} = 1 AND ${user} IS NULL AND ${group} IS NULL)))`;
}

export type DevicePatch = Partial<
  Pick<
    Updateable<DeviceTable>,
    | 'uuid'
    | 'pk'
    | 'device_name'
    | 'device_username'
    | 'os'
    | 'cpu'
    | 'memory'
    | 'version'
    | 'ip'
    | 'note'
    | 'status'
    | 'user_guid'
    | 'device_group_guid'
    | 'strategy_guid'
    | 'last_online'
    | 'sysinfo_at'
    | 'conns'
    | 'device_name_set'
    | 'device_username_set'
  >
>;

/** What a heartbeat reports (pro-admin-api / server-model: id, uuid, conns) and where it came from. */
export interface Beat {
  id: string;
  uuid: string;
  conns: readonly number[];
  ip: string;
  at: string;
}

/** A recorded heartbeat: the device as it was before, and what is waiting for it. */
export interface BeatResult {
  guid: string;
  /** The device's uuid before this heartbeat. */
  uuid: string;
  sysinfo_at: string | null;
  chain: StrategyChain;
  /** The client option keys strategies have sent this device (JSON array). */
  strategy_keys: string;
  /** Connection ids the console asked this device to drop (now taken). */
  disconnects: number[];
  /**
   * The heartbeat came with another uuid than the device's (or none): nothing was recorded or
   * taken. A registered device keeps its uuid, as hbbs keeps it (UUID_MISMATCH).
   */
  uuidMismatch?: true;
}

// The heartbeat path runs thousands of times a second: fixed SQL, prepared once (see the statement
// cache in db.ts), no query building.
const BEAT_LOOKUP = `SELECT d.guid, d.uuid, d.ip, d.sysinfo_at, d.strategy_keys, d.strategy_guid AS device,
    u.strategy_guid AS user, g.strategy_guid AS device_group
  FROM devices d
  LEFT JOIN users u ON u.guid = d.user_guid
  LEFT JOIN device_groups g ON g.guid = d.device_group_guid
  WHERE d.id = ?`;
const BEAT_UPDATE =
  'UPDATE devices SET last_online = ?, conns = ?, ip = ?, uuid = ?, updated_at = ? WHERE guid = ?';
const BEAT_PENDING = 'SELECT 1 FROM pending_disconnects WHERE device_guid = ? LIMIT 1';
// A queued disconnect is settled by the first heartbeat that reports its connection (delivered),
// or dropped once its age is past DISCONNECT_TTL_MS; until then it waits (a connection may be
// audited before a heartbeat reports it). Its age is measured both ways: one stamped more than the
// TTL ahead of now (the server's clock stepped back since it was queued) has no age that can be
// told, and would otherwise wait as long as the step, then drop an unrelated connection of a
// restarted client that reuses its id; so it is dropped too (the console may ask again). Whatever
// the step, no queued drop is delivered more than twice the TTL after it was asked for.
const BEAT_TAKE = `DELETE FROM pending_disconnects
  WHERE device_guid = ? AND (conn_id IN (SELECT value FROM json_each(?)) OR created_at < ? OR created_at > ?)
  RETURNING conn_id, created_at`;

/**
 * How long a queued disconnect waits for a heartbeat that reports its connection. A client with
 * live connections beats every 3 s; a connection id that turns up only later may be a new
 * connection of a restarted client that reuses the id, so it is not dropped.
 */
const DISCONNECT_TTL_MS = 60_000;

interface Queued {
  beat: Beat;
  resolve(r: BeatResult | undefined): void;
  reject(e: unknown): void;
}

function withFolds(p: DevicePatch): Record<string, unknown> {
  const out: Record<string, unknown> = { ...p };
  if (p.device_name !== undefined) out['device_name_fold'] = foldLike(p.device_name);
  if (p.device_username !== undefined) out['device_username_fold'] = foldLike(p.device_username);
  return out;
}

export class DeviceRepo {
  private beats: Queued[] = [];

  constructor(
    private readonly db: Kysely<DB>,
    private readonly now: () => Date,
    /** Fixed SQL on the same connection (pages are read through it as arrays). */
    private readonly fixed: FixedSql,
    /** Totals and page ends of device listings (see AccessMemo, memoFor()); none in tests that omit it. */
    readonly memo?: AccessMemo,
  ) {}

  /**
   * Records a heartbeat of a registered device: last_online, conns, ip (kept when unknown), a new
   * uuid; takes the pending disconnects; answers the device as it was, or undefined for an unknown
   * ID. Heartbeats that arrive together are written in one transaction (one commit instead of one
   * per heartbeat); each caller is answered once its transaction has committed.
   */
  heartbeat(beat: Beat): Promise<BeatResult | undefined> {
    return new Promise((resolve, reject) => {
      if (this.beats.push({ beat, resolve, reject }) === 1) setImmediate(() => void this.flushBeats());
    });
  }

  private async flushBeats(): Promise<void> {
    const batch = this.beats;
    this.beats = [];
    try {
      const results = await this.db.transaction().execute(async (trx) => {
        const out: (BeatResult | undefined)[] = [];
        for (const q of batch) out.push(await this.recordBeat(trx, q.beat));
        return out;
      });
      for (const [i, q] of batch.entries()) q.resolve(results[i]);
    } catch {
      // Something in the batch failed: record each on its own, so one bad beat fails alone.
      for (const q of batch) {
        await this.db
          .transaction()
          .execute((trx) => this.recordBeat(trx, q.beat))
          .then(q.resolve, q.reject);
      }
    }
  }

  private async recordBeat(trx: Kysely<DB>, b: Beat): Promise<BeatResult | undefined> {
    const run = async <R>(text: string, params: unknown[]) =>
      (await trx.executeQuery<R>(CompiledQuery.raw(text, params))).rows;
    const [d] = await run<{
      guid: string;
      uuid: string;
      ip: string;
      sysinfo_at: string | null;
      strategy_keys: string;
      device: string | null;
      user: string | null;
      device_group: string | null;
    }>(BEAT_LOOKUP, [b.id]);
    if (!d) return undefined;
    const known = {
      guid: d.guid,
      uuid: d.uuid,
      sysinfo_at: d.sysinfo_at,
      strategy_keys: d.strategy_keys,
      chain: { device: d.device, user: d.user, device_group: d.device_group },
    };
    if (d.uuid !== '' && b.uuid !== d.uuid) return { ...known, disconnects: [], uuidMismatch: true };
    // A device without a uuid yet (reset by an administrator) takes the one it reports.
    const uuid = d.uuid || b.uuid;
    await run(BEAT_UPDATE, [
      b.at,
      JSON.stringify(b.conns),
      b.ip || d.ip,
      uuid,
      this.now().toISOString(),
      d.guid,
    ]);
    const pending = (await run(BEAT_PENDING, [d.guid])).length > 0;
    const disconnects = pending ? await this.takeDisconnectsIn(run, d.guid, b.conns) : [];
    return { ...known, disconnects };
  }

  /** The queued disconnects of a device that this heartbeat's live connections settle (BEAT_TAKE). */
  private async takeDisconnectsIn(
    run: <R>(text: string, params: unknown[]) => Promise<R[]>,
    guid: string,
    conns: readonly number[],
  ): Promise<number[]> {
    const now = this.now().getTime();
    const cutoff = new Date(now - DISCONNECT_TTL_MS).toISOString();
    const ahead = new Date(now + DISCONNECT_TTL_MS).toISOString();
    const taken = await run<{ conn_id: number; created_at: string }>(BEAT_TAKE, [
      guid,
      JSON.stringify(conns),
      cutoff,
      ahead,
    ]);
    // Taken rows are reported by this heartbeat or out of their time; only the former are delivered.
    return taken
      .filter((r) => r.created_at >= cutoff && r.created_at <= ahead)
      .map((r) => r.conn_id)
      .sort((a, b) => a - b);
  }

  /** Records the option keys strategies have now sent a device (see migration 0015). */
  async setStrategyKeys(guid: string, keys: readonly string[]): Promise<void> {
    await this.db
      .updateTable('devices')
      .set({ strategy_keys: JSON.stringify(keys) })
      .where('guid', '=', guid)
      .execute();
  }

  private base() {
    return this.db
      .selectFrom('devices')
      .leftJoin('users', 'users.guid', 'devices.user_guid')
      .leftJoin('user_groups', 'user_groups.guid', 'users.group_guid')
      .leftJoin('device_groups', 'device_groups.guid', 'devices.device_group_guid')
      .leftJoin('strategies', 'strategies.guid', 'devices.strategy_guid')
      .selectAll('devices')
      .select([
        'users.name as user_name',
        'user_groups.name as group_name',
        'device_groups.name as device_group_name',
        'strategies.name as strategy_name',
      ]);
  }

  /** The trigram-index query for the substring filters of `f`, if it has any that can use it. */
  private trigram(f: DeviceFilter) {
    const fts = trigramQuery({
      id_fold: f.id,
      device_name_fold: f.device_name,
      device_username_fold: f.device_username,
    });
    if (!fts) return null;
    // Exact alone (the index answers the whole filter) only without the other filters.
    const others = [
      f.user_name,
      f.group_name,
      f.device_group_name,
      f.device_group_guid,
      f.user_guid,
      f.reachable_by,
      f.status,
    ];
    return { match: fts.match, exact: fts.exact && others.every((v) => !v) };
  }

  /**
   * The devices matching `f`, as conditions on the devices table alone: counting and paging touch
   * the devices table and its indexes only. Selects nothing; callers pick columns.
   * With `useIndex`, substrings of ID, name and username are first looked up in the trigram index
   * (migration 0007), and the filters on the user, their group and the device group go through the
   * devices_user_id / devices_device_group_id indexes (migration 0010), so the page is picked from
   * the matching rows (then sorted) instead of testing every row in ID order; without it, the page
   * walks the ID index and tests each row (cheaper for the first pages of a filter matching many).
   */
  private filtered(f: DeviceFilter, useIndex = true) {
    let q = this.db.selectFrom('devices');
    const conds = [
      likeFilter(sql.ref<string>('devices.id_fold'), f.id),
      likeFilter(sql.ref<string>('devices.device_name_fold'), f.device_name),
      likeFilter(sql.ref<string>('devices.device_username_fold'), f.device_username),
      // "The user's name / the user's group / the device group matches": the same devices as a
      // LEFT JOIN to those tables with the LIKE on the joined column (the references are foreign
      // keys, so a set one always finds its row; with `-`, an unset one matches too).
      pointsInto(
        'devices.user_guid',
        useIndex,
        f.user_name,
        (c) => sql`SELECT guid FROM users WHERE ${c('name_fold')}`,
      ),
      pointsInto(
        'devices.user_guid',
        useIndex,
        f.group_name,
        (c) =>
          sql`SELECT u.guid FROM users u JOIN user_groups g ON g.guid = u.group_guid WHERE ${c('g.name_fold')}`,
      ),
      pointsInto(
        'devices.device_group_guid',
        useIndex,
        f.device_group_name,
        (c) => sql`SELECT guid FROM device_groups WHERE ${c('name_fold')}`,
      ),
    ];
    for (const c of conds) if (c) q = q.where(c);
    const fts = useIndex ? this.trigram(f) : null;
    if (fts)
      q = q.where(
        sql<SqlBool>`devices.rowid IN (SELECT rowid FROM devices_fts WHERE devices_fts MATCH ${fts.match})`,
      );
    if (f.device_group_guid) q = q.where('devices.device_group_guid', '=', f.device_group_guid);
    if (f.user_guid) q = q.where('devices.user_guid', '=', f.user_guid);
    if (f.reachable_by) q = q.where(reachableCondition(f.reachable_by, useIndex));
    if (f.status !== undefined) q = q.where('devices.status', '=', f.status);
    return q;
  }

  /** Whether `f` has a filter that an index narrows (trigram, pointsInto()'s, what a user reaches). */
  private narrowed(f: DeviceFilter): boolean {
    return (
      this.trigram(f) !== null ||
      Boolean(f.user_name || f.group_name || f.device_group_name || f.reachable_by)
    );
  }

  private countQuery(f: DeviceFilter) {
    const fts = this.trigram(f);
    // When the index answers the whole filter, it counts without reading a single device row.
    if (fts?.exact) {
      return this.db
        .selectNoFrom(
          sql<number>`(SELECT count(*) FROM devices_fts WHERE devices_fts MATCH ${fts.match})`.as('n'),
        )
        .compile();
    }
    return this.filtered(f)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .compile();
  }

  /**
   * The rows of one page. They are picked by rowid first, then joined: SQLite would otherwise
   * build every joined row it skips with OFFSET. Two ways to pick them: from an index's matches
   * (trigram, user, device group), sorted by ID (cost grows with the number of matches), or walking
   * the ID index and testing each row (cost grows with offset ÷ share of matching rows). The cheaper
   * one is used. The picked rows, in ID order, drive the join as its outer loop (CROSS JOIN keeps
   * them there), so their order is the page's and SQLite sorts nothing again.
   */
  private pageQuery(
    f: DeviceFilter,
    offset: number,
    limit: number,
    total: number,
    all: number,
    after?: string,
  ) {
    const walk = this.narrowed(f) && (offset + limit) * (all / Math.max(total, 1)) < total * 3;
    let page = this.filtered(f, !walk);
    // A page that starts where an earlier one ended (AccessMemo): the rows after that ID.
    if (after !== undefined) page = page.where('devices.id', '>', after);
    const ids = page
      .select([sql<number>`devices.rowid`.as('r'), 'devices.id as i'])
      .orderBy('devices.id')
      .offset(offset)
      .limit(limit);
    return sql`SELECT ${sql.raw(LISTED_COLUMNS)}
      FROM (${ids}) AS p CROSS JOIN devices ON devices.rowid = p.r
      LEFT JOIN users ON users.guid = devices.user_guid
      LEFT JOIN user_groups ON user_groups.guid = users.group_guid
      LEFT JOIN device_groups ON device_groups.guid = devices.device_group_guid
      LEFT JOIN strategies ON strategies.guid = devices.strategy_guid
      ORDER BY p.i`.compile(this.db);
  }

  /**
   * The listing's memo when `f` is a user's reachable devices (what a client's device list asks for
   * page after page) or every device (`devices view` and `export` without filters), maybe by
   * status: listings whose rows depend only on what AccessMemo watches. None inside a transaction,
   * whose uncommitted writes a memo must not keep.
   */
  private memoFor(f: DeviceFilter) {
    if (!this.memo || this.db.isTransaction) return undefined;
    const { reachable_by: r, status, ...other } = f;
    if (Object.values(other).some((v) => v !== undefined)) return undefined;
    const key = JSON.stringify(
      r ? [r.userGuid, r.groupGuid, r.unassigned, status ?? null] : ['every device', status ?? null],
    );
    return this.memo.walk(key, this.memo.generation());
  }

  async list(
    f: DeviceFilter,
    offset: number,
    limit: number,
  ): Promise<{ rows: ListedDevice[]; total: number }> {
    const memo = this.memoFor(f);
    const total =
      memo?.total ?? Number((await this.db.executeQuery<{ n: number }>(this.countQuery(f))).rows[0]?.n ?? 0);
    if (memo) memo.total = total;
    if (total === 0 || offset >= total) return { rows: [], total };
    const all = memo?.all ?? (this.narrowed(f) ? await this.count() : total);
    if (memo) memo.all = all;
    const after = memo?.after.get(offset);
    const page =
      after === undefined
        ? this.pageQuery(f, offset, limit, total, all)
        : this.pageQuery(f, 0, limit, total, all, after);
    const rows = await this.fixed.run((q) => q.rows(page.sql, page.parameters as Param[]).map(listedDevice));
    if (memo && rows.length === limit) AccessMemo.served(memo, offset + limit, rows[limit - 1]!.id);
    return { rows, total };
  }

  /** SQLite's query plans for list(f) (page, then count): diagnostics, and proof of index use. */
  async plan(f: DeviceFilter, offset = 0, limit = 100): Promise<{ rows: string[]; count: string[] }> {
    const total = Number((await this.db.executeQuery<{ n: number }>(this.countQuery(f))).rows[0]?.n ?? 0);
    const explain = async (c: { sql: string; parameters: readonly unknown[] }) =>
      (
        await this.db.executeQuery<{ detail: string }>(
          CompiledQuery.raw(`EXPLAIN QUERY PLAN ${c.sql}`, [...c.parameters]),
        )
      ).rows.map((r) => r.detail);
    return {
      rows: await explain(this.pageQuery(f, offset, limit, total, await this.count())),
      count: await explain(this.countQuery(f)),
    };
  }

  getByGuid(guid: string): Promise<DeviceRecord | undefined> {
    return this.base().where('devices.guid', '=', guid).executeTakeFirst();
  }

  getById(id: string): Promise<DeviceRecord | undefined> {
    return this.base().where('devices.id', '=', id).executeTakeFirst();
  }

  getByIds(ids: readonly string[]): Promise<DeviceRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.base()
      .where('devices.id', 'in', [...ids])
      .execute();
  }

  async create(id: string, patch: DevicePatch = {}): Promise<string> {
    const ts = this.now().toISOString();
    const guid = newGuid(this.now().getTime());
    await this.db
      .insertInto('devices')
      .values({
        guid,
        id,
        id_fold: foldLike(id),
        device_name_fold: foldLike(patch.device_name ?? ''),
        device_username_fold: foldLike(patch.device_username ?? ''),
        created_at: ts,
        updated_at: ts,
        ...(withFolds(patch) as DevicePatch),
      })
      .execute();
    return guid;
  }

  async update(guids: readonly string[], patch: DevicePatch): Promise<number> {
    if (guids.length === 0) return 0;
    const r = await this.db
      .updateTable('devices')
      .set({ ...(withFolds(patch) as DevicePatch), updated_at: this.now().toISOString() })
      .where('guid', 'in', [...guids])
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async delete(guid: string): Promise<boolean> {
    const r = await this.db.deleteFrom('devices').where('guid', '=', guid).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom('devices')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  // Device groups: the basics devices need (assignment by name); the groups area adds the rest.

  getGroupByName(name: string): Promise<DeviceGroupRecord | undefined> {
    return this.db.selectFrom('device_groups').selectAll().where('name', '=', name).executeTakeFirst();
  }

  getGroupByGuid(guid: string): Promise<DeviceGroupRecord | undefined> {
    return this.db.selectFrom('device_groups').selectAll().where('guid', '=', guid).executeTakeFirst();
  }

  async createGroup(name: string, note = ''): Promise<string> {
    const ts = this.now().toISOString();
    const guid = newGuid(this.now().getTime());
    await this.db
      .insertInto('device_groups')
      .values({ guid, name, name_fold: fold(name), note, created_at: ts, updated_at: ts })
      .execute();
    return guid;
  }

  // Deployment ("require deployment for new devices") and pending disconnects.

  async isDeployed(id: string): Promise<boolean> {
    return (
      (await this.db.selectFrom('deployments').select('id').where('id', '=', id).executeTakeFirst()) !==
      undefined
    );
  }

  async deploy(id: string, uuid: string, pk: string): Promise<void> {
    await this.db
      .insertInto('deployments')
      .values({ id, uuid, pk, created_at: this.now().toISOString() })
      .onConflict((oc) => oc.column('id').doUpdateSet({ uuid, pk }))
      .execute();
  }

  /**
   * Queues connection ids for a device to drop at its next heartbeat that reports them (see
   * BEAT_TAKE); queuing one again restarts its wait.
   */
  async queueDisconnect(deviceGuid: string, connIds: readonly number[]): Promise<void> {
    if (!connIds.length) return;
    const created_at = this.now().toISOString();
    await this.db
      .insertInto('pending_disconnects')
      .values(connIds.map((conn_id) => ({ device_guid: deviceGuid, conn_id, created_at })))
      .onConflict((oc) => oc.columns(['device_guid', 'conn_id']).doUpdateSet({ created_at }))
      .execute();
  }
}
