import { type Kysely, type Migration, sql } from 'kysely';

// The console log's `operator` filter without testing every entry (migration 0013 did the same
// for the RustDesk IDs of the other logs): each operator name logged is kept once in
// `audit_operators` (there are few, so no trigram index), filled by a trigger and from the
// existing entries. A filter finds the operators it matches, then their entries through the
// operator index of 0005. (An index on operator and time instead was tried: SQLite then counted an
// unfiltered log through the larger time index, 0.09 -> 8 ms over 500,000 entries.)
export const m0014: Migration = {
  async up(db: Kysely<unknown>) {
    await sql`CREATE TABLE audit_operators (n INTEGER PRIMARY KEY, operator_fold TEXT NOT NULL UNIQUE)`.execute(
      db,
    );
    // Not INSERT OR IGNORE: the policy of the statement that fires a trigger overrides its body's.
    const body = sql.raw(`INSERT INTO audit_operators (operator_fold) SELECT new.operator_fold
      WHERE NOT EXISTS (SELECT 1 FROM audit_operators WHERE operator_fold = new.operator_fold);`);
    await sql`CREATE TRIGGER audit_console_operators_insert AFTER INSERT ON audit_console BEGIN ${body} END`.execute(
      db,
    );
    await sql`CREATE TRIGGER audit_console_operators_update AFTER UPDATE OF operator_fold ON audit_console
      BEGIN ${body} END`.execute(db);
    await sql`INSERT OR IGNORE INTO audit_operators (operator_fold) SELECT DISTINCT operator_fold FROM audit_console`.execute(
      db,
    );
  },
};
