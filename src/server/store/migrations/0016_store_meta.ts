import { type Kysely, type Migration, sql } from 'kysely';

// Facts about the database itself, not settings anyone changes: for now the secret.key check value
// (a known text sealed with the key the database's secrets are sealed with; see secret-box.ts).
export const m0016: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`CREATE TABLE store_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)`.execute(db);
  },
};
