import type SQLite from 'better-sqlite3';

/**
 * What a user may reach (reachableCondition() in devices.ts) depends only on these columns: a
 * device's status, user and device group, a user's status and group, and the access rules; the
 * device's ID orders the listing. The listing of every device (maybe by status) depends on fewer:
 * which devices exist, their IDs and status. Temporary triggers (this connection's only: nothing is added to
 * the database file, so other SQLite clients are unaffected) tell `AccessMemo` whenever a row of
 * those changes, whichever code path or foreign key action wrote it; a commit by another
 * connection shows in `PRAGMA data_version`.
 */
const WATCHED: [table: string, update: string][] = [
  ['devices', 'id, status, user_guid, device_group_guid'],
  ['users', 'status, group_guid'],
  ['access_rules', ''],
];

function triggers(): string {
  const out: string[] = [];
  for (const [table, columns] of WATCHED) {
    for (const event of ['INSERT', 'DELETE', columns ? `UPDATE OF ${columns}` : 'UPDATE']) {
      const name = `rd_access_${table}_${event.split(' ')[0]!.toLowerCase()}`;
      out.push(
        `CREATE TEMP TRIGGER IF NOT EXISTS ${name} AFTER ${event} ON main.${table} BEGIN SELECT rd_access_changed(); END;`,
      );
    }
  }
  return out.join('\n');
}

/** One listing (a user's reachable devices or every device, maybe by status) as of one generation. */
interface Walk {
  generation: string;
  total?: number;
  /** How many devices there are (pageQuery() weighs walking against gathering with it). */
  all?: number;
  /** offset → the ID of the row just before it: that page starts after this ID. */
  after: Map<number, string>;
}

const MAX_WALKS = 1_000;
const MAX_CURSORS = 8;

/**
 * Remembers, per listing of reachable devices (or of every device), its total and where each page it
 * served ended, for as long as nothing the listing depends on has changed. A RustDesk client loads
 * its device list page by page (`current=1, 2, …`), and so do `rdadmin devices view` and `export`:
 * each page used to count the devices again and walk the ID index from the first device to its
 * offset (an export of 100,000 devices walked 50 million index entries in all). With the memo, a
 * page after one already served starts at the ID where that one ended (the same rows OFFSET gives,
 * since the set of matching devices and their order are unchanged), and the total is counted once.
 */
export class AccessMemo {
  private changes = 0;
  /** How many times a listing's memo was still valid when asked for (tests read it). */
  hits = 0;
  private readonly dataVersion: SQLite.Statement;
  private readonly walks = new Map<string, Walk>();

  constructor(sqlite: SQLite.Database) {
    sqlite.function('rd_access_changed', { deterministic: false }, () => {
      this.changes++;
      return null;
    });
    sqlite.exec(triggers());
    this.dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
  }

  /**
   * Changes whenever what a user may reach may have changed: a watched row written on this
   * connection (counted when the statement runs, so also while its transaction is still open), or
   * any commit by another connection. Read it before reading the data it vouches for.
   */
  generation(): string {
    return `${this.dataVersion.get()}:${this.changes}`;
  }

  /** The memo of listing `key` as of `generation` (a fresh one if it changed since). */
  walk(key: string, generation: string): Walk {
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

  /** Notes that the page ending at `offset` ended with ID `lastId`. */
  static served(w: Walk, offset: number, lastId: string): void {
    if (w.after.size >= MAX_CURSORS) w.after.delete(w.after.keys().next().value!);
    w.after.set(offset, lastId);
  }
}
