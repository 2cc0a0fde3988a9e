import { type Kysely, type Migration, sql } from 'kysely';

// The client options a device has been sent by strategies (a JSON array of keys, only ever grown).
// A client changes only the options an answer names, and takes an empty value as "back to the
// default": an option a strategy no longer sets (removed, unassigned, another strategy, disabled)
// reaches the device only if it is sent empty, so the server must remember what it sent.
export const m0015: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`ALTER TABLE devices ADD COLUMN strategy_keys TEXT NOT NULL DEFAULT '[]'`.execute(db);
  },
};
