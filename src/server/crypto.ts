import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

// Passwords: scrypt (N=2^14, r=8, p=1, 16-byte salt, 32-byte key), encoded as
// `scrypt$N$r$p$salt$key` so the cost can be raised later without breaking old hashes.
// Tokens: 32 random bytes; only their SHA-256 is stored, so lookup is by hash.

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEYLEN, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Checks a password against its stored scrypt hash (constant-time comparison of the keys). */
export async function verifyPassword(password: string, encoded: string | null): Promise<boolean> {
  if (!encoded) return false;
  const [alg, n, r, p, salt, key] = encoded.split('$');
  if (alg !== 'scrypt' || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

let decoy: Promise<string> | undefined;

/**
 * Checks a login password in the same time whether or not the account has a password (or exists):
 * without one, the password is checked against a decoy hash, so timing does not tell which user
 * names exist. The key comparison itself is constant-time (timingSafeEqual).
 */
export async function checkPassword(password: string, encoded: string | null | undefined): Promise<boolean> {
  if (encoded) return verifyPassword(password, encoded);
  decoy ??= hashPassword(randomBytes(16).toString('base64'));
  await verifyPassword(password, await decoy);
  return false;
}

/** A fresh secret with a kind prefix (`rdt_` API token, `rds_` session, `rdi_` invitation). */
export function newSecret(prefix: 'rdt' | 'rds' | 'rdi'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
