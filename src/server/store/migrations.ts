import type SQLite from 'better-sqlite3';
import { type Kysely, type KyselyPlugin, type Migration, sql } from 'kysely';
import { DataFileError } from './data-file-error';
import { m0001 } from './migrations/0001_foundation';
import { m0002 } from './migrations/0002_devices';
import { m0003 } from './migrations/0003_groups';
import { m0004 } from './migrations/0004_address_books';
import { m0005 } from './migrations/0005_audits';
import { m0006 } from './migrations/0006_strategies';
import { m0007 } from './migrations/0007_perf';
import { m0008 } from './migrations/0008_login_throttle';
import { m0009 } from './migrations/0009_ab_recycle';
import { m0010 } from './migrations/0010_device_refs';
import { m0011 } from './migrations/0011_device_access';
import { m0012 } from './migrations/0012_device_access_walk';
import { m0013 } from './migrations/0013_audit_ids';
import { m0014 } from './migrations/0014_audit_operators';
import { m0015 } from './migrations/0015_strategy_keys';
import { m0016 } from './migrations/0016_store_meta';
import { m0017 } from './migrations/0017_device_name_set';
import { m0018 } from './migrations/0018_strategy_keys_sent';
import { m0019 } from './migrations/0019_device_names_set_before';
import { m0020 } from './migrations/0020_invitation_user';
import { m0021 } from './migrations/0021_conn_session';
import { m0022 } from './migrations/0022_device_folds_nul';
import { m0023 } from './migrations/0023_retention_indexes';

// Versioned schema migrations, applied in name order at start-up. Never edit one that has shipped:
// add a new one (one file per change, registered here with what it does, as the log says it).
// Each runs in a transaction of its own, with its record in `kysely_migration` (the table kysely's
// Migrator kept, so that older builds read what newer ones applied): a migration is applied whole
// or not at all, whenever the process stops. SQLite's DDL is transactional; a migration must not
// hold what a transaction ignores or refuses (PRAGMA foreign_keys, journal_mode; VACUUM).
const migrations: Record<string, { about: string; migration: Migration }> = {
  '0001_foundation': { about: 'users, groups, sessions, tokens, console log', migration: m0001 },
  '0002_devices': { about: 'devices and device groups', migration: m0002 },
  '0003_groups': { about: 'access rules', migration: m0003 },
  '0004_address_books': { about: 'address books', migration: m0004 },
  '0005_audits': { about: 'client audit logs', migration: m0005 },
  '0006_strategies': { about: 'strategies', migration: m0006 },
  '0007_perf': { about: 'device search index', migration: m0007 },
  '0008_login_throttle': { about: 'login throttle', migration: m0008 },
  '0009_ab_recycle': { about: 'address-book recycle bin', migration: m0009 },
  '0010_device_refs': { about: 'device group and user indexes', migration: m0010 },
  '0011_device_access': { about: 'device access index', migration: m0011 },
  '0012_device_access_walk': { about: 'device access walk index', migration: m0012 },
  '0013_audit_ids': { about: 'audit-log ID index', migration: m0013 },
  '0014_audit_operators': { about: 'console-log operator index', migration: m0014 },
  '0015_strategy_keys': { about: 'options sent by strategies', migration: m0015 },
  '0016_store_meta': { about: 'secret.key check value', migration: m0016 },
  '0017_device_name_set': { about: 'device names set by an administrator', migration: m0017 },
  '0018_strategy_keys_sent': { about: 'options sent before 0015', migration: m0018 },
  '0019_device_names_set_before': { about: 'device names set before 0017', migration: m0019 },
  '0020_invitation_user': { about: 'invitations by user', migration: m0020 },
  '0021_conn_session': { about: 'connection records by session', migration: m0021 },
  '0022_device_folds_nul': { about: 'device search text ends at a NUL, as LIKE reads it', migration: m0022 },
  '0023_retention_indexes': {
    about: 'expired sessions and early-ended connections by time',
    migration: m0023,
  },
};

/** The names of the migrations this version knows, in the order they apply. */
const MIGRATION_NAMES: readonly string[] = Object.keys(migrations).sort();

/** The migrations recorded as applied in the database (none in a new one). */
function appliedMigrations(sqlite: SQLite.Database): string[] {
  const recorded = sqlite
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'")
    .get();
  return recorded ? (sqlite.prepare('SELECT name FROM kysely_migration').pluck().all() as string[]) : [];
}

/**
 * Refuses a database that a newer rdadmin has migrated (it has migrations this version does not
 * know): this version would run on a schema it was not written for. Reads only.
 */
export function refuseNewer(sqlite: SQLite.Database, file: string): void {
  const unknown = appliedMigrations(sqlite)
    .filter((name) => !(name in migrations))
    .sort();
  if (unknown.length === 0) return;
  const which = unknown.length === 1 ? `migration ${unknown[0]}` : `migrations ${unknown.join(', ')}`;
  throw new DataFileError(
    `the database ${file} was upgraded by a newer rdadmin (it has ${which}, which this version does not know)`,
    'run that version of rdadmin, or restore the backup taken before the upgrade',
  );
}

