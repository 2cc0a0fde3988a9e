import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/server/store';
import { DataFileError } from '../../src/server/store/data-file-error';
import { asBefore0013, folderPrint, migrationState } from '../helpers/older-db';

// The schema migrations run when a database is opened (migrations.ts), on real SQLite files: each
// migration applies whole or not at all, with its record; the start-up says which it applies; a
// database a newer rdadmin migrated is refused untouched. (Stopping a start-up during a migration,
// by a signal or a kill: serve-lifecycle.test.ts.)

let root: string;
/** A data folder made by this version (every migration applied), copied by each test. */
let current: string;
/** Its migrations, in name order. */
let all: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rdadmin-migrations-'));
  current = join(root, 'current');
  await (await openStore(join(current, 'db.sqlite3'))).close();
  all = migrationState(join(current, 'db.sqlite3')).applied;
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** A copy of `current` (its database and secret.key): its db.sqlite3. */
async function copyOfCurrent(name: string): Promise<string> {
  await mkdir(join(root, name));
  for (const f of ['db.sqlite3', 'secret.key']) await copyFile(join(current, f), join(root, name, f));
  return join(root, name, 'db.sqlite3');
}

describe('each migration applies whole or not at all', () => {
  it('a migration that fails part-way is rolled back whole and not recorded; the next start applies it', async () => {
    const file = await copyOfCurrent('fails');
    asBefore0013(file, 100);
    // An index of the name 0013 creates after its table, trigram index and triggers: it fails there.
    const raw = new Database(file);
    raw.exec('CREATE INDEX audit_conn_device_id ON audit_conn(conn_id)');
    raw.close();
    await expect(openStore(file)).rejects.toThrow(
      /^database migration 0013_audit_ids failed: index audit_conn_device_id already exists/,
    );
    // Nothing of 0013 is left but the index in the way: not its table, nor its triggers.
    expect(migrationState(file)).toEqual({
      applied: all.filter((n) => n !== '0013_audit_ids'),
      objects0013: 1,
    });
    const fix = new Database(file);
    fix.exec('DROP INDEX audit_conn_device_id');
    fix.close();
    const lines: string[] = [];
    const store = await openStore(file, undefined, { log: (l) => lines.push(l) });
    try {
      expect((await store.auditLogs.listConn({ remote: '000000042' }, 0, 10)).total).toBe(1);
    } finally {
      await store.close();
    }
    expect(migrationState(file).applied).toEqual(all);
    expect(lines[0]).toBe('migrating the database: 0013_audit_ids (audit-log ID index)…');
    expect(lines[1]).toMatch(/^database migrated: 1 migration applied in \d+\.\d s$/);
    expect(lines).toHaveLength(2);
  });

  it('the start-up says which migrations it applies, one line each, then how long it took; a new database says nothing', async () => {
    const file = await copyOfCurrent('lines');
    const raw = new Database(file);
    // Before 0015 and 0017: their columns dropped, their records deleted.
    raw.exec(`ALTER TABLE devices DROP COLUMN strategy_keys;
      ALTER TABLE devices DROP COLUMN device_name_set; ALTER TABLE devices DROP COLUMN device_username_set;
      DELETE FROM kysely_migration WHERE name IN ('0015_strategy_keys', '0017_device_name_set')`);
    raw.close();
    const lines: string[] = [];
    await (await openStore(file, undefined, { log: (l) => lines.push(l) })).close();
    expect(lines.slice(0, 2)).toEqual([
      'migrating the database (1 of 2): 0015_strategy_keys (options sent by strategies)…',
      'migrating the database (2 of 2): 0017_device_name_set (device names set by an administrator)…',
    ]);
    expect(lines[2]).toMatch(/^database migrated: 2 migrations applied in \d+\.\d s$/);
    expect(lines).toHaveLength(3);
    expect(migrationState(file).applied).toEqual(all);

    const fresh: string[] = [];
    await (
      await openStore(join(root, 'fresh', 'db.sqlite3'), undefined, { log: (l) => fresh.push(l) })
    ).close();
    expect(fresh).toEqual([]);
  });
});

describe('a database a newer rdadmin has migrated', () => {
  it('is refused (a DataFileError naming the migration it does not know), and left exactly as it was', async () => {
    const file = await copyOfCurrent('future');
    const raw = new Database(file);
    raw
      .prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)')
      .run('0018_future', '2027-01-01T00:00:00.000Z');
    raw.close();
    const dir = join(root, 'future');
    const before = folderPrint(dir);
    const err = await openStore(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataFileError);
    expect((err as DataFileError).message).toBe(
      `the database ${file} was upgraded by a newer rdadmin (it has migration 0018_future, which this version does not know)`,
    );
    expect((err as DataFileError).hint).toBe(
      'run that version of rdadmin, or restore the backup taken before the upgrade',
    );
    expect(folderPrint(dir)).toEqual(before);
  });
});
