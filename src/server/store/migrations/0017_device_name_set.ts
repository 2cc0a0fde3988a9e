import { type Kysely, type Migration, sql } from 'kysely';

// A device name or OS user name set by an administrator (`devices assign`, `rustdesk --assign`)
// overrides what the client reports (server-model.md §1.4: "overridable by --device_name"); the
// client reports its host name with every system-info upload, so the override must be remembered.
export const m0017: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`ALTER TABLE devices ADD COLUMN device_name_set INTEGER NOT NULL DEFAULT 0`.execute(db);
    await sql`ALTER TABLE devices ADD COLUMN device_username_set INTEGER NOT NULL DEFAULT 0`.execute(db);
  },
};
