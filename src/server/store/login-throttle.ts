import type { Kysely } from 'kysely';
import type { DB } from './schema';

/** The failed-login counters of one key, as the login guard keeps them. */
export interface LoginTrack {
  key: string;
  /** Failure times (ms), oldest first. */
  failures: number[];
  consecutive: number;
  /** When the key last changed (ms). */
  updatedAt: number;
}

/** Where the login guard keeps its counters across restarts (the `login_throttle` table). */
export class LoginThrottleRepo {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Drops the keys not changed since `before`, then reads the `limit` most recently changed
   * others, least recent first.
   */
  async load(before: number, limit: number): Promise<LoginTrack[]> {
    await this.db.deleteFrom('login_throttle').where('updated_at', '<', before).execute();
    const rows = await this.db
      .selectFrom('login_throttle')
      .selectAll()
      .orderBy('updated_at', 'desc')
      .orderBy('key')
      .limit(limit)
      .execute();
    return rows.reverse().map((r) => ({
      key: r.key,
      failures: parseTimes(r.failures),
      consecutive: r.consecutive,
      updatedAt: r.updated_at,
    }));
  }

  /** Writes these keys' counters and forgets the `dropped` keys, in one transaction. */
  async save(tracks: readonly LoginTrack[], dropped: readonly string[]): Promise<void> {
    if (!tracks.length && !dropped.length) return;
    const write = async (trx: Kysely<DB>) => {
      if (dropped.length) await trx.deleteFrom('login_throttle').where('key', 'in', dropped).execute();
      for (const t of tracks) {
        const row = {
          failures: JSON.stringify(t.failures),
          consecutive: t.consecutive,
          updated_at: t.updatedAt,
        };
        await trx
          .insertInto('login_throttle')
          .values({ key: t.key, ...row })
          .onConflict((oc) => oc.column('key').doUpdateSet(row))
          .execute();
      }
    };
    // One commit for the whole change (inside a running transaction, part of it).
    if (this.db.isTransaction) await write(this.db);
    else await this.db.transaction().execute(write);
  }
}

/** The stored failure times; anything but an array of finite numbers reads as none. */
function parseTimes(text: string): number[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)) : [];
  } catch {
    return [];
  }
}
