import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataFileError } from './data-file-error';
import type { Database } from './db';

// Secrets the server must hand back later (address-book peer passwords, which the RustDesk client
// uses to connect) cannot be hashed; they are sealed with AES-256-GCM under a key kept in its own
// file next to the database (mode 0600), so a copy of the database alone does not reveal them.
// The database keeps a check value sealed with that key, so a key that does not belong with it is
// found at start-up (see secretBoxFor).

export interface SecretBox {
  seal(plain: string): string;
  /** The plain text, or null when the value is absent or cannot be opened (another key). */
  open(sealed: string | null): string | null;
}

const VERSION = 'v1';

export function secretBoxWithKey(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('the secret key must be 32 bytes');
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
    },
    open(sealed) {
      if (!sealed?.startsWith(`${VERSION}:`)) return null;
      try {
        const raw = Buffer.from(sealed.slice(VERSION.length + 1), 'base64');
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        return null;
      }
    },
  };
}

const KEY_FILE = 'secret.key';
/** The store_meta row holding CHECK_TEXT sealed with the database's key. */
const CHECK_KEY = 'secret_check';
const CHECK_TEXT = 'rdadmin secret.key check';
const RESTORE = `restore the ${KEY_FILE} that belongs with this database (from the same backup as db.sqlite3)`;

/** Every value sealed with the database's key (address books' and peers' passwords, peers' hashes). */
const SEALED = `
  SELECT password_enc FROM address_books WHERE password_enc IS NOT NULL
  UNION ALL SELECT password_enc FROM ab_peers WHERE password_enc IS NOT NULL
  UNION ALL SELECT hash_enc FROM ab_peers WHERE hash_enc IS NOT NULL
  UNION ALL SELECT password_enc FROM ab_recycle WHERE password_enc IS NOT NULL
  UNION ALL SELECT hash_enc FROM ab_recycle WHERE hash_enc IS NOT NULL`;

/** The key in `file`: undefined when there is none, a DataFileError when it holds no key. */
function readKey(file: string, sealedData: boolean): Buffer | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (/^[A-Za-z0-9+/]{43}=$/.test(text.trim()) && key.length === 32) return key;
  throw new DataFileError(
    `${file} does not hold a key: it must be 32 bytes in base64, on one line`,
    sealedData
      ? RESTORE
      : `${RESTORE}; or delete it: this database holds no sealed passwords yet, so the next start makes a new key`,
  );
}

/**
 * The box for the database `database` opened from `dbFile`: its key lives in `secret.key` beside
 * it. A fresh database gets a new key, and a check value sealed with it (store_meta
 * `secret_check`); every later start opens that value with the key it finds, so a key that does
 * not belong with the database (a backup restored without its key, another server's key) stops
 * the start (DataFileError) instead of every stored password reading as none. A key is made only
 * for a database that holds neither a check value nor sealed values. A database from before the
 * check value has its sealed values tried instead: the key must open at least one (values sealed
 * with an earlier, lost key may sit beside them), and the check value is then written.
 */
export async function secretBoxFor(dbFile: string, database: Database): Promise<SecretBox> {
  if (dbFile === ':memory:' || dbFile === '') return secretBoxWithKey(randomBytes(32));
  const file = join(dirname(dbFile), KEY_FILE);
  const { db, sqlite } = database;
  const check = (
    await db.selectFrom('store_meta').select('value').where('key', '=', CHECK_KEY).executeTakeFirst()
  )?.value;
  const holdsSealed = check !== undefined || sqlite.prepare(`${SEALED} LIMIT 1`).get() !== undefined;
  let key = readKey(file, holdsSealed);
  if (!key) {
    if (holdsSealed)
      throw new DataFileError(
        `${file} is missing, but this database belongs with the key it held (its stored passwords are sealed with it)`,
        RESTORE,
      );
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    key = readKey(file, false)!;
  }
  const box = secretBoxWithKey(key);
  const belongs =
    check !== undefined
      ? box.open(check) === CHECK_TEXT
      : !holdsSealed || opensAny(box, sqlite.prepare(SEALED).pluck().iterate() as Iterable<string>);
  if (!belongs)
    throw new DataFileError(
      `${file} does not belong with this database, which was set up with another key (its stored passwords are sealed with that one)`,
      RESTORE,
    );
  if (check === undefined)
    await db
      .insertInto('store_meta')
      .values({ key: CHECK_KEY, value: box.seal(CHECK_TEXT) })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
  return box;
}

/** Whether `box` opens one of `values` (leaving the loop early ends the statement's iteration). */
function opensAny(box: SecretBox, values: Iterable<string>): boolean {
  for (const v of values) if (box.open(v) !== null) return true;
  return false;
}
