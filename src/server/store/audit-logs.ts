import type SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type Expression,
  type Kysely,
  type RawBuilder,
  type Selectable,
  type SelectQueryBuilder,
  type SqlBool,
  sql,
  type Transaction,
} from 'kysely';
import { ListingMemo } from './access-memo';
import type { FixedSql, Param } from './db';
import { newGuid } from './ids';
import { fold, likeFilter, trigramQuery } from './like';
import { CHUNK_ROWS, type Chunk, Pace } from './pace';
import type { AuditAlarmTable, AuditConnTable, AuditConsoleTable, AuditFileTable, DB } from './schema';
import { transact } from './tx';

// The audit logs clients post (connections, file transfers, alarms), the console log's queries,
// and retention. Every post may carry a nonce: a retried post (same nonce) is stored once.

export type ConnRecord = Selectable<AuditConnTable> & { device_name: string | null };
export type FileRecord = Selectable<AuditFileTable> & { device_name: string | null };
export type AlarmRecord = Selectable<AuditAlarmTable> & { device_name: string | null };
export type ConsoleRecord = Selectable<AuditConsoleTable>;

/** ISO 8601 UTC bounds: `from` inclusive, `before` exclusive. */
export interface TimeRange {
  from?: string;
  before?: string;
}

/** A user's own records only ("personal logs"): what a non-admin session may read. */
export interface Own {
  userGuid: string;
  /** Folded user name (login alarms name the account they were for). */
  nameFold: string;
}

export interface ConnFilter extends TimeRange {
  /** LIKE pattern on either side's RustDesk ID. */
  remote?: string;
  conn_type?: number;
  own?: Own;
}
export interface FileFilter extends TimeRange {
  remote?: string;
  own?: Own;
}
export interface AlarmFilter extends TimeRange {
  device?: string;
  typ?: number;
  own?: Own;
}
export interface ConsoleFilter extends TimeRange {
  operator?: string;
  typ?: number;
  iop?: number;
  own?: Own;
}

/** A connection or file record of a user's own: a device assigned to the user is either side. */
function eitherSideOwned(table: 'audit_conn' | 'audit_file', userGuid: string) {
  const mine = sql`(SELECT id FROM devices WHERE user_guid = ${userGuid})`;
  return sql<SqlBool>`(${sql.ref(`${table}.device_id`)} IN ${mine} OR ${sql.ref(`${table}.peer_id`)} IN ${mine})`;
}

/**
 * Whose connection records a session that is not an administrator's may look up and annotate (the
 * note a controlling client attaches after a session): those its own client controlled (`peer_id`,
 * the device ID it logged in from) and those where a device of its user is either side.
 */
export interface NoteScope {
  userGuid: string;
  deviceId: string | null;
}

function noteable(scope: NoteScope) {
  const own = eitherSideOwned('audit_conn', scope.userGuid);
  return scope.deviceId === null ? own : sql<SqlBool>`(audit_conn.peer_id = ${scope.deviceId} OR ${own})`;
}

interface Poster {
  device_id: string;
  device_uuid: string;
  nonce?: string;
}

/** One event of a connection, as the controlled device reports it. */
export type ConnEvent = Poster & {
  conn_id: number;
  session_id?: string;
} & (
    | { kind: 'new'; ip: string }
    | {
        kind: 'auth';
        peer_id: string;
        peer_name: string;
        conn_type: number | null;
        primary_auth: number | null;
        two_factor: number | null;
      }
    | { kind: 'close' }
  );

export type FileEvent = Poster & {
  peer_id: string;
  peer_name: string;
  conn_id: number | null;
  type: number;
  path: string;
  is_file: boolean;
  num: number | null;
  ip: string;
  info: string;
};

export type AlarmEvent = Poster & {
  typ: number;
  ip: string;
  info: string;
  conn_id: number | null;
  conn_audit_ref: string | null;
};

export type Stored = 'stored' | 'duplicate';

function timeConds(column: string, r: TimeRange): Expression<SqlBool>[] {
  const out: Expression<SqlBool>[] = [];
  if (r.from) out.push(sql<SqlBool>`${sql.ref(column)} >= ${r.from}`);
  if (r.before) out.push(sql<SqlBool>`${sql.ref(column)} < ${r.before}`);
  return out;
}

/**
 * Per log: the folded columns its filter (`remote`, `device`, `operator`) tests, each indexed; the
 * table holding every value they were ever given, once (`values`, its `column`), with a trigram
 * index where `fts` (migrations 0013 and 0014); and whether a page joins the device.
 */
