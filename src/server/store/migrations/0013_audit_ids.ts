import { type Kysely, type Migration, sql } from 'kysely';

// Filters on the RustDesk IDs in the audit logs (`remote` on connections and file transfers,
// `device` on alarms) without testing every record. A log holds far fewer distinct IDs than
// records (300,000 connections of 5,000 devices), so the IDs are kept once each in `audit_ids`,
// with a trigram index (as devices_fts, migration 0007), and the records are found through
// indexes on their ID columns: a filter first finds the IDs it matches, then their records.
// Triggers add every ID a record carries (on insert, and when a connection learns its controller);
// nothing removes one (an ID without records matches no records, and there are few of them).
// audit_ids keys the trigram index by an INTEGER PRIMARY KEY, which VACUUM keeps.
const LOGS = {
  audit_conn: ['device_id_fold', 'peer_id_fold'],
  audit_file: ['device_id_fold', 'peer_id_fold'],
  audit_alarm: ['device_id_fold'],
} as const;

/** Adds `column`'s new value to audit_ids unless it is there (not INSERT OR IGNORE: the policy
 * of the statement that fires a trigger overrides the one in its body). */
const remember = (column: string) =>
  `INSERT INTO audit_ids (id_fold) SELECT new.${column}
     WHERE NOT EXISTS (SELECT 1 FROM audit_ids WHERE id_fold = new.${column});`;

export const m0013: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`CREATE TABLE audit_ids (n INTEGER PRIMARY KEY, id_fold TEXT NOT NULL UNIQUE)`.execute(db);
    await sql`
      CREATE VIRTUAL TABLE audit_ids_fts USING fts5(
        id_fold, content = 'audit_ids', content_rowid = 'n', tokenize = 'trigram case_sensitive 1'
      )`.execute(db);
    await sql`
      CREATE TRIGGER audit_ids_fts_insert AFTER INSERT ON audit_ids BEGIN
        INSERT INTO audit_ids_fts (rowid, id_fold) VALUES (new.n, new.id_fold);
      END`.execute(db);
    await sql`
      CREATE TRIGGER audit_ids_fts_delete AFTER DELETE ON audit_ids BEGIN
        INSERT INTO audit_ids_fts (audit_ids_fts, rowid, id_fold) VALUES ('delete', old.n, old.id_fold);
      END`.execute(db);
    for (const [table, columns] of Object.entries(LOGS)) {
      const body = columns.map(remember).join('\n');
      await sql
        .raw(`CREATE TRIGGER ${table}_ids_insert AFTER INSERT ON ${table} BEGIN ${body} END`)
        .execute(db);
      await sql
        .raw(
          `CREATE TRIGGER ${table}_ids_update AFTER UPDATE OF ${columns.join(', ')} ON ${table} BEGIN ${body} END`,
        )
        .execute(db);
      for (const column of columns) {
        await sql
          .raw(`CREATE INDEX ${table}_${column.replace('_fold', '')} ON ${table}(${column}, created_at)`)
          .execute(db);
        await sql
          .raw(`INSERT OR IGNORE INTO audit_ids (id_fold) SELECT DISTINCT ${column} FROM ${table}`)
          .execute(db);
      }
    }
  },
};
