import { AccessMemo } from './access-memo';
import { AddressBookRepo } from './address-books';
import { AuditRepo } from './audit';
import { AuditLogRepo, logMemos } from './audit-logs';
import { AuthRepo } from './auth';
import { type Database, openDatabase } from './db';
import { DeviceRepo } from './devices';
import { GroupRepo } from './groups';
import { LoginThrottleRepo } from './login-throttle';
import type { MigrateOptions } from './migrations';
import { type SecretBox, type SecretBoxOptions, secretBoxFor } from './secret-box';
import { SettingsRepo } from './settings';
import { StrategyRepo } from './strategies';
import { UserRepo } from './users';

export interface Store {
  users: UserRepo;
  auth: AuthRepo;
  audit: AuditRepo;
  /** Client audit posts, console-log queries, retention. */
  auditLogs: AuditLogRepo;
  devices: DeviceRepo;
  settings: SettingsRepo;
  groups: GroupRepo;
  strategies: StrategyRepo;
  addressBooks: AddressBookRepo;
  /** The login guard's failed-login counters. */
  loginThrottle: LoginThrottleRepo;
  database: Database;
  close(): Promise<void>;
}

/**
 * Opens the database in `file` (see openDatabase: `o` hears of the migrations, and may stop them;
 * `forgetSealed` is the way out when secret.key is lost for good, see secretBoxFor).
 */
export async function openStore(
  file: string,
  now: () => Date = () => new Date(),
  o: MigrateOptions & Pick<SecretBoxOptions, 'forgetSealed'> = {},
): Promise<Store> {
  const database = await openDatabase(file, { log: o.log, signal: o.signal });
  let secrets: SecretBox;
  try {
    secrets = await secretBoxFor(file, database, { forgetSealed: o.forgetSealed, log: o.log, now });
  } catch (err) {
    await database.close();
    throw err;
  }
  const audit = new AuditRepo(database.db, now, database.fixed);
  return {
    users: new UserRepo(database.db, now, database.fixed),
    auth: new AuthRepo(database.db, now, database.fixed),
    audit,
    auditLogs: new AuditLogRepo(database.db, now, logMemos(database.sqlite), database.fixed),
    devices: new DeviceRepo(database.db, now, database.fixed, new AccessMemo(database.sqlite)),
    settings: new SettingsRepo(database.db),
    groups: new GroupRepo(database.db, now),
    strategies: new StrategyRepo(database.db, now),
    addressBooks: new AddressBookRepo(database.db, now, secrets, audit),
    loginThrottle: new LoginThrottleRepo(database.db),
    database,
    close: () => database.close(),
  };
}

/**
 * Runs `fn` in one SQLite transaction with a Store whose repositories all use it, so a change and
 * its audit record are written together or not at all (a crash between them leaves neither).
 * Repositories keep their Kysely handle in `db` (the house pattern); each is cloned onto the
 * transaction. Inside `fn` use only `tx`: the outer store waits for the transaction to end.
 * Keep `fn` to database work (no password hashing): the transaction holds the connection.
 */
export function inTransaction<T>(store: Store, fn: (tx: Store) => Promise<T>): Promise<T> {
  return store.database.db.transaction().execute(async (trx) => {
    const tx: Record<string, unknown> = { ...store };
    const clones = new Map<object, object>();
    for (const [key, repo] of Object.entries(store)) {
      if (key === 'database' || repo === null || typeof repo !== 'object' || !('db' in repo)) continue;
      const clone = Object.assign(Object.create(Object.getPrototypeOf(repo) as object), repo, { db: trx });
      clones.set(repo, clone);
      tx[key] = clone;
    }
    // A repository that holds another (e.g. address books → settings, audit) must use the
    // transaction too: a query on the root connection would wait for this transaction forever.
    const rebind = (value: unknown): unknown => {
      if (value === null || typeof value !== 'object') return value;
      const known = clones.get(value);
      if (known) return known;
      if ((value as { db?: unknown }).db !== store.database.db) return value;
      const clone = Object.assign(Object.create(Object.getPrototypeOf(value) as object), value, { db: trx });
      clones.set(value, clone);
      return clone;
    };
    for (const clone of [...clones.values()]) {
      for (const [prop, value] of Object.entries(clone))
        (clone as Record<string, unknown>)[prop] = rebind(value);
    }
    return fn(tx as unknown as Store);
  });
}
