import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { ConsoleOp, ConsoleType } from './audit';
import { DataFileError } from './data-file-error';
import type { Database } from './db';
import { newGuid } from './ids';

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
/** The way out when that key is lost for good (see forgetSealed). */
const FORGET_FLAG = '--forget-sealed-passwords';
const RESTORE_OR_FORGET = `${RESTORE}; if it is lost for good, start once with ${FORGET_FLAG}: a new key is made and the passwords sealed with the lost one (unreadable without it) are cleared`;

/** Each kind of sealed value: where it is kept, and what the log calls it. */
const SEALED_KINDS = [
  { table: 'address_books', column: 'password_enc', name: 'address-book passwords' },
  { table: 'ab_peers', column: 'password_enc', name: 'peer passwords' },
  { table: 'ab_peers', column: 'hash_enc', name: 'peer password hashes' },
  { table: 'ab_recycle', column: 'password_enc', name: 'recycle-bin peer passwords' },
  { table: 'ab_recycle', column: 'hash_enc', name: 'recycle-bin peer password hashes' },
] as const;

/** Every value sealed with the database's key (address books' and peers' passwords, peers' hashes). */
const SEALED = SEALED_KINDS.map(
  (k) => `SELECT ${k.column} FROM ${k.table} WHERE ${k.column} IS NOT NULL`,
).join(' UNION ALL ');

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
      ? RESTORE_OR_FORGET
      : `${RESTORE}; or delete it: this database holds no sealed passwords yet, so the next start makes a new key`,
  );
}

export interface SecretBoxOptions {
  /**
   * The database's key is lost for good (rdadmin serve --forget-sealed-passwords): when the key
   * found does not belong with the database, is missing or holds no key, make a new one and clear
   * every sealed value it cannot open (see forgetSealed). Refused (DataFileError) when the key
   * belongs: there is nothing to forget.
   */
  forgetSealed?: boolean;
  /** Where the forgetting (and the end of one interrupted) is reported. */
  log?: (line: string) => void;
  now?: () => Date;
}

/**
 * The box for the database `database` opened from `dbFile`: its key lives in `secret.key` beside
 * it. A fresh database gets a new key, and a check value sealed with it (store_meta
 * `secret_check`); every later start opens that value with the key it finds, so a key that does
 * not belong with the database (a backup restored without its key, another server's key) stops
 * the start (DataFileError) instead of every stored password reading as none. A key is made only
 * for a database that holds neither a check value nor sealed values, or when asked to forget the
 * sealed values (`forgetSealed`). A database from before the check value has its sealed values
 * tried instead: the key must open at least one (values sealed with an earlier, lost key may sit
 * beside them), and the check value is then written.
 */
