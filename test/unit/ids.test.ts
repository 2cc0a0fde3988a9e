import { describe, expect, it } from 'vitest';
import { newGuid } from '../../src/server/store/ids';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newGuid', () => {
  it('is a UUIDv7: version 7, RFC 9562 variant, the time in its first 48 bits', () => {
    const now = Date.UTC(2026, 10, 27, 1, 2, 3, 456);
    const g = newGuid(now);
    expect(g).toMatch(V7);
    expect(Number.parseInt(g.replace(/-/g, '').slice(0, 12), 16)).toBe(now);
    expect(newGuid(0).startsWith('00000000-0000-7')).toBe(true);
  });

  it('sorts by time, and differs within one millisecond', () => {
    const a = newGuid(1_700_000_000_000);
    const b = newGuid(1_700_000_000_001);
    expect(a < b).toBe(true);
    const same = new Set(Array.from({ length: 10_000 }, () => newGuid(1_700_000_000_000)));
    expect(same.size).toBe(10_000);
    for (const g of same) expect(g).toMatch(V7);
  });
});
