import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withStatementCache } from '../../src/server/store/db';

let sqlite: SQLite.Database;
beforeEach(() => {
  sqlite = new SQLite(':memory:');
  sqlite.exec('CREATE TABLE t (n INTEGER)');
  sqlite.prepare('INSERT INTO t VALUES (1), (2), (3)').run();
});
afterEach(() => {
  if (sqlite.open) sqlite.close();
});

describe('withStatementCache', () => {
  it('hands out the same prepared statement for the same SQL, with fresh parameters each run', () => {
    const db = withStatementCache(sqlite);
    const a = db.prepare('SELECT n FROM t WHERE n >= ? ORDER BY n');
    const b = db.prepare('SELECT n FROM t WHERE n >= ? ORDER BY n');
    expect(b).toBe(a);
    expect(b.all(2)).toEqual([{ n: 2 }, { n: 3 }]);
    expect(a.all(3)).toEqual([{ n: 3 }]);
    expect(db.prepare('SELECT n FROM t WHERE n < ?')).not.toBe(a);
  });

  it('never shares a statement that is still being iterated', () => {
    const db = withStatementCache(sqlite);
    const sql = 'SELECT n FROM t ORDER BY n';
    const outer = db.prepare(sql).iterate() as IterableIterator<{ n: number }>;
    expect(outer.next().value).toEqual({ n: 1 });
    const inner = db.prepare(sql);
    expect(inner.all()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect([...outer].map((r) => r.n)).toEqual([2, 3]);
  });

  it('keeps at most 500 statements, dropping the least recently used', () => {
    const db = withStatementCache(sqlite);
    const first = db.prepare('SELECT 0');
    const one = db.prepare('SELECT 1');
    for (let i = 2; i <= 499; i++) db.prepare(`SELECT ${i}`);
    expect(db.prepare('SELECT 0')).toBe(first); // used again: now the most recent
    db.prepare('SELECT 500');
    db.prepare('SELECT 501');
    expect(db.prepare('SELECT 0')).toBe(first);
    const again = db.prepare('SELECT 1');
    expect(again).not.toBe(one); // dropped: prepared afresh
    expect(db.prepare('SELECT 1')).toBe(again);
  });

  it('closes the database', () => {
    withStatementCache(sqlite).close();
    expect(sqlite.open).toBe(false);
  });
});
