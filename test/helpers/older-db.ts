import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

// Databases as an older rdadmin left them, for the migrations run at start-up: a database made by
// this version, taken back to before migration 0013_audit_ids (its tables, triggers and indexes
// dropped, its record deleted), optionally with a large connection log, so that applying 0013
// again takes a while (about a second for 300,000 connections: an index and a scan per ID column).

/** Takes the database in `file` back to before migration 0013_audit_ids, with `connections` connection records. */
export function asBefore0013(file: string, connections = 0): void {
  const raw = new Database(file);
  try {
    const objects = raw
      .prepare(
        "SELECT type, name FROM sqlite_master WHERE (name LIKE 'audit_ids%' OR name LIKE 'audit_%_ids_%' OR name LIKE 'audit_%_device_id' OR name LIKE 'audit_%_peer_id') AND type IN ('trigger', 'index')",
      )
      .all() as { type: string; name: string }[];
    if (objects.length < 8) throw new Error(`migration 0013's objects not found: ${JSON.stringify(objects)}`);
    for (const o of objects) raw.exec(`DROP ${o.type} "${o.name}"`);
    raw.exec('DROP TABLE audit_ids_fts; DROP TABLE audit_ids');
    raw.prepare("DELETE FROM kysely_migration WHERE name = '0013_audit_ids'").run();
    // 5,000 devices connected to by 20,011 others.
    raw.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${connections})
      INSERT INTO audit_conn (guid, device_id, device_id_fold, conn_id, peer_id, peer_id_fold, created_at)
      SELECT 'c' || i, printf('%09d', i % 5000), printf('%09d', i % 5000), i, printf('%09d', i % 20011),
        printf('%09d', i % 20011), printf('2026-01-01T00:00:00.%06dZ', i) FROM n`);
  } finally {
    raw.close();
  }
}

export interface MigrationState {
  /** The migrations recorded as applied. */
  applied: string[];
  /** Tables, indexes and triggers of migration 0013 in the schema. */
  objects0013: number;
}

/** What of migration 0013 the database in `file` holds (read on a connection of its own). */
export function migrationState(file: string): MigrationState {
  const raw = new Database(file);
  try {
    return {
      applied: raw.prepare('SELECT name FROM kysely_migration ORDER BY name').pluck().all() as string[],
      objects0013: raw
        .prepare(
          "SELECT count(*) FROM sqlite_master WHERE name LIKE 'audit_ids%' OR name LIKE 'audit_%_ids_%' OR name LIKE 'audit_%_device_id' OR name LIKE 'audit_%_peer_id'",
        )
        .pluck()
        .get() as number,
    };
  } finally {
    raw.close();
  }
}

/** Every file of a folder with the SHA-256 of its content (equal when nothing in it changed). */
export function folderPrint(dir: string): Record<string, string> {
  const print: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = join(dir, entry.name);
    print[entry.name] = entry.isFile()
      ? createHash('sha256').update(readFileSync(path)).digest('hex')
      : entry.isDirectory()
        ? 'folder'
        : 'other';
  }
  return print;
}