const FILTERED = {
  audit_conn: {
    columns: ['device_id_fold', 'peer_id_fold'],
    values: 'audit_ids',
    column: 'id_fold',
    fts: true,
    device: true,
  },
  audit_file: {
    columns: ['device_id_fold', 'peer_id_fold'],
    values: 'audit_ids',
    column: 'id_fold',
    fts: true,
    device: true,
  },
  audit_alarm: {
    columns: ['device_id_fold'],
    values: 'audit_ids',
    column: 'id_fold',
    fts: true,
    device: true,
  },
  audit_console: {
    columns: ['operator_fold'],
    values: 'audit_operators',
    column: 'operator_fold',
    fts: false,
    device: false,
  },
} as const;

type IdLog = keyof typeof FILTERED;

/** Receives the SQL of a list's count and of its page before they run (diagnostics: plans). */
export type Explain = (what: 'count' | 'page', query: CompiledQuery) => Promise<void>;
type LogQuery = SelectQueryBuilder<DB, 'audit_conn', object>;

/** Any of the conditions. */
function either(conds: Expression<SqlBool>[]): Expression<SqlBool> {
  return conds.length === 1 ? conds[0]! : sql<SqlBool>`(${sql.join(conds, sql` OR `)})`;
}

type LogTable = 'audit_conn' | 'audit_file' | 'audit_alarm' | 'audit_console';

/**
 * What identifies a listing for its log's memo: its filter, unless the filter reaches outside the
 * log (`own`: which devices a user owns), which the memo does not watch.
 */
function memoKey(f: { own?: unknown }): string | undefined {
  return f.own ? undefined : JSON.stringify(f);
}

/** The order of every log list: newest first, ties by id (the created_at indexes hold the id). */
const newest = (t: LogTable) => sql`${sql.ref(`${t}.created_at`)} DESC, ${sql.ref(`${t}.id`)} DESC`;

/** Where a page of a log ended: its last record's time and id (the order of newest()). */
interface LogCursor {
  at: string;
  id: number;
}

/** A memo per log (see ListingMemo): any write to that log's table makes its listings' memos stale. */
export type LogMemos = Record<LogTable, ListingMemo<LogCursor>>;

export function logMemos(sqlite: SQLite.Database): LogMemos {
  const memo = (table: LogTable) => new ListingMemo<LogCursor>(sqlite, `log_${table}`, [[table, '']]);
  return {
    audit_conn: memo('audit_conn'),
    audit_file: memo('audit_file'),
    audit_alarm: memo('audit_alarm'),
    audit_console: memo('audit_console'),
  };
}

/** The logs whose records retention counts from their start alone. */
const OLDER_LOGS = ['audit_file', 'audit_alarm', 'audit_console'] as const;
type OlderLog = (typeof OLDER_LOGS)[number];

/** The most open connections whose opening moment this process remembers (see AuditLogRepo.openedAt). */
const OPENED_AT_MAX = 10_000;

export class AuditLogRepo {
  /**
   * When (performance.now(), a clock no step of the system's touches) this process recorded each
   * connection record it opened and has not seen closed, by record id; the least recent first, at
   * most OPENED_AT_MAX. It gives a connection whose close comes after a step back of the server's
   * clock its true length (see endTime()); lost on restart, like any memory.
   */
  private readonly openedAt = new Map<number, number>();

  constructor(
    private readonly db: Kysely<DB>,
    private readonly now: () => Date,
    /** Totals and page ends of log listings (see listLog()); none where omitted. */
    readonly memos?: LogMemos,
    /** Fixed SQL on the same connection: pages are read through it (Run.records); else Kysely. */
    private readonly fixed?: FixedSql,
  ) {}

