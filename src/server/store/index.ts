import { AuditRepo } from './audit';
import { AuthRepo } from './auth';
import { type Database, openDatabase } from './db';
import { DeviceRepo } from './devices';
import { SettingsRepo } from './settings';
import { StrategyRepo } from './strategies';
import { UserRepo } from './users';

export interface Store {
  users: UserRepo;
  auth: AuthRepo;
  audit: AuditRepo;
  devices: DeviceRepo;
  settings: SettingsRepo;
  strategies: StrategyRepo;
  database: Database;
  close(): Promise<void>;
}

export async function openStore(file: string, now: () => Date = () => new Date()): Promise<Store> {
  const database = await openDatabase(file);
  return {
    users: new UserRepo(database.db, now),
    auth: new AuthRepo(database.db, now),
    audit: new AuditRepo(database.db, now),
    devices: new DeviceRepo(database.db, now),
    settings: new SettingsRepo(database.db),
    strategies: new StrategyRepo(database.db, now),
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
    for (const [key, repo] of Object.entries(store)) {
      if (key === 'database' || repo === null || typeof repo !== 'object' || !('db' in repo)) continue;
      tx[key] = Object.assign(Object.create(Object.getPrototypeOf(repo) as object), repo, { db: trx });
    }
    return fn(tx as unknown as Store);
  });
}
