import { type Kysely, type Migration, sql } from 'kysely';

// Users, user groups, sessions, API tokens, invitations, the console log, settings.
export const m0001: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE user_groups (
        guid TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        name_fold TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`.execute(db);
    await sql`CREATE INDEX user_groups_name_fold ON user_groups(name_fold)`.execute(db);
    await sql`
      CREATE TABLE users (
        guid TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        name_fold TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        email TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT '',
        status INTEGER NOT NULL,
        is_admin INTEGER NOT NULL DEFAULT 0,
        group_guid TEXT NOT NULL REFERENCES user_groups(guid),
        password_hash TEXT,
        email_verification INTEGER NOT NULL DEFAULT 0,
        tfa_enforced INTEGER NOT NULL DEFAULT 0,
        tfa_enforce_url TEXT NOT NULL DEFAULT '',
        totp_secret TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`.execute(db);
    await sql`CREATE INDEX users_name_fold ON users(name_fold)`.execute(db);
    await sql`CREATE INDEX users_group ON users(group_guid)`.execute(db);
    await sql`
      CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_guid TEXT NOT NULL REFERENCES users(guid) ON DELETE CASCADE,
        device_id TEXT,
        device_uuid TEXT,
        created_at TEXT NOT NULL,
        last_used_at TEXT NOT NULL
      )`.execute(db);
    await sql`CREATE INDEX sessions_user ON sessions(user_guid)`.execute(db);
    await sql`
      CREATE TABLE api_tokens (
        guid TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        owner_guid TEXT NOT NULL REFERENCES users(guid) ON DELETE CASCADE,
        permissions TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        last_used_at TEXT,
        revoked_at TEXT
      )`.execute(db);
    await sql`CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens(name) WHERE revoked_at IS NULL`.execute(
      db,
    );
    await sql`
      CREATE TABLE invitations (
        token_hash TEXT PRIMARY KEY,
        user_guid TEXT NOT NULL REFERENCES users(guid) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT
      )`.execute(db);
    await sql`
      CREATE TABLE audit_console (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        guid TEXT NOT NULL UNIQUE,
        typ INTEGER NOT NULL,
        iop INTEGER NOT NULL,
        operator_guid TEXT,
        operator TEXT NOT NULL,
        ip TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
      )`.execute(db);
    await sql`CREATE INDEX audit_console_created ON audit_console(created_at)`.execute(db);
    await sql`CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)`.execute(db);
  },
};
