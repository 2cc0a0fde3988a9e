import { type Kysely, type Migration, sql } from 'kysely';

// What the hourly pass (retention.ts) deletes, found through indexes rather than by reading every
// row. Sessions by last use: those unused for longer than a session lives (auth.ts) are deleted.
// Connection records that end before they start: builds before end times were held to their start
// (a close after a step back of the server's clock) stored such ends, and retention counts a
// record from its end; the pass walks the time index (created_at), which does not reach one that
// started after the cutoff but ended before it. Partial: only those records are in it, and no
// record stored now is (its end is never before its start).
export const m0023: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`CREATE INDEX sessions_last_used ON sessions(last_used_at)`.execute(db);
    await sql`CREATE INDEX audit_conn_ended_before_start ON audit_conn(end_time) WHERE end_time < created_at`.execute(
      db,
    );
  },
};
