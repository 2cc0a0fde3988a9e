import { type Kysely, type Migration, sql } from 'kysely';

// Strategies: named sets of client options, assignable to devices, users and device groups.
export const m0006: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE strategies (
        guid TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        name_fold TEXT NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        options TEXT NOT NULL DEFAULT '{}',
        revision INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`.execute(db);
    await sql`ALTER TABLE users ADD COLUMN strategy_guid TEXT REFERENCES strategies(guid) ON DELETE SET NULL`.execute(
      db,
    );
    await sql`ALTER TABLE device_groups ADD COLUMN strategy_guid TEXT REFERENCES strategies(guid) ON DELETE SET NULL`.execute(
      db,
    );
    await sql`CREATE INDEX devices_strategy ON devices(strategy_guid)`.execute(db);
    await sql`CREATE INDEX users_strategy ON users(strategy_guid)`.execute(db);
  },
};