/**
 * The migrations stopped on request (`signal`: a signal during start-up) before `migration`: it
 * was rolled back when `begun` (it had begun), else not begun; those applied before it stay.
 */
export class MigrationStopped extends Error {
  constructor(
    readonly migration: string,
    readonly begun: boolean,
    /** The migrations this run applied before the stop. */
    readonly applied: readonly string[],
  ) {
    super(
      begun
        ? `the database migration ${migration} was stopped and rolled back`
        : `the database migrations were stopped before ${migration}`,
    );
    this.name = 'MigrationStopped';
  }
}

export interface MigrateOptions {
  /** Told of each migration as it begins, and of the end (not for a new database: it is made at once). */
  log?: (line: string) => void;
  /**
   * Asks the migrations to stop: the one being applied is rolled back at the end of the statement
   * running (a statement is never cut), and MigrationStopped is thrown.
   */
  signal?: AbortSignal;
}

/**
 * The event loop gets a turn at least this often during a migration (between its statements): the
 * server answers the requests that came meanwhile (503 until it has started), the log is written
 * and a signal is heard. A statement itself (an index over millions of rows) is not cut.
 */
const TURN_MS = 50;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Applies the migrations the database has not, in name order, each in a transaction of its own
 * (BEGIN IMMEDIATE: the statements, then the record, then COMMIT). One the database lacks is
 * applied even when later ones are there: areas land from parallel branches, so a database may
 * have applied a later-numbered migration before an earlier one arrives; every migration is
 * additive and independent of the others.
 */
export async function migrate<T>(
  db: Kysely<T>,
  sqlite: SQLite.Database,
  file: string,
  o: MigrateOptions = {},
): Promise<void> {
  refuseNewer(sqlite, file);
  // The tables kysely's Migrator made (older builds still read them); IF NOT EXISTS: no write
  // when they are there.
  sqlite.exec(`
    CREATE TABLE IF NOT EXISTS "kysely_migration" ("name" varchar(255) not null primary key, "timestamp" varchar(255) not null);
    CREATE TABLE IF NOT EXISTS "kysely_migration_lock" ("id" varchar(255) not null primary key, "is_locked" integer default 0 not null)`);
  if (!sqlite.prepare("SELECT 1 FROM kysely_migration_lock WHERE id = 'migration_lock'").get())
    sqlite.prepare("INSERT INTO kysely_migration_lock (id, is_locked) VALUES ('migration_lock', 0)").run();
  const done = new Set(appliedMigrations(sqlite));
  const pending = MIGRATION_NAMES.filter((name) => !done.has(name));
  if (pending.length === 0) return;
  // A new database is made in a moment; an existing one may take a while (indexes over its logs).
  const log = done.size > 0 ? o.log : undefined;
  const started = performance.now();
  let turn = started;
  const applied: string[] = [];
  /** Between two statements of `name`: a turn of the event loop now and then, and a stop if asked for. */
  const between = async (name: string) => {
    if (performance.now() - turn >= TURN_MS) {
      await nextTurn();
      turn = performance.now();
    }
    if (o.signal?.aborted) throw new MigrationStopped(name, true, [...applied]);
  };
  for (const [i, name] of pending.entries()) {
    const checkpoints: KyselyPlugin = {
      transformQuery: (args) => args.node,
      async transformResult(args) {
        await between(name);
        return args.result;
      },
    };
    log?.(
      `migrating the database${pending.length > 1 ? ` (${i + 1} of ${pending.length})` : ''}: ${name} (${migrations[name]!.about})…`,
    );
    // The line is written (and a signal that came is heard) before the work begins.
    await nextTurn();
    turn = performance.now();
    if (o.signal?.aborted) throw new MigrationStopped(name, false, [...applied]);
    await db.connection().execute(async (conn) => {
      await sql`BEGIN IMMEDIATE`.execute(conn);
      try {
        await migrations[name]!.migration.up(conn.withPlugin(checkpoints));
        await between(name);
        await sql`INSERT INTO kysely_migration (name, timestamp) VALUES (${name}, ${new Date().toISOString()})`.execute(
          conn,
        );
        await sql`COMMIT`.execute(conn);
      } catch (err) {
        // SQLite may have rolled back already (a full disk, an I/O error).
        if (sqlite.inTransaction) await sql`ROLLBACK`.execute(conn);
        if (err instanceof MigrationStopped) throw err;
        const why = (err as Error)?.message ?? String(err);
        const failed = `database migration ${name} failed: ${why} (rolled back: the database is as before it)`;
        throw new Error(failed, { cause: err });
      }
    });
    applied.push(name);
  }
  // A migration's transaction holds all it wrote in the WAL (on a large database, a hundred MB and
  // more, where statements committed one by one held the largest one's): the file is emptied now
  // rather than kept at that size for as long as the server runs.
  if (done.size > 0) sqlite.pragma('wal_checkpoint(TRUNCATE)');
  const seconds = (performance.now() - started) / 1000;
  log?.(
    `database migrated: ${pending.length} migration${pending.length === 1 ? '' : 's'} applied in ${seconds.toFixed(1)} s`,
  );
}
