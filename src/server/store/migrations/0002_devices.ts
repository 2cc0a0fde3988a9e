import { type Kysely, type Migration, sql } from 'kysely';

// Devices (peers) and device groups. Text columns that are filtered with LIKE have a `_fold`
// twin (NFC + lower case, computed in JS) so matching is case-insensitive beyond ASCII.
export const m0002: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE device_groups (
        guid TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        name_fold TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`.execute(db);
    await sql`CREATE INDEX device_groups_name_fold ON device_groups(name_fold)`.execute(db);
    await sql`
      CREATE TABLE devices (
        guid TEXT PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        id_fold TEXT NOT NULL,
        uuid TEXT NOT NULL DEFAULT '',
        pk TEXT,
        device_name TEXT NOT NULL DEFAULT '',
        device_name_fold TEXT NOT NULL DEFAULT '',
        device_username TEXT NOT NULL DEFAULT '',
        device_username_fold TEXT NOT NULL DEFAULT '',
        os TEXT NOT NULL DEFAULT '',
        cpu TEXT NOT NULL DEFAULT '',
        memory TEXT NOT NULL DEFAULT '',
        version TEXT NOT NULL DEFAULT '',
        ip TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT '',
        status INTEGER NOT NULL DEFAULT 1,
        user_guid TEXT REFERENCES users(guid) ON DELETE SET NULL,
        device_group_guid TEXT REFERENCES device_groups(guid) ON DELETE SET NULL,
        strategy_guid TEXT,
        last_online TEXT,
        sysinfo_at TEXT,
        conns TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`.execute(db);
    await sql`CREATE INDEX devices_user ON devices(user_guid)`.execute(db);
    await sql`CREATE INDEX devices_device_group ON devices(device_group_guid)`.execute(db);
    await sql`CREATE INDEX devices_last_online ON devices(last_online)`.execute(db);
    await sql`CREATE INDEX devices_id_fold ON devices(id_fold)`.execute(db);
    // IDs allowed to register while "require deployment for new devices" is on.
    await sql`
      CREATE TABLE deployments (
        id TEXT PRIMARY KEY,
        uuid TEXT NOT NULL DEFAULT '',
        pk TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
      )`.execute(db);
    // Connection ids the console asked a device to drop, delivered on its next heartbeat.
    await sql`
      CREATE TABLE pending_disconnects (
        device_guid TEXT NOT NULL REFERENCES devices(guid) ON DELETE CASCADE,
        conn_id INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (device_guid, conn_id)
      )`.execute(db);
  },
};
