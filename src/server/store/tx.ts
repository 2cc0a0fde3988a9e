import type { Kysely, Transaction } from 'kysely';
import type { DB } from './schema';

/**
 * Runs `fn` in a transaction: the running one when `db` already is a transaction (a repository
 * used inside `inTransaction`), else a new one. Kysely refuses to nest transactions, and with
 * one SQLite connection a query outside a running transaction would wait for it forever.
 */
export function transact<T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db as Transaction<DB>);
  return db.transaction().execute(fn);
}
