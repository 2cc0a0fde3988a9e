import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  statSync,
} from 'node:fs';
import { userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { makeFolders } from '../../folders';
import { DataFileError } from './data-file-error';
import { fold } from './like';
import { type MigrateOptions, migrate, refuseNewer } from './migrations';
import type { DB } from './schema';

export interface Database {
  db: Kysely<DB>;
  sqlite: SQLite.Database;
  /** Fixed SQL on the same connection as `db` (and within its transactions). */
  fixed: FixedSql;
  /**
   * Checkpoints the WAL and empties its file, after work that wrote much (a large retention pass),
   * without waiting: while another process reads (a backup), it does what it can now and the rest
   * follows with the automatic checkpoints. Whether the file was emptied.
   */
  truncateWal(): Promise<boolean>;
  close(): Promise<void>;
}

/** How long a statement waits for a lock another process holds on the file. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * The size the WAL file is cut back to once its content is checkpointed (when it starts again
 * from its beginning): some work (a migration, a long read by another process meanwhile) grows it
 * well past what the automatic checkpoints keep it at (about 4 MB), and without a limit its file
 * stays at its largest for as long as the server runs.
 */
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query afresh; SQLite's parse and plan then cost more than running the
 * query itself. This hands Kysely a view of the database whose prepare() reuses statements by SQL
 * text (the same query shape always compiles to the same SQL; values are bound parameters).
 * Bounded: the least recently prepared statement is dropped first. A statement still being
 * iterated (busy) is never handed out twice.
 */
export function withStatementCache(sqlite: SQLite.Database): {
  prepare(sql: string): SQLite.Statement;
  close(): void;
} {
  const cache = new Map<string, SQLite.Statement>();
  return {
    prepare(sql) {
      const hit = cache.get(sql);
      if (hit && !hit.busy) {
        cache.delete(sql);
        cache.set(sql, hit);
        return hit;
      }
      const stmt = sqlite.prepare(sql);
      if (!hit) {
        cache.set(sql, stmt);
        if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      return stmt;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
  };
}

/**
 * The data folder, made if missing: readable by its owner only (it holds every password hash,
 * session and the secret key). Its parents are made as usual; a folder that exists keeps its mode
 * (its owner chose it).
 */
export function makeDataDir(dir: string): void {
  makeFolders(dirname(dir));
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * The database file (and its -wal and -shm files) readable and writable by its owner only: made
 * with mode 0600 when missing, group and other bits taken away when present. SQLite gives the
 * -wal and -shm files it makes the mode of the database file.
 */
function ownerOnly(file: string, create: boolean): void {
  if (create) {
    try {
      closeSync(openSync(file, 'wx', 0o600));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((mode & 0o077) === 0) return;
  try {
    chmodSync(file, mode & 0o700);
  } catch (err) {
    // Not this user's file (it may still write to it through its group): its owner decides.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
}

/**
 * Writes to the database (its user_version, unchanged) and commits, so that a database this user
 * cannot write fails here, at the start, rather than in every request after the server said it
 * was listening. Only a real write tells: SQLite opens a file it may not write read-only without a
 * word and even begins an IMMEDIATE transaction on it; mode bits do not bind root, and an
 * immutable file or a read-only mount binds everyone.
 */
function mustWrite(sqlite: SQLite.Database): void {
  const version = Number(sqlite.pragma('user_version', { simple: true }));
  sqlite.pragma(`user_version = ${version}`);
}

function runningUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * What a failed write at open means, as an error naming the file or folder and the fix; undefined
 * for other failures. SQLITE_READONLY: the database file itself may not be written. A folder it
 * may not write in: SQLite cannot make the -wal and -shm files beside the database
 * (SQLITE_READONLY_DIRECTORY, or SQLITE_CANTOPEN where the folder is immutable).
 */
function readOnly(file: string, err: unknown): DataFileError | undefined {
  const code = String((err as { code?: unknown })?.code ?? '');
  const user = runningUser();
  if (code === 'SQLITE_READONLY')
    return new DataFileError(
      `the database ${file} is read-only: the server cannot write to it (${code})`,
      `make it writable by the user running the server (${user}), or pass --data-dir with a folder this user may write`,
    );
  if (code.startsWith('SQLITE_READONLY_') || code === 'SQLITE_CANTOPEN') {
    const dir = dirname(file);
    const name = basename(file);
    const fileToo = writable(file) ? '' : ` (and ${name} in it is read-only too)`;
    return new DataFileError(
      `cannot write in the data folder ${dir}: SQLite keeps ${name}-wal and ${name}-shm there beside the database${fileToo} (${code})`,
      `make the folder writable by the user running the server (${user})${fileToo ? ', and the database file too' : ''}, or pass --data-dir with a folder this user may write`,
    );
  }
  return undefined;
}

/**
 * What a failure to make a file in the data folder itself means (serve.lock, taken before the
 * database is opened), as an error naming the folder and the fix; undefined for other failures.
 */
export function unwritableFolder(dir: string, err: unknown): DataFileError | undefined {
  const code = String((err as { code?: unknown })?.code ?? '');
  if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') return undefined;
  const file = join(dir, 'db.sqlite3');
  const fileToo = existsSync(file) && !writable(file) ? ' (and db.sqlite3 in it is read-only too)' : '';
  return new DataFileError(
    `cannot write in the data folder ${dir}: the server keeps serve.lock there, and SQLite db.sqlite3-wal and -shm beside the database${fileToo} (${code})`,
    `make the folder writable by the user running the server (${runningUser()})${fileToo ? ', and the database file too' : ''}, or pass --data-dir with a folder this user may write`,
  );
}

/**
 * kysely's SQLite dialect, except that a transaction SQLite has already rolled back itself (it
 * does on a full disk, SQLITE_FULL, and on I/O errors) is not rolled back again: that ROLLBACK
 * fails with "cannot rollback - no transaction is active", and its error would replace the one
 * that says what happened.
 */
function keepingErrors(
  sqlite: SQLite.Database,
  database: ReturnType<typeof withStatementCache>,
): SqliteDialect {
  return new (class extends SqliteDialect {
    override createDriver() {
      const driver = super.createDriver();
      const rollback = driver.rollbackTransaction.bind(driver);
      driver.rollbackTransaction = async (connection) => {
        if (sqlite.inTransaction) await rollback(connection);
      };
      return driver;
    }
  })({ database });
}

/**
 * Opens (creating if needed) the SQLite file in WAL mode and brings its schema up to date (see
 * migrations.ts: `o` hears of the migrations applied, and may stop them). A database a newer
 * rdadmin has migrated is refused before anything is written to it.
 */
export async function openDatabase(file: string, o: MigrateOptions = {}): Promise<Database> {
  const onDisk = file !== ':memory:' && file !== '';
  if (onDisk) {
    makeDataDir(dirname(file));
    ownerOnly(file, true);
    // Left by a server that did not close cleanly, maybe before their modes were kept tight.
    ownerOnly(`${file}-wal`, false);
    ownerOnly(`${file}-shm`, false);
  }
  const sqlite = new SQLite(file);
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  try {
    sqlite.pragma('journal_mode = WAL');
    refuseNewer(sqlite, file);
    if (onDisk) mustWrite(sqlite);
  } catch (err) {
    sqlite.close();
    throw readOnly(file, err) ?? err;
  }
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
  sqlite.pragma('foreign_keys = ON');
  // The folding of like.ts, for values SQL reads out of JSON text (stored columns are folded already).
  sqlite.function('rd_fold', { deterministic: true }, (s: unknown) =>
    typeof s === 'string' ? fold(s) : null,
  );
  const db = new Kysely<DB>({ dialect: keepingErrors(sqlite, withStatementCache(sqlite)) });
  try {
    await migrate(db, sqlite, file, o);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const fixed = new FixedSql(db, sqlite);
  return {
    db,
    sqlite,
    fixed,
    truncateWal: () =>
      fixed.run(() => {
        sqlite.pragma('busy_timeout = 0');
        try {
          const [r] = sqlite.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
          return r?.busy === 0;
        } finally {
          sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
        }
      }),
    async close() {
      await db.destroy();
    },
  };
}

/**
 * A write refused by a constraint because another request changed the same records at the same
 * moment (two creates of one name, a delete under an assignment): what kind, else undefined.
 */
export function constraintViolation(err: unknown): 'unique' | 'reference' | undefined {
  const code = (err as { code?: unknown })?.code;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'unique';
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'reference';
  return undefined;
}

export type Param = string | number | bigint | null;

interface Run {
  /** The rows as arrays of column values, in the order selected. */
  rows(text: string, params?: readonly Param[]): unknown[][];
  /**
   * The rows as objects keyed by column name, as better-sqlite3 would make them, made from arrays
   * in JS instead: about a third faster for a page of 100 rows of 19 columns (532 → 365 µs).
   */
  records<R>(text: string, params?: readonly Param[]): R[];
  /** The first row as an object, or undefined. */
  row<R>(text: string, params?: readonly Param[]): R | undefined;
  /** The first column of the first row. */
  value(text: string, params?: readonly Param[]): unknown;
  /** Runs a write; how many rows it changed. */
  write(text: string, params?: readonly Param[]): number;
}

/**
 * Fixed SQL text run on prepared statements directly, for the hottest paths (authentication, the
 * users list): building a query with Kysely costs more there than running it, and rows as arrays
 * cost a third less than rows as objects. Each call holds the database connection the way Kysely
 * does: inside the running transaction when `db` is one, else after any running transaction has
 * ended (a query must never see another request's uncommitted writes). Repositories keep it beside
 * their `db`; `inTransaction` rebinds it with them. Its statements are its own (their row mode is
 * set per call), apart from Kysely's cache. Most texts are fixed; a device listing's page (built by
 * Kysely, read here as arrays) has a text per combination of filters, so the cache is bounded like
 * Kysely's: the least recently used statement is dropped first.
 */
export class FixedSql {
  private readonly statements = new Map<string, SQLite.Statement>();

  constructor(
    readonly db: Kysely<DB>,
    private readonly sqlite: SQLite.Database,
  ) {}

  private stmt(text: string): SQLite.Statement {
    let s = this.statements.get(text);
    if (s)
      this.statements.delete(text); // set again below: the most recently used last
    else {
      s = this.sqlite.prepare(text);
      if (this.statements.size >= STATEMENT_CACHE_SIZE)
        this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(text, s);
    return s;
  }

  /** Per statement, the function making a record of one of its rows (see Run.records). */
  private readonly makers = new WeakMap<SQLite.Statement, (row: unknown[]) => unknown>();

  private maker(s: SQLite.Statement): (row: unknown[]) => unknown {
    let make = this.makers.get(s);
    if (!make) {
      const names = s.columns().map((c) => c.name);
      make = (row) => {
        const record: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) record[names[i]!] = row[i];
        return record;
      };
      // A column named __proto__ would set the record's prototype by assignment.
      if (names.includes('__proto__')) make = (row) => Object.fromEntries(names.map((n, i) => [n, row[i]]));
      this.makers.set(s, make);
    }
    return make;
  }

  private readonly on: Run = {
    rows: (text, params = []) =>
      this.stmt(text)
        .raw(true)
        .all(...params) as unknown[][],
    records: <R>(text: string, params: readonly Param[] = []) => {
      const s = this.stmt(text);
      return (s.raw(true).all(...params) as unknown[][]).map(this.maker(s)) as R[];
    },
    row: <R>(text: string, params: readonly Param[] = []) =>
      this.stmt(text)
        .pluck(false)
        .raw(false)
        .get(...params) as R | undefined,
    value: (text, params = []) =>
      this.stmt(text)
        .pluck(true)
        .get(...params),
    write: (text, params = []) => this.stmt(text).run(...params).changes,
  };

  /** Runs `fn` (synchronous statements only) holding the connection. */
  run<T>(fn: (q: Run) => T): Promise<T> {
    if (this.db.isTransaction) return Promise.resolve().then(() => fn(this.on));
    return this.db.connection().execute(async () => fn(this.on));
  }
}
