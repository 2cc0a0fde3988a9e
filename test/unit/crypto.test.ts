import { describe, expect, it } from 'vitest';
import { hashPassword, hashToken, verifyPassword } from '../../src/server/crypto';

describe('password hashing', () => {
  it('verifies the right password only', async () => {
    const h = await hashPassword('password123');
    expect(h).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword('password123', h)).toBe(true);
    expect(await verifyPassword('password124', h)).toBe(false);
    expect(await verifyPassword('password123', 'scrypt$garbage')).toBe(false);
  });

  it('without a stored hash (unknown or invited user) the answer is false', async () => {
    expect(await verifyPassword('anything', null)).toBe(false);
    expect(await verifyPassword('', null)).toBe(false);
  });

  it('hashes tokens with SHA-256', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
