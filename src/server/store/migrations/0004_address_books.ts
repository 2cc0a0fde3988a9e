import { type Kysely, type Migration, sql } from 'kysely';

// Address books: one personal book per user (`personal_of`), shared books (unique names), their
// peers (tags kept as a JSON array of names, in the order given), tags (ARGB colours) and sharing
// rules (a user, a user group, or everyone when both are NULL). Peer and book passwords are stored
// sealed (AES-GCM, see secret-box.ts), never in clear.
export const m0004: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE address_books (
        guid TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        name_fold TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        owner_guid TEXT REFERENCES users(guid) ON DELETE SET NULL,
        personal_of TEXT UNIQUE REFERENCES users(guid) ON DELETE CASCADE,
        password_enc TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`.execute(db);
    await sql`CREATE UNIQUE INDEX address_books_shared_name ON address_books(name) WHERE personal_of IS NULL`.execute(
      db,
    );
    await sql`CREATE INDEX address_books_name_fold ON address_books(name_fold)`.execute(db);
    await sql`CREATE INDEX address_books_owner ON address_books(owner_guid)`.execute(db);
    await sql`
      CREATE TABLE ab_peers (
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
        PRIMARY KEY (ab_guid, id)
      )`.execute(db);
    await sql`CREATE INDEX ab_peers_id_fold ON ab_peers(ab_guid, id_fold)`.execute(db);
    await sql`
      CREATE TABLE ab_tags (
        ab_guid TEXT NOT NULL REFERENCES address_books(guid) ON DELETE CASCADE,
        name TEXT NOT NULL,
        color INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (ab_guid, name)
      )`.execute(db);
    await sql`
      CREATE TABLE ab_rules (
        guid TEXT PRIMARY KEY,
        ab_guid TEXT NOT NULL REFERENCES address_books(guid) ON DELETE CASCADE,
        user_guid TEXT REFERENCES users(guid) ON DELETE CASCADE,
        group_guid TEXT REFERENCES user_groups(guid) ON DELETE CASCADE,
        rule INTEGER NOT NULL CHECK (rule BETWEEN 1 AND 3),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        CHECK (user_guid IS NULL OR group_guid IS NULL)
      )`.execute(db);
    // One rule per target and book (NULLs are distinct in a plain UNIQUE, hence the COALESCE).
    await sql`CREATE UNIQUE INDEX ab_rules_target ON ab_rules(ab_guid, COALESCE(user_guid, ''), COALESCE(group_guid, ''))`.execute(
      db,
    );
    await sql`CREATE INDEX ab_rules_user ON ab_rules(user_guid)`.execute(db);
    await sql`CREATE INDEX ab_rules_group ON ab_rules(group_guid)`.execute(db);
  },
};
