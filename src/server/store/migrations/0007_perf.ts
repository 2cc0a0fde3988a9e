import { type Kysely, type Migration, sql } from 'kysely';

// Listing speed. Substring search on devices without a full scan: an FTS5 trigram index over the folded ID,
// device name and device username (external content: it stores only the index, keyed by the
// devices rowid, and triggers keep it in step). The columns hold folded text already, so the index
// compares exactly (case_sensitive 1): a filter `%abc%` then matches in the index exactly the rows
// its LIKE matches, and can be counted there; other filters still apply their LIKE to the rows the
// index narrows them to (see trigramQuery() in like.ts).
// The rowid of `devices` is implicit, so a VACUUM may renumber it: after a VACUUM, run
// INSERT INTO devices_fts(devices_fts) VALUES ('rebuild').
export const m0007: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`
      CREATE VIRTUAL TABLE devices_fts USING fts5(
        id_fold, device_name_fold, device_username_fold,
        content = 'devices', content_rowid = 'rowid', tokenize = 'trigram case_sensitive 1'
      )`.execute(db);
    await sql`
      CREATE TRIGGER devices_fts_insert AFTER INSERT ON devices BEGIN
        INSERT INTO devices_fts (rowid, id_fold, device_name_fold, device_username_fold)
        VALUES (new.rowid, new.id_fold, new.device_name_fold, new.device_username_fold);
      END`.execute(db);
    await sql`
      CREATE TRIGGER devices_fts_delete AFTER DELETE ON devices BEGIN
        INSERT INTO devices_fts (devices_fts, rowid, id_fold, device_name_fold, device_username_fold)
        VALUES ('delete', old.rowid, old.id_fold, old.device_name_fold, old.device_username_fold);
      END`.execute(db);
    await sql`
      CREATE TRIGGER devices_fts_update AFTER UPDATE OF id_fold, device_name_fold, device_username_fold
      ON devices BEGIN
        INSERT INTO devices_fts (devices_fts, rowid, id_fold, device_name_fold, device_username_fold)
        VALUES ('delete', old.rowid, old.id_fold, old.device_name_fold, old.device_username_fold);
        INSERT INTO devices_fts (rowid, id_fold, device_name_fold, device_username_fold)
        VALUES (new.rowid, new.id_fold, new.device_name_fold, new.device_username_fold);
      END`.execute(db);
    await sql`INSERT INTO devices_fts (devices_fts) VALUES ('rebuild')`.execute(db);
    // Users are listed by (name_fold, guid): with both in one index a page is found by walking the
    // index alone, and no sort is needed for the tie-breaker.
    await sql`CREATE INDEX users_name_fold_guid ON users(name_fold, guid)`.execute(db);
  },
};
