import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOGIN_LIMITS, LoginGuard } from '../../src/server/login-guard';
import { openStore, type Store } from '../../src/server/store';

// The login guard's counters in the database (login_throttle): what is written, what a new guard
// reads back, and what is forgotten. The route-level behaviour across a restart is in
// login-protection.test.ts.

const T0 = Date.parse('2026-05-04T08:00:00Z');
let now = T0;
const clock = () => new Date(now);
let dir: string;
let store: Store;

beforeEach(async () => {
  now = T0;
  dir = await mkdtemp(join(tmpdir(), 'rdadmin-throttle-'));
  store = await openStore(join(dir, 'db.sqlite3'), clock);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function keys(): string[] {
  return store.database.sqlite
    .prepare('SELECT key FROM login_throttle ORDER BY key')
    .pluck()
    .all() as string[];
}

describe('login_throttle', () => {
  it('keeps at most maxKeys keys: the least recently used is evicted from memory and the table', async () => {
    const guard = new LoginGuard(clock, LOGIN_LIMITS, store.loginThrottle, 3);
    for (const k of ['a', 'b', 'c']) {
      now += 1_000;
      await guard.fail([k]);
    }
    now += 1_000;
    await guard.blocked(['a']); // a is used again, so b is now the oldest
    now += 1_000;
    await guard.fail(['d']);
    expect(keys()).toEqual(['a', 'c', 'd']);
  });

  it('a new guard reads the counters back; keys unchanged for a week are dropped', async () => {
    const first = new LoginGuard(clock, LOGIN_LIMITS, store.loginThrottle);
    await first.fail(['user:old']);
    now += 8 * 24 * 3_600_000;
    for (let i = 0; i < LOGIN_LIMITS.perMinute; i++) await first.fail(['user:bob']);
    expect(await first.blocked(['user:bob'])).toEqual({ key: 'user:bob', until: now + 60_000 });

    const second = new LoginGuard(clock, LOGIN_LIMITS, store.loginThrottle);
    expect(await second.blocked(['user:bob'])).toEqual({ key: 'user:bob', until: now + 60_000 });
    expect(keys()).toEqual(['user:bob']);
    // The consecutive run carried over too: one more failure makes seven in a row.
    now += 3_600_000;
    const report = await second.fail(['user:bob']);
    expect(report.consecutive).toBe(LOGIN_LIMITS.perMinute + 1);
  });

  it('a damaged row reads as no failures, not as an error', async () => {
    store.database.sqlite
      .prepare('INSERT INTO login_throttle (key, failures, consecutive, updated_at) VALUES (?, ?, ?, ?)')
      .run('ip:10.0.0.1', '{not json', 4, now);
    const guard = new LoginGuard(clock, LOGIN_LIMITS, store.loginThrottle);
    expect(await guard.blocked(['ip:10.0.0.1'])).toBeUndefined();
    expect((await guard.fail(['ip:10.0.0.1'])).consecutive).toBe(5);
  });
});
