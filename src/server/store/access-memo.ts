import type SQLite from 'better-sqlite3';

/**
 * What a user may reach (reachableCondition() in devices.ts) depends only on these columns: a
 * device's status, user and device group, a user's status and group, and the access rules; the
 * device's ID orders the listing. The listing of every device (maybe by status) depends on fewer:
 * which devices exist, their IDs and status. Temporary triggers (this connection's only: nothing is
 * added to the database file, so other SQLite clients are unaffected) tell a memo whenever a row of
 * its tables changes, whichever code path or foreign key action wrote it; a commit by another
 * connection shows in `PRAGMA data_version`.
 */
const WATCHED: [table: string, update: string][] = [
  ['devices', 'id, status, user_guid, device_group_guid'],
  ['users', 'status, group_guid'],
  ['access_rules', ''],
];

/** Temporary triggers calling `fn` after any write to the watched tables (columns: an UPDATE OF list). */
function triggers(name: string, fn: string, watched: readonly (readonly [string, string])[]): string {
  const out: string[] = [];
  for (const [table, columns] of watched) {
    for (const event of ['INSERT', 'DELETE', columns ? `UPDATE OF ${columns}` : 'UPDATE']) {
      const trigger = `rd_${name}_${table}_${event.split(' ')[0]!.toLowerCase()}`;
      out.push(
        `CREATE TEMP TRIGGER IF NOT EXISTS ${trigger} AFTER ${event} ON main.${table} BEGIN SELECT ${fn}(); END;`,
      );
    }
  }
  return out.join('\n');
}

/** One listing as of one generation. */
export interface Walk<C> {
  generation: string;
  total?: number;
  /** How many rows the listed table has (DeviceRepo weighs walking against gathering with it). */
  all?: number;
  /** offset → where the row just before it sorts (its cursor): that page starts after it. */
  after: Map<number, C>;
}

const MAX_WALKS = 1_000;
const MAX_CURSORS = 8;

/**
 * Remembers, per listing, its total and where each page it served ended, for as long as nothing
 * the listing depends on has changed. Lists are read page by page (`current=1, 2, …`): a RustDesk
 * client's device list, `rdadmin devices view` and `export`, `audits … --all`. Each page used to
 * count the rows again and walk an index from the first row to its offset (an export of 100,000
 * devices walked 50 million index entries in all). With the memo, a page after one already served
 * starts after the row where that one ended (the same rows OFFSET gives, since the set of matching
 * rows and their order are unchanged), and the total is counted once. Where a memo is kept is its
 * owner's choice (DeviceRepo, AuditLogRepo): only for listings whose rows and order depend on the
 * watched tables and columns alone, and never inside a transaction.
 */
export class ListingMemo<C> {
  private changes = 0;
  /** How many times a listing's memo was still valid when asked for (tests read it). */
  hits = 0;
  private readonly dataVersion: SQLite.Statement;
  private readonly walks = new Map<string, Walk<C>>();

  /**
   * `name` tells this memo's SQL function and triggers from another's; `watched` lists the tables
   * (and for updates, the columns) its listings depend on.
   */
  constructor(sqlite: SQLite.Database, name: string, watched: readonly (readonly [string, string])[]) {
    const fn = `rd_${name}_changed`;
    sqlite.function(fn, { deterministic: false }, () => {
      this.changes++;
      return null;
    });
    sqlite.exec(triggers(name, fn, watched));
    this.dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
  }

  /**
   * Changes whenever what the listings depend on may have changed: a watched row written on this
   * connection (counted when the statement runs, so also while its transaction is still open), or
   * any commit by another connection. Read it before reading the data it vouches for.
   */
  generation(): string {
    return `${this.dataVersion.get()}:${this.changes}`;
  }

  /** The memo of listing `key` as of `generation` (a fresh one if it changed since). */
  walk(key: string, generation: string): Walk<C> {
    let w = this.walks.get(key);
    this.walks.delete(key); // set again below: the most recently used last, the oldest evicted
    if (w?.generation === generation) this.hits++;
    else {
      w = { generation, after: new Map() };
      if (this.walks.size >= MAX_WALKS) this.walks.delete(this.walks.keys().next().value!);
    }
    this.walks.set(key, w);
    return w;
  }

  /** Notes that the page ending at `offset` ended with the row at `cursor`. */
  static served<C>(w: Walk<C>, offset: number, cursor: C): void {
    if (w.after.size >= MAX_CURSORS) w.after.delete(w.after.keys().next().value!);
    w.after.set(offset, cursor);
  }
}

/** The memo of device listings: a page's cursor is the ID of its last device. */
export class AccessMemo extends ListingMemo<string> {
  constructor(sqlite: SQLite.Database) {
    super(sqlite, 'access', WATCHED);
  }
}