  /** Records the nonce; false when it was seen before (the post is a retry). */
  private async claim(trx: Transaction<DB>, kind: string, nonce: string | undefined): Promise<boolean> {
    if (!nonce) return true;
    const r = await trx
      .insertInto('audit_nonces')
      .values({ kind, nonce, created_at: this.now().toISOString() })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /**
   * Joins a connection event into its record: `new` opens one, `auth` adds the controlling side
   * and the type, `close` sets the end time. An `auth` or `close` whose `new` never arrived opens
   * the record itself, so nothing reported is lost.
   */
  connEvent(e: ConnEvent): Promise<Stored> {
    return transact(this.db, async (trx) => {
      if (!(await this.claim(trx, 'conn', e.nonce))) return 'duplicate';
      const ts = this.now().toISOString();
      let q = trx
        .selectFrom('audit_conn')
        .select(['id', 'session_id', 'ip', 'created_at'])
        .where('device_id', '=', e.device_id)
        .where('conn_id', '=', e.conn_id)
        .where('end_time', 'is', null);
      if (e.session_id !== undefined)
        q = q.where((eb) => eb.or([eb('session_id', '=', e.session_id!), eb('session_id', 'is', null)]));
      const open = e.kind === 'new' ? undefined : await q.orderBy('id', 'desc').executeTakeFirst();
      const base = {
        device_id: e.device_id,
        device_id_fold: fold(e.device_id),
        device_uuid: e.device_uuid,
        conn_id: e.conn_id,
        session_id: e.session_id ?? null,
        conn_type: null,
        primary_auth: null,
        two_factor: null,
        conn_audit_ref: null,
        created_at: ts,
        end_time: null,
      };
      if (e.kind === 'new') {
        const r = await trx
          .insertInto('audit_conn')
          .values({ ...base, guid: newGuid(this.now().getTime()), ip: e.ip })
          .executeTakeFirst();
        if (r.insertId !== undefined) this.opened(Number(r.insertId));
        return 'stored';
      }
      const patch =
        e.kind === 'auth'
          ? {
              peer_id: e.peer_id,
              peer_id_fold: fold(e.peer_id),
              peer_name: e.peer_name,
              conn_type: e.conn_type,
              primary_auth: e.primary_auth,
              two_factor: e.two_factor,
            }
          : { end_time: open ? this.endTime(open.id, open.created_at, ts) : ts };
      if (open) {
        await trx
          .updateTable('audit_conn')
          .set({ ...patch, ...(e.session_id !== undefined ? { session_id: e.session_id } : {}) })
          .where('id', '=', open.id)
          .execute();
      } else {
        await trx
          .insertInto('audit_conn')
          .values({ ...base, ...patch, guid: newGuid(this.now().getTime()) })
          .execute();
      }
      return 'stored';
    });
  }

  /** Remembers when this process opened connection record `id` (see openedAt). */
  private opened(id: number): void {
    if (this.openedAt.size >= OPENED_AT_MAX) {
      const oldest = this.openedAt.keys().next().value;
      if (oldest !== undefined) this.openedAt.delete(oldest);
    }
    this.openedAt.set(id, performance.now());
  }

  /**
   * The end time of connection record `id`, opened at `start`, closed `now` (ISO 8601 UTC): never
   * before its start. An end before the start means the server's clock stepped back during the
   * connection; the listing showed such a record as lasting 0 s (or less), whatever its length. Its
   * length is then what this process measured since it opened the record (openedAt), counted from
   * its start; when that is unknown (opened before a restart), it ends at its start: a length that
   * cannot be told is not made up.
   */
  private endTime(id: number, start: string, now: string): string {
    const since = this.openedAt.get(id);
    this.openedAt.delete(id);
    if (now >= start) return now;
    const from = Date.parse(start);
    if (since === undefined || !Number.isFinite(from)) return start;
    return new Date(from + Math.max(0, performance.now() - since)).toISOString();
  }

  fileEvent(e: FileEvent): Promise<Stored> {
    return transact(this.db, async (trx) => {
      if (!(await this.claim(trx, 'file', e.nonce))) return 'duplicate';
      await trx
        .insertInto('audit_file')
        .values({
          guid: newGuid(this.now().getTime()),
          device_id: e.device_id,
          device_id_fold: fold(e.device_id),
          device_uuid: e.device_uuid,
          peer_id: e.peer_id,
          peer_id_fold: fold(e.peer_id),
          peer_name: e.peer_name,
          conn_id: e.conn_id,
          type: e.type,
          path: e.path,
          is_file: e.is_file ? 1 : 0,
          num: e.num,
          ip: e.ip,
          info: e.info,
          created_at: this.now().toISOString(),
        })
        .execute();
      return 'stored';
    });
  }

  alarmEvent(e: AlarmEvent): Promise<Stored> {
    return transact(this.db, async (trx) => {
      if (!(await this.claim(trx, 'alarm', e.nonce))) return 'duplicate';
      await trx
        .insertInto('audit_alarm')
        .values({
          guid: newGuid(this.now().getTime()),
          device_id: e.device_id,
          device_id_fold: fold(e.device_id),
          device_uuid: e.device_uuid,
          typ: e.typ,
          ip: e.ip,
          info: e.info,
          conn_id: e.conn_id,
          conn_audit_ref: e.conn_audit_ref,
          created_at: this.now().toISOString(),
        })
        .execute();
      return 'stored';
    });
  }

  // Each list picks its page's ids first, from the filtered table alone, newest first over the
  // created_at index (which holds the id), and only then reads and joins those rows: OFFSET skips
  // index entries instead of building every joined row before the page (300,000 connections: the
  // page at offset 290,000 took 161 ms, now 4.6 ms). The count reads the filtered table alone too:
  // the device join adds a name, never a row (devices.id is unique), and costs a lookup per record
  // (65 ms for an unfiltered count of those 300,000, now SQLite's own count of the index).

  listConn(
    f: ConnFilter,
    offset: number,
    limit: number,
    explain?: Explain,
  ): Promise<{ rows: ConnRecord[]; total: number }> {
    return this.listLog<ConnRecord>('audit_conn', f.remote, f, offset, limit, explain, (q) => {
      if (f.conn_type !== undefined) q = q.where('audit_conn.conn_type', '=', f.conn_type);
      if (f.own) q = q.where(eitherSideOwned('audit_conn', f.own.userGuid));
      return q;
    });
  }

  listFile(
    f: FileFilter,
    offset: number,
    limit: number,
    explain?: Explain,
  ): Promise<{ rows: FileRecord[]; total: number }> {
    return this.listLog<FileRecord>('audit_file', f.remote, f, offset, limit, explain, (q) =>
      f.own ? q.where(eitherSideOwned('audit_file', f.own.userGuid)) : q,
    );
  }

  listAlarm(
    f: AlarmFilter,
    offset: number,
    limit: number,
    explain?: Explain,
  ): Promise<{ rows: AlarmRecord[]; total: number }> {
    return this.listLog<AlarmRecord>('audit_alarm', f.device, f, offset, limit, explain, (q) => {
      if (f.typ !== undefined) q = q.where(sql.ref('audit_alarm.typ'), '=', f.typ);
      if (f.own) {
        // Alarms of the user's devices, and the login alarms (3, 4, 5) raised for the user's account.
        q =
          q.where(sql<SqlBool>`(audit_alarm.device_id IN (SELECT id FROM devices WHERE user_guid = ${f.own.userGuid})
          OR (audit_alarm.typ IN (3, 4, 5) AND json_valid(audit_alarm.info)
            AND rd_fold(json_extract(audit_alarm.info, '$.name')) = ${f.own.nameFold}))`);
      }
      return q;
    });
  }

  listConsole(
    f: ConsoleFilter,
    offset: number,
    limit: number,
    explain?: Explain,
  ): Promise<{ rows: ConsoleRecord[]; total: number }> {
    return this.listLog<ConsoleRecord>('audit_console', f.operator, f, offset, limit, explain, (q) => {
      if (f.typ !== undefined) q = q.where(sql.ref('audit_console.typ'), '=', f.typ);
      if (f.iop !== undefined) q = q.where(sql.ref('audit_console.iop'), '=', f.iop);
      if (f.own) q = q.where(sql.ref('audit_console.operator_guid'), '=', f.own.userGuid);
      return q;
    });
  }
  /**
   * A page of a log with its filter (`remote`, `device`, `operator`: a LIKE pattern on the folded
   * columns in FILTERED), the time range and the log's other conditions (`narrow`). Typed as the
   * connection log: the four share the columns used here (id, created_at). See idFilter() for how
   * the filter is answered. `filter` is the listing's whole filter (its time range among it); when
   * its records depend on this log's table alone (memoKey()), the log's memo keeps the total and
   * where each page ended while the log is unchanged: reading a whole log page by page no longer
   * counts it and walks it from its newest record for every page.
   */
  private async listLog<R>(
    log: IdLog,
    value: string | undefined,
    filter: TimeRange & { own?: unknown },
    offset: number,
    limit: number,
    explain: Explain | undefined,
    narrow: (q: LogQuery) => LogQuery,
  ): Promise<{ rows: R[]; total: number }> {
    const table = log as 'audit_conn';
    const memos = this.memos?.[log];
    const key = !explain && !this.db.isTransaction ? memoKey(filter) : undefined;
    const memo = memos && key !== undefined ? memos.walk(key, memos.generation()) : undefined;
    const ids = await this.idFilter(table, value);
    if (ids === 'none') return { rows: [], total: 0 };
    const filtered = (cond: Expression<SqlBool> | undefined) => {
      let q = narrow(this.db.selectFrom(table));
      if (cond) q = q.where(cond);
      for (const c of timeConds(`${table}.created_at`, filter)) q = q.where(c);
      return q;
    };
    let total = memo?.total;
    if (total === undefined) {
      const count = filtered(ids?.lookup ?? ids?.test).select((eb) => eb.fn.countAll<number>().as('n'));
      await explain?.('count', count.compile());
      total = Number((await count.executeTakeFirstOrThrow()).n);
      if (memo) memo.total = total;
    }
    if (total === 0 || offset >= total) return { rows: [], total };
    // A page after one already served starts after that one's last record (newest() order).
    const after = memo?.after.get(offset);
    const resume = (q: ReturnType<typeof filtered>) =>
      after
        ? q.where(
            sql<SqlBool>`${sql.ref(`${table}.created_at`)} <= ${after.at} AND (${sql.ref(`${table}.created_at`)} < ${after.at} OR ${sql.ref(`${table}.id`)} < ${after.id})`,
          )
        : q;
    // The page: through the lookups, every matching record is gathered and sorted (cost grows with
    // the matches); testing, the created_at index is walked newest first and each record tested
    // (cost grows with how many are passed: offset ÷ share of matching records). The cheaper one.
    let page: SelectQueryBuilder<DB, 'audit_conn', { id: number }>;
    if (ids?.lookup && (offset + limit) * (ids.span / total) >= total * 3) {
      // `+` keeps SQLite from walking the created_at index to avoid the sort.
      page = resume(filtered(ids.lookup))
        .select(`${table}.id`)
        .orderBy(sql`+${sql.ref(`${table}.created_at`)} DESC, ${sql.ref(`${table}.id`)} DESC`);
    } else {
      page = resume(filtered(ids?.test)).select(`${table}.id`).orderBy(newest(table));
    }
    const picked = page.offset(after ? 0 : offset).limit(limit);
    const rows = FILTERED[log].device
      ? this.db
          .selectFrom(table)
          .leftJoin('devices', 'devices.id', `${table}.device_id`)
          .selectAll(table)
          .select('devices.device_name as device_name')
          .where(`${table}.id`, 'in', picked)
          .orderBy(newest(table))
      : this.db.selectFrom(table).selectAll(table).where(`${table}.id`, 'in', picked).orderBy(newest(table));
    const read = rows.compile();
    await explain?.('page', read);
    const found = this.fixed
      ? await this.fixed.run((q) => q.records<R>(read.sql, read.parameters as Param[]))
      : ((await rows.execute()) as unknown[] as R[]);
    if (memo && found.length === limit) {
      const last = found[limit - 1] as unknown as { created_at: string; id: number };
      ListingMemo.served(memo, offset + limit, { at: last.created_at, id: last.id });
    }
    return { rows: found, total };
  }

  /**
   * How the log's records matching its filter `value` are found. `test`: each record's filtered
   * columns tested with the LIKE. `lookup` (or 'none' when nothing matches): the values it matches
   * are found in the log's table of values (FILTERED; through the trigram index when there is one
   * and the filter has a literal run of three or more characters), then their records through the
   * column indexes. A lookup costs a few index searches per value and a little per record found; a
   * test, about 0.1 µs per record in the log. So lookups are used while the filter matches fewer
   * values than a twentieth of the records. Where two columns are looked up (either side of a
   * connection) their matches are merged, about 0.2 µs a record: then a filter matching a third or
   * more of the values logged (max(n), read as their count: values are numbered in the order
   * logged, and retention's forgetValues() leaves gaps below the top) matches most records, and
   * testing each is cheaper (300,000 connections of 5,800 IDs, `%1%`: 32 ms
   * testing, 85 ms through the lookups). One column's lookups read one index range per value,
   * never more than a test reads.
   */
  private async idFilter(
    table: IdLog,
    value: string | undefined,
  ): Promise<{ test: Expression<SqlBool>; lookup?: Expression<SqlBool>; span: number } | 'none' | undefined> {
    const { columns, values, column, fts: indexed } = FILTERED[table];
    const tests = columns.map((c) => likeFilter(sql.ref<string>(`${table}.${c}`), value));
    if (!tests[0]) return undefined;
    const test = either(tests as Expression<SqlBool>[]);
    const span = await this.span(table);
    // Not set: every filtered column is NOT NULL, so the ones holding ''.
    if (value === '-') {
      const lookup = either(columns.map((c) => sql<SqlBool>`${sql.ref(`${table}.${c}`)} = ''`));
      return { test, lookup, span };
    }
    const like = likeFilter(sql.ref<string>(`${values}.${column}`), value)!;
    // The trigram index of `values` is `${values}_fts`, its column named as in `values`.
    const fts = indexed ? trigramQuery({ [column]: value }) : null;
    const pick = sql`SELECT ${sql.ref(column)} FROM ${sql.table(values)} WHERE ${like}`;
    const matched = fts
      ? sql`${pick} AND n IN (SELECT rowid FROM ${sql.table(`${values}_fts`)} WHERE ${sql.ref(`${values}_fts`)} MATCH ${fts.match})`
      : pick;
    const found = await sql<{ n: number; logged: number }>`SELECT (SELECT count(*) FROM (${matched})) AS n,
      (SELECT max(n) FROM ${sql.table(values)}) AS logged`.execute(this.db);
    const n = Number(found.rows[0]?.n ?? 0);
    if (n === 0) return 'none';
    const most = columns.length > 1 && n * 3 >= Number(found.rows[0]?.logged ?? 0);
    if (n * 20 >= span || most) return { test, span };
    const lookups = columns.map((c) => sql<SqlBool>`${sql.ref(`${table}.${c}`)} IN (${matched})`);
    return { test, lookup: either(lookups), span };
  }

  /**
   * SQLite's plans for the count and the page of a list run as `list` (which passes the given
   * Explain on): diagnostics, and proof of index use. An empty plan: that query did not run.
   */
  async plan(list: (explain: Explain) => Promise<unknown>): Promise<{ count: string[]; page: string[] }> {
    const out = { count: [] as string[], page: [] as string[] };
    await list(async (what, q) => {
      const r = await this.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`EXPLAIN QUERY PLAN ${q.sql}`, [...q.parameters]),
      );
      out[what] = r.rows.map((x) => x.detail);
    });
    return out;
  }

  /** About how many records `table` holds (its id range: no count, two index ends). */
  private async span(table: IdLog): Promise<number> {
    // Each of min() and max() alone is one index search; in one expression they scan the table.
    const t = sql.table(table);
    const r = await sql<{
      n: number | null;
    }>`SELECT (SELECT max(id) FROM ${t}) - (SELECT min(id) FROM ${t}) + 1 AS n`.execute(this.db);
    return Number(r.rows[0]?.n ?? 0);
  }

  getConn(guid: string): Promise<ConnRecord | undefined> {
    return this.db
      .selectFrom('audit_conn')
      .leftJoin('devices', 'devices.id', 'audit_conn.device_id')
      .selectAll('audit_conn')
      .select('devices.device_name as device_name')
      .where('audit_conn.guid', '=', guid)
      .executeTakeFirst();
  }

  /** Sets a connection record's note; false if there is none (within `scope`, when given). */
  async setNote(guid: string, note: string, scope?: NoteScope): Promise<boolean> {
    let q = this.db.updateTable('audit_conn').set({ note }).where('guid', '=', guid);
    if (scope) q = q.where(noteable(scope));
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** The live (not closed) connection of device `id` with this session, newest first (within `scope`). */
  async activeConn(
    deviceId: string,
    sessionId: string,
    connType?: number,
    scope?: NoteScope,
  ): Promise<string | undefined> {
    let q = this.db
      .selectFrom('audit_conn')
      .select('guid')
      .where('device_id', '=', deviceId)
      .where('session_id', '=', sessionId)
      .where('end_time', 'is', null);
    if (connType !== undefined) q = q.where('conn_type', '=', connType);
    if (scope) q = q.where(noteable(scope));
    return (await q.orderBy('id', 'desc').executeTakeFirst())?.guid;
  }

  /**
   * Connection ids of the device's connections that are still open and were opened after `since`
   * (ISO 8601 UTC): those its heartbeats may not have reported yet.
   */
  async openConnsSince(deviceId: string, since: string): Promise<number[]> {
    const rows = await this.db
      .selectFrom('audit_conn')
      .select('conn_id')
      .distinct()
      .where('device_id', '=', deviceId)
      .where('end_time', 'is', null)
      .where('created_at', '>', since)
      .execute();
    return rows.map((r) => r.conn_id);
  }

  /**
   * Deletes records older than `cutoff` (ISO 8601 UTC) from the four logs; a connection counts
   * from its end. One not closed yet counts from the last heartbeat that reported it live: a
   * session longer than the retention period (a kiosk, unattended access) keeps its record while
   * its device still reports it, else its later close would find nothing and make a record of its
   * own, with no peer, type or start. The heartbeats store only the latest report (the device's
   * `conns`, at `last_online`): so a record counts from `last_online` while that report lists its
   * `conn_id` and it is the device's newest open record with that id (a restarted client reuses
   * ids: an older one was never closed), else from its start. A never-closed record of a device
   * gone or no longer reporting it ages out as before. Returns how many rows went from each log.
   *
   * In chunks at `pace` (see Pace), the oldest first, each record judged as its chunk runs (a
   * heartbeat between two chunks counts for the later one). Connections are walked through their
   * time index: a record ends after it starts (endTime()), so one ended before `cutoff` started
   * before it, and the records passed over that stay (open and still reported, or ended since) are
   * not read again by the next chunk. Records that end before they start (stored by builds that
   * did not hold an end to its start, after a step back of the server's clock) are found through
   * an index of their own (migration 0023).
   */
  async prune(
    cutoff: string,
    pace = new Pace(),
  ): Promise<{ conn: number; file: number; alarm: number; console: number }> {
    const q = this.pruneSql(cutoff);
    let after: LogCursor = { at: '', id: 0 };
    let conn = await pace.run(async (size) => {
      const keys = await q.connKeys(after, size).execute(this.db);
      const last = keys.rows.at(-1);
      if (!last) return { n: 0, more: false };
      after = { at: last.created_at, id: last.id };
      const r = await q.connDelete(JSON.stringify(keys.rows.map((k) => k.id))).execute(this.db);
      return { n: Number(r.numAffectedRows ?? 0n), more: keys.rows.length === size };
    });
    conn += await pace.run((size) => this.deleteChunk(q.connEndedEarly(size), size));
    const older = (table: OlderLog) => pace.run((size) => this.deleteChunk(q.older(table, size), size));
    const file = await older('audit_file');
    const alarm = await older('audit_alarm');
    const cons = await older('audit_console');
    return { conn, file, alarm, console: cons };
  }

  /** The statements of prune()'s chunks at `cutoff`. */
  private pruneSql(cutoff: string) {
    const stale = sql<SqlBool>`COALESCE(end_time, created_at) < ${cutoff} AND NOT (end_time IS NULL AND EXISTS (
      SELECT 1 FROM devices d
      WHERE d.id = audit_conn.device_id AND d.last_online >= ${cutoff} AND json_valid(d.conns)
        AND EXISTS (SELECT 1 FROM json_each(d.conns) WHERE value = audit_conn.conn_id)
        AND NOT EXISTS (SELECT 1 FROM audit_conn n
          WHERE n.device_id = audit_conn.device_id AND n.conn_id = audit_conn.conn_id
            AND n.end_time IS NULL AND n.id > audit_conn.id)))`;
    return {
      /** The next `size` connection records that started before `cutoff`, in time order. */
      connKeys: (after: LogCursor, size: number) =>
        sql<{ id: number; created_at: string }>`SELECT id, created_at FROM audit_conn
          WHERE created_at < ${cutoff} AND (created_at, id) > (${after.at}, ${after.id})
          ORDER BY created_at, id LIMIT ${size}`,
      /** Of these records (ids, a JSON array), those to go. */
      connDelete: (ids: string) =>
        sql`DELETE FROM audit_conn WHERE id IN (SELECT value FROM json_each(${ids})) AND ${stale}`,
      /** Records that started after `cutoff` but ended before it (see migration 0023). */
      connEndedEarly: (size: number) =>
        sql`DELETE FROM audit_conn WHERE id IN (SELECT id FROM audit_conn
          WHERE end_time < created_at AND end_time < ${cutoff} AND created_at >= ${cutoff} LIMIT ${size})`,
      older: (table: OlderLog, size: number) =>
        sql`DELETE FROM ${sql.table(table)} WHERE id IN (SELECT id FROM ${sql.table(table)}
          WHERE created_at < ${cutoff} ORDER BY created_at LIMIT ${size})`,
    };
  }

  /**
   * SQLite's plans for the statements of a prune() chunk at `cutoff` (diagnostics, and proof that
   * each finds its rows through an index: a pass with nothing to delete reads next to nothing).
   */
  async prunePlan(cutoff: string): Promise<string[][]> {
    const q = this.pruneSql(cutoff);
    const queries = [
      q.connKeys({ at: '', id: 0 }, CHUNK_ROWS),
      q.connDelete('[]'),
      q.connEndedEarly(CHUNK_ROWS),
      ...OLDER_LOGS.map((t) => q.older(t, CHUNK_ROWS)),
    ];
    const plans: string[][] = [];
    for (const query of queries) {
      const c = query.compile(this.db);
      const rows = await this.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`EXPLAIN QUERY PLAN ${c.sql}`, [...c.parameters]),
      );
      plans.push(rows.rows.map((r) => r.detail));
    }
    return plans;
  }

  /**
   * Forgets the values (IDs in `audit_ids`, operators in `audit_operators`: see FILTERED) no record
   * of their logs holds any more, as retention leaves them; each through the logs' indexes on
   * them. The trigram index of `audit_ids` follows through its delete trigger; a value logged
   * again is added again by the insert triggers. Returns how many went.
   */
  async forgetValues(values: 'audit_ids' | 'audit_operators', pace = new Pace()): Promise<number> {
    const column = values === 'audit_ids' ? 'id_fold' : 'operator_fold';
    const held = Object.entries(FILTERED).flatMap(([table, f]) =>
      f.values === values
        ? f.columns.map(
            (c) =>
              sql`NOT EXISTS (SELECT 1 FROM ${sql.table(table)} WHERE ${sql.ref(`${table}.${c}`)} = ${sql.ref(`${values}.${column}`)})`,
          )
        : [],
    );
    let after = 0;
    return pace.run(async (size) => {
      const range = await sql<{ last: number | null; count: number }>`SELECT max(n) AS last, count(*) AS count
        FROM (SELECT n FROM ${sql.table(values)} WHERE n > ${after} ORDER BY n LIMIT ${size})`.execute(
        this.db,
      );
      const { last, count } = range.rows[0] ?? { last: null, count: 0 };
      if (last === null) return { n: 0, more: false };
      const r = await sql`DELETE FROM ${sql.table(values)} WHERE n > ${after} AND n <= ${last}
        AND ${sql.join(held, sql` AND `)}`.execute(this.db);
      after = last;
      return { n: Number(r.numAffectedRows ?? 0n), more: Number(count) === size };
    });
  }

  /** Runs one chunk's DELETE of at most `size` rows, all of them to go. */
  private async deleteChunk(query: RawBuilder<unknown>, size: number): Promise<Chunk> {
    const r = await query.execute(this.db);
    const n = Number(r.numAffectedRows ?? 0n);
    return { n, more: n === size };
  }

  /** Forgets nonces older than `cutoff`: clients retry for two minutes, so an hour is ample. */
  async pruneNonces(cutoff: string): Promise<number> {
    const r = await this.db.deleteFrom('audit_nonces').where('created_at', '<', cutoff).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /**
   * Sets the note of device `deviceId`'s connection with this session (the note a controlling
   * client posts during the session, without a token): its newest open record, else its newest
   * one closed at or after `closedSince` (ISO 8601 UTC). Never creates a record; false when none
   * matched.
   */
  async setSessionNote(
    deviceId: string,
    sessionId: string,
    note: string,
    closedSince: string,
  ): Promise<boolean> {
    const target = this.sessionNoteTarget(deviceId, sessionId, closedSince);
    const r = await this.db
      .updateTable('audit_conn')
      .set({ note })
      .where('id', '=', target)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** The record an in-session note goes on: the open one of that session, else the latest closed since. */
  private sessionNoteTarget(deviceId: string, sessionId: string, closedSince: string) {
    return this.db
      .selectFrom('audit_conn')
      .select('id')
      .where('device_id', '=', deviceId)
      .where('session_id', '=', sessionId)
      .where((eb) => eb.or([eb('end_time', 'is', null), eb('end_time', '>=', closedSince)]))
      .orderBy(sql`end_time IS NULL`, 'desc')
      .orderBy('id', 'desc')
      .limit(1);
  }

  /** SQLite's plan for finding a session's record (as the note post and the live lookup do). */
  async sessionPlan(deviceId: string, sessionId: string): Promise<string[]> {
    const c = this.sessionNoteTarget(deviceId, sessionId, new Date(0).toISOString()).compile();
    const rows = await this.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`EXPLAIN QUERY PLAN ${c.sql}`, [...c.parameters]),
    );
    return rows.rows.map((r) => r.detail);
  }
}
