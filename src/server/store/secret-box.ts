import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

// Secrets the server must hand back later (address-book peer passwords, which the RustDesk client
// uses to connect) cannot be hashed; they are sealed with AES-256-GCM under a key kept in its own
// file next to the database (mode 0600), so a copy of the database alone does not reveal them.

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

/** The box for a database file: its key lives in `secret.key` beside it (created on first use). */
export function secretBoxFor(dbFile: string): SecretBox {
  if (dbFile === ':memory:') return secretBoxWithKey(randomBytes(32));
  const file = join(dirname(dbFile), 'secret.key');
  if (!existsSync(file)) {
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return secretBoxWithKey(key);
}
