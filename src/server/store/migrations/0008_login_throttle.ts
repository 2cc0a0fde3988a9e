import { type Kysely, type Migration, sql } from 'kysely';

// Login protection survives a restart: the failed-login counters of each key (an account or a
// client IP), written as they change and read back at start-up (see login-guard.ts).
export const m0008: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE login_throttle (
        key TEXT PRIMARY KEY NOT NULL,
        failures TEXT NOT NULL,
        consecutive INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      )`.execute(db);
    await sql`CREATE INDEX login_throttle_updated ON login_throttle(updated_at)`.execute(db);
  },
};
