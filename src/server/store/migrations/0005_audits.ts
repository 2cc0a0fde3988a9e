import { type Kysely, type Migration, sql } from 'kysely';
import { fold } from '../like';

// Audit logs posted by clients (connections, file transfers, alarms), the nonces that de-duplicate
// retried posts, and a folded operator column on the console log for case-insensitive filters.
// Times are ISO 8601 UTC strings; `session_id` is TEXT because it is an unsigned 64-bit number.
export const m0005: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE TABLE audit_conn (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        guid TEXT NOT NULL UNIQUE,
        device_id TEXT NOT NULL,
        device_id_fold TEXT NOT NULL,
        device_uuid TEXT NOT NULL DEFAULT '',
        conn_id INTEGER NOT NULL,
        session_id TEXT,
        ip TEXT NOT NULL DEFAULT '',
        peer_id TEXT NOT NULL DEFAULT '',
        peer_id_fold TEXT NOT NULL DEFAULT '',
        peer_name TEXT NOT NULL DEFAULT '',
        conn_type INTEGER,
        primary_auth INTEGER,
        two_factor INTEGER,
        conn_audit_ref TEXT,
        note TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        end_time TEXT
      )`.execute(db);
    await sql`CREATE INDEX audit_conn_created ON audit_conn(created_at)`.execute(db);
    await sql`CREATE INDEX audit_conn_device_conn ON audit_conn(device_id, conn_id)`.execute(db);
    await sql`
      CREATE TABLE audit_file (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        guid TEXT NOT NULL UNIQUE,
        device_id TEXT NOT NULL,
        device_id_fold TEXT NOT NULL,
        device_uuid TEXT NOT NULL DEFAULT '',
        peer_id TEXT NOT NULL DEFAULT '',
        peer_id_fold TEXT NOT NULL DEFAULT '',
        peer_name TEXT NOT NULL DEFAULT '',
        conn_id INTEGER,
        type INTEGER NOT NULL,
        path TEXT NOT NULL DEFAULT '',
        is_file INTEGER NOT NULL DEFAULT 0,
        num INTEGER,
        ip TEXT NOT NULL DEFAULT '',
        info TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
      )`.execute(db);
    await sql`CREATE INDEX audit_file_created ON audit_file(created_at)`.execute(db);
    await sql`
      CREATE TABLE audit_alarm (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        guid TEXT NOT NULL UNIQUE,
        device_id TEXT NOT NULL DEFAULT '',
        device_id_fold TEXT NOT NULL DEFAULT '',
        device_uuid TEXT NOT NULL DEFAULT '',
        typ INTEGER NOT NULL,
        ip TEXT NOT NULL DEFAULT '',
        info TEXT NOT NULL DEFAULT '',
        conn_id INTEGER,
        conn_audit_ref TEXT,
        created_at TEXT NOT NULL
      )`.execute(db);
    await sql`CREATE INDEX audit_alarm_created ON audit_alarm(created_at)`.execute(db);
    await sql`
      CREATE TABLE audit_nonces (
        kind TEXT NOT NULL,
        nonce TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (kind, nonce)
      )`.execute(db);
    await sql`CREATE INDEX audit_nonces_created ON audit_nonces(created_at)`.execute(db);
    await sql`ALTER TABLE audit_console ADD COLUMN operator_fold TEXT NOT NULL DEFAULT ''`.execute(db);
    const rows = await sql<{ id: number; operator: string }>`SELECT id, operator FROM audit_console`.execute(
      db,
    );
    for (const r of rows.rows) {
      await sql`UPDATE audit_console SET operator_fold = ${fold(r.operator)} WHERE id = ${r.id}`.execute(db);
    }
    await sql`CREATE INDEX audit_console_operator_fold ON audit_console(operator_fold)`.execute(db);
  },
};
