import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createLock,
  type LockHolder,
  readLock,
  releaseLock,
  tryLock,
  type Verdict,
} from '../../src/lock-file';

// The lock files of serve.lock and config.json.lock (many processes at once: the integration tests
// serve-lifecycle and config-writers).

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rdadmin-lock-'));
  file = join(dir, 'the.lock');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DEAD = 2147483646;
const mine = `${process.pid}\n`;
/** Gone when it names a dead pid, or none; held otherwise. */
const judge = (h: LockHolder): Verdict => (h.pid === undefined || h.pid === DEAD ? 'stale' : 'held');

describe('lock files', () => {
  it('are created whole, once; no file of the making is left beside them', () => {
    expect(createLock(file, `${process.pid} host-a\n`)).toBe(true);
    expect(createLock(file, 'other\n')).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid} host-a\n`);
    expect(readdirSync(dir)).toEqual(['the.lock']);
    expect(readLock(file)).toMatchObject({ pid: process.pid, host: 'host-a' });
    expect(readLock(file)!.age).toBeLessThan(5_000);
  });

  it('say who holds them, if anyone: a lock naming no pid has none', () => {
    expect(readLock(file)).toBeUndefined();
    writeFileSync(file, '');
    expect(readLock(file)?.pid).toBeUndefined();
    writeFileSync(file, 'NaN\n');
    expect(readLock(file)?.pid).toBeUndefined();
    writeFileSync(file, '123\n');
    expect(readLock(file)).toMatchObject({ pid: 123 });
    expect(readLock(file)?.host).toBeUndefined();
  });

  it('a stale lock is taken over, a held one is not; only its holder lets go of one', () => {
    writeFileSync(file, `${DEAD}\n`);
    expect(tryLock(file, mine, judge)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(mine);
    releaseLock(file, 'someone else\n');
    expect(existsSync(file)).toBe(true);
    releaseLock(file, mine);
    expect(existsSync(file)).toBe(false);

    writeFileSync(file, '1\n');
    expect(tryLock(file, mine, judge)).toMatchObject({ verdict: 'held', holder: { pid: 1 } });
    expect(readFileSync(file, 'utf8')).toBe('1\n');
    // 'wait' (a lock being written) leaves it alone too.
    expect(tryLock(file, mine, () => 'wait')).toMatchObject({ verdict: 'wait' });
    expect(readFileSync(file, 'utf8')).toBe('1\n');
    expect(readdirSync(dir)).toEqual(['the.lock']);
  });

  it('a takeover under way holds the others off; one whose process died is cleared', () => {
    writeFileSync(file, `${DEAD}\n`);
    // Another live process (this one's parent) is taking it over.
    writeFileSync(`${file}.takeover`, `${process.ppid}\n`);
    expect(tryLock(file, mine, judge)).toEqual({ verdict: 'busy' });
    expect(readFileSync(file, 'utf8')).toBe(`${DEAD}\n`);
    expect(existsSync(`${file}.takeover`)).toBe(true);
    // It died in the middle of it.
    writeFileSync(`${file}.takeover`, `${DEAD}\n`);
    expect(tryLock(file, mine, judge)).toEqual({ verdict: 'busy' });
    expect(existsSync(`${file}.takeover`)).toBe(false);
    expect(tryLock(file, mine, judge)).toBe(true);
    expect(readdirSync(dir)).toEqual(['the.lock']);
  });
});
