import { type Kysely, type Migration, sql } from 'kysely';

// The per-book recycle bin (server-model §1.6): a deleted peer keeps its fields here, with when it
// was deleted, until it is restored or the bin is emptied. A book's bin goes with the book.
export const m0009: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE ab_recycle (
        ab_guid TEXT NOT NULL REFERENCES address_books(guid) ON DELETE CASCADE,
        id TEXT NOT NULL,
        id_fold TEXT NOT NULL,
        alias TEXT NOT NULL DEFAULT '',
        alias_fold TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '[]',
        note TEXT NOT NULL DEFAULT '',
        password_enc TEXT,
        hash_enc TEXT,
        username TEXT NOT NULL DEFAULT '',
        hostname TEXT NOT NULL DEFAULT '',
        platform TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        deleted_at TEXT NOT NULL,
        PRIMARY KEY (ab_guid, id)
      )`.execute(db);
    await sql`CREATE INDEX ab_recycle_deleted ON ab_recycle(ab_guid, deleted_at)`.execute(db);
  },
};
