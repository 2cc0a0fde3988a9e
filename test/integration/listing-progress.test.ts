import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';
import { screen } from '../helpers/spawn';

// A long listing written to a file or a pipe shows how far it has got on stderr when that is a
// terminal; the line goes away when the listing ends, and never shows where it would be in the way.

let s: TestServer;
const NAMES = Array.from({ length: 120 }, (_, i) => `prog-${String(i).padStart(3, '0')}`);

beforeAll(async () => {
  s = await startTestServer();
  await s.seedUsers(NAMES);
});
afterAll(async () => {
  await s.close();
});

const env = () => ({ RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token, RDADMIN_PAGE_SIZE: '20' });
/** Every page redrawn at once (a clock that never moves: nothing waits for its time). */
const EVERY_PAGE = { afterMs: 0, everyMs: 0, now: () => 0 };
const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

describe('the status line of a long listing', () => {
  it('stdout piped, stderr a terminal: the count after each page, then the line is gone', async () => {
    const r = await cli(['users', 'view', '--json'], {
      tty: true,
      stdoutTTY: false,
      env: env(),
      listingProgress: EVERY_PAGE,
    });
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { name: string }[];
    expect(rows).toHaveLength(121); // and admin
    const counts = [...plain(r.stderr).matchAll(/reading users: (\d+) of 121…/g)].map((m) => Number(m[1]));
    expect(counts).toEqual([20, 40, 60, 80, 100, 120, 121]);
    expect(screen(r.stderr).filter(Boolean)).toEqual([]);
  });

  it('the messages before and after the listing are left whole (devices export to a file)', async () => {
    const r = await cli(['devices', 'export', '--token', s.token], {
      tty: true,
      stdoutTTY: false,
      env: { RDADMIN_URL: s.url, RDADMIN_PAGE_SIZE: '20' },
      listingProgress: EVERY_PAGE,
    });
    expect(r.code).toBe(0);
    // The --token warning comes before the listing; "Exported …" after it: neither is overwritten.
    expect(screen(plain(r.stderr)).filter(Boolean)).toEqual([
      'warning: a token given with --token is visible in the process list and shell history; prefer --token-file FILE or RDADMIN_TOKEN',
      expect.stringMatching(/^Exported \d+ devices?\.$/),
    ]);
  });

  it('none where it would be in the way or unseen: stdout on the terminal, stderr piped, or a short listing', async () => {
    const table = await cli(['users', 'view'], { tty: true, env: env(), listingProgress: EVERY_PAGE });
    const piped = await cli(['users', 'view', '--json'], { env: env(), listingProgress: EVERY_PAGE });
    const quick = await cli(['users', 'view', '--json'], { tty: true, stdoutTTY: false, env: env() });
    for (const r of [table, piped, quick]) {
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain('reading');
    }
  });
});