export async function secretBoxFor(
  dbFile: string,
  database: Database,
  opts: SecretBoxOptions = {},
): Promise<SecretBox> {
  if (dbFile === ':memory:' || dbFile === '') return secretBoxWithKey(randomBytes(32));
  const file = join(dirname(dbFile), KEY_FILE);
  const log = opts.log ?? (() => undefined);
  const { db, sqlite } = database;
  const check = (
    await db.selectFrom('store_meta').select('value').where('key', '=', CHECK_KEY).executeTakeFirst()
  )?.value;
  finishForgetting(file, check, log);
  const holdsSealed = check !== undefined || sqlite.prepare(`${SEALED} LIMIT 1`).get() !== undefined;
  let key: Buffer | undefined;
  try {
    key = readKey(file, holdsSealed);
  } catch (err) {
    // A file that holds no key, with sealed values beside it: forgotten with them when asked.
    if (!(err instanceof DataFileError && holdsSealed && opts.forgetSealed)) throw err;
    return forgetSealed(file, database, { why: 'held no key' }, opts, log);
  }
  if (!key) {
    if (holdsSealed) {
      if (opts.forgetSealed) return forgetSealed(file, database, { why: 'was missing' }, opts, log);
      throw new DataFileError(
        `${file} is missing, but this database belongs with the key it held (its stored passwords are sealed with it)`,
        RESTORE_OR_FORGET,
      );
    }
    if (opts.forgetSealed) throw nothingToForget(file);
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
  if (!belongs) {
    if (opts.forgetSealed)
      return forgetSealed(file, database, { why: 'did not belong with this database', key }, opts, log);
    throw new DataFileError(
      `${file} does not belong with this database, which was set up with another key (its stored passwords are sealed with that one)`,
      RESTORE_OR_FORGET,
    );
  }
  if (opts.forgetSealed) throw nothingToForget(file);
  if (check === undefined)
    await db
      .insertInto('store_meta')
      .values({ key: CHECK_KEY, value: box.seal(CHECK_TEXT) })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
  return box;
}

function nothingToForget(file: string): DataFileError {
  return new DataFileError(
    `${FORGET_FLAG}: ${file} belongs with this database, so no stored password is lost: there is nothing to forget`,
    `start without ${FORGET_FLAG}`,
  );
}

/** The new key of a forgetting, written before its database transaction (see forgetSealed). */
const pendingFile = (file: string) => `${file}.forget-pending`;

/** Writes `text` to a new file `path` (mode 0600) and flushes it to the disk. */
function writeDurably(path: string, text: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a folder's entries (the renames in it) to the disk, where the system allows it. */
function syncFolder(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every system opens or syncs a folder; the renames are made all the same.
  }
}

/**
 * Puts the new key of a forgetting in place as `file`: the file there before (if any) is kept
 * beside it as `secret.key.replaced-<UTC time>`. Answers that name, or undefined.
 */
function swapInNewKey(file: string, now: Date): string | undefined {
  let kept: string | undefined;
  if (existsSync(file)) {
    const stamp = now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    kept = `${file}.replaced-${stamp}`;
    for (let n = 2; existsSync(kept); n++) kept = `${file}.replaced-${stamp}-${n}`;
    renameSync(file, kept);
  }
  renameSync(pendingFile(file), file);
  syncFolder(dirname(file));
  return kept;
}

/**
 * A forgetting stopped after its database transaction committed and before its new key was put in
 * place (a crash, a kill): the key in `secret.key.forget-pending` opens the check value, so it is
 * put in place now. One whose transaction did not commit left a key nothing was sealed with:
 * removed.
 */
function finishForgetting(file: string, check: string | undefined, log: (line: string) => void): void {
  const pending = pendingFile(file);
  let text: string;
  try {
    text = readFileSync(pending, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (check !== undefined && key.length === 32 && secretBoxWithKey(key).open(check) === CHECK_TEXT) {
    const kept = swapInNewKey(file, new Date());
    log(
      `${file}: put in place the new key of a ${FORGET_FLAG} start that stopped before it could${kept ? ` (the file found is kept as ${kept})` : ''}`,
    );
  } else rmSync(pending, { force: true });
}

/**
 * `--forget-sealed-passwords`: the database's key is lost for good, so the values sealed with it
 * can never be opened again. Makes a new key; every sealed value the key found (`found`, if any)
 * opens is sealed again with the new key, every other one is cleared (NULL: no password, as it
 * already read); the new check value is recorded, with a console-log entry, in one transaction.
 * The new key is written (and flushed) to `secret.key.forget-pending` before that transaction and
 * put in place after it commits; a start that finds it there finishes the job (finishForgetting).
 * The file found as `secret.key` is kept beside it, renamed. What was cleared is logged, per kind.
 * Two starts must not run this at once: the data-folder lock (serve.lock) must be held before.
 */
function forgetSealed(
  file: string,
  database: Database,
  found: { why: string; key?: Buffer },
  opts: SecretBoxOptions,
  log: (line: string) => void,
): SecretBox {
  const { sqlite } = database;
  const now = opts.now?.() ?? new Date();
  const key = randomBytes(32);
  const box = secretBoxWithKey(key);
  const old = found.key ? secretBoxWithKey(found.key) : undefined;
  rmSync(pendingFile(file), { force: true });
  writeDurably(pendingFile(file), `${key.toString('base64')}\n`);
  const counts = SEALED_KINDS.map((k) => ({ name: k.name, cleared: 0, kept: 0 }));
  const cleared = () => counts.reduce((n, c) => n + c.cleared, 0);
  const kept = () => counts.reduce((n, c) => n + c.kept, 0);
  const perKind = () => counts.map((c) => `${c.name} ${c.cleared}`).join(', ');
  const plural = (n: number) => `${n} sealed value${n === 1 ? '' : 's'}`;
  try {
    sqlite.transaction(() => {
      for (const [i, k] of SEALED_KINDS.entries()) {
        const rows = sqlite
          .prepare(`SELECT rowid AS r, ${k.column} AS v FROM ${k.table} WHERE ${k.column} IS NOT NULL`)
          .all() as { r: number; v: string }[];
        const set = sqlite.prepare(`UPDATE ${k.table} SET ${k.column} = ? WHERE rowid = ?`);
        for (const { r, v } of rows) {
          const plain = old?.open(v) ?? null;
          if (plain === null) counts[i]!.cleared++;
          else counts[i]!.kept++;
          set.run(plain === null ? null : box.seal(plain), r);
        }
      }
      sqlite
        .prepare(
          'INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
        )
        .run(CHECK_KEY, box.seal(CHECK_TEXT));
      // The console log keeps it for good (the server's own change: no operator, no address).
      const detail = `${KEY_FILE} ${found.why}: a new key was made (rdadmin serve ${FORGET_FLAG}); cleared ${plural(cleared())} no key at hand opens (${perKind()})${kept() ? `; kept ${plural(kept())} the file found opens` : ''}`;
      sqlite
        .prepare(
          `INSERT INTO audit_console (guid, typ, iop, operator_guid, operator, operator_fold, ip, detail, created_at)
           VALUES (?, ?, ?, NULL, '', '', '', ?, ?)`,
        )
        .run(
          newGuid(now.getTime()),
          ConsoleType.addressBook,
          ConsoleOp.changeAddressBook,
          detail,
          now.toISOString(),
        );
    })();
  } catch (err) {
    rmSync(pendingFile(file), { force: true });
    throw err;
  }
  const replaced = swapInNewKey(file, now);
  log(
    `${FORGET_FLAG}: ${file} ${found.why}: made a new key${replaced ? ` (the file found is kept as ${replaced})` : ''}`,
  );
  log(`${FORGET_FLAG}: cleared ${plural(cleared())} that no key at hand opens: ${perKind()}`);
  if (kept())
    log(`${FORGET_FLAG}: kept ${plural(kept())} that the file found opens, sealed again with the new key`);
  return box;
}

/** Whether `box` opens one of `values` (leaving the loop early ends the statement's iteration). */
function opensAny(box: SecretBox, values: Iterable<string>): boolean {
  for (const v of values) if (box.open(v) !== null) return true;
  return false;
}
