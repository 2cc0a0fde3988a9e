import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOGIN_LIMITS } from '../../src/server/login-guard';
import { cli, tempConfigDir } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// Failed logins are throttled (429 naming when to retry) and raise Pro's login alarms 3, 4, 5.
// The server's clock is injected, so windows pass without sleeping.

const T0 = Date.parse('2026-05-04T08:00:00Z');
let now = T0;
let s: TestServer;

beforeEach(async () => {
  now = T0;
  s = await startTestServer({ clock: () => new Date(now) });
  await s.seedUsers(['bob']);
});
afterEach(async () => {
  await s.close();
});

async function login(username: string, password: string, id?: string) {
  const r = await s.fetch('/api/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, ...(id ? { id, uuid: 'dXVpZA==' } : {}) }),
  });
  return {
    status: r.status,
    retryAfter: r.headers.get('retry-after'),
    body: (await r.json()) as Record<string, unknown>,
  };
}

async function alarms(): Promise<{ typ: number; device_id: string; ip: string; info: string }[]> {
  const r = await s.fetch('/api/audits/alarm?pageSize=100', { token: s.token });
  return ((await r.json()) as { data: { typ: number; device_id: string; ip: string; info: string }[] }).data;
}

describe('login throttling and alarms', () => {
  it('six failures within a minute: alarm 4, then 429 until the minute has room again', async () => {
    for (let i = 1; i <= LOGIN_LIMITS.perMinute; i++) {
      now += 1_000;
      const r = await login('bob', 'wrong', '123456789');
      expect(r.status, `attempt ${i}`).toBe(401);
    }
    const firstFailure = T0 + 1_000;
    const blocked = await login('bob', 'password123');
    expect(blocked.status).toBe(429);
    const until = new Date(firstFailure + 60_000).toISOString();
    expect(blocked.body['error']).toBe(
      `too many failed logins for user 'bob': try again after ${until} (in 55 s)`,
    );
    expect(blocked.retryAfter).toBe('55');
    const a = await alarms();
    expect(a.map((x) => x.typ)).toEqual([4]);
    expect(a[0]).toMatchObject({ device_id: '123456789', ip: '127.0.0.1' });
    expect(JSON.parse(a[0]!.info)).toMatchObject({ name: 'bob', failures_last_minute: 6 });
    now = firstFailure + 60_000;
    expect((await login('bob', 'password123')).status).toBe(200);
  });

  it('`rdadmin login` while throttled: the 429 reported at once, naming the wait, not sent again; exit 1', async () => {
    for (let i = 0; i < LOGIN_LIMITS.perMinute; i++) {
      now += 1_000;
      expect((await login('bob', 'wrong')).status).toBe(401);
    }
    const cfg = await tempConfigDir();
    const before = s.logs.filter((l) => l.includes('POST /api/login')).length;
    try {
      const r = await cli(['login', '--url', s.url, '--username', 'bob', '--password-stdin'], {
        env: { RDADMIN_CONFIG_DIR: cfg },
        stdin: 'password123\n',
      });
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        code: 1,
        stdout: '',
        stderr: `error: too many failed logins for user 'bob': try again after ${new Date(T0 + 61_000).toISOString()} (in 55 s) (HTTP 429)\nhint: the server asks to wait 55 s before the next request\n`,
      });
    } finally {
      await rm(cfg, { recursive: true, force: true });
    }
    expect(s.logs.filter((l) => l.includes('POST /api/login')).length - before).toBe(1);
  });

  // Unknown names fail without a password hash to check, which keeps these long runs fast; they
  // count against the client IP exactly as a known user's failures do.
  async function fail(username: string, n: number) {
    for (let i = 0; i < n; i++) {
      expect((await login(username, 'nope')).status, `${username} attempt ${i + 1}`).toBe(401);
      now += 12_000; // never six within one minute
    }
  }

  it('twenty failures within an hour: alarm 5, throttled until the oldest is an hour old', async () => {
    await fail('ghost', LOGIN_LIMITS.perHour);
    const r = await login('bob', 'password123');
    expect(r.status).toBe(429);
    expect(r.body['error']).toBe(
      `too many failed logins from 127.0.0.1: try again after ${new Date(T0 + 3_600_000).toISOString()} (in ${3_600 - 240} s)`,
    );
    expect((await alarms()).map((x) => x.typ)).toEqual([5]);
    now = T0 + 3_600_000;
    expect((await login('bob', 'password123')).status).toBe(200);
  });

  it('over 30 consecutive failures: alarm 3; a success ends the run', async () => {
    await fail('ghost', 20);
    now += 3_600_000;
    await fail('ghost', 10);
    expect((await alarms()).map((x) => x.typ)).toEqual([5]);
    await fail('ghost', 1);
    expect((await alarms()).map((x) => x.typ)).toEqual([3, 5]);
    now += 3_600_000;
    expect((await login('bob', 'password123')).status).toBe(200);
    // The IP's run starts again: 30 more failures raise nothing, the 31st raises alarm 3 again.
    await fail('ghost2', 19);
    now += 3_600_000;
    await fail('ghost2', 11);
    expect((await alarms()).map((x) => x.typ)).toEqual([3, 5]);
    await fail('ghost2', 1);
    expect((await alarms()).map((x) => x.typ)).toEqual([3, 3, 5]);
  });

  it("a clock step back (NTP) never makes a throttle longer than its window: a day's step, a minute's wait", async () => {
    for (let i = 0; i < LOGIN_LIMITS.perMinute; i++) {
      now += 1_000;
      expect((await login('bob', 'wrong')).status).toBe(401);
    }
    now -= 86_400_000; // the failures are now stamped a day ahead of the server's clock
    const r = await login('admin', 'test1234');
    expect(r.status).toBe(429);
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
    expect(Number(r.retryAfter)).toBeLessThanOrEqual(60);
    expect(r.body['error']).toBe(
      `too many failed logins from 127.0.0.1: try again after ${new Date(now + 60_000).toISOString()} (in 60 s)`,
    );
    now += 60_000;
    expect((await login('admin', 'test1234')).status).toBe(200);
    expect((await login('bob', 'password123')).status).toBe(200);
  });

  it('unknown user names count too (per client IP), and the 429 names the IP', async () => {
    for (let i = 0; i < LOGIN_LIMITS.perMinute; i++) await login(`ghost${i}`, 'x');
    const r = await login('admin', 'test1234');
    expect(r.status).toBe(429);
    expect(r.body['error']).toMatch(/^too many failed logins from 127\.0\.0\.1: try again after /);
    expect((await alarms()).map((x) => x.typ)).toEqual([4]);
  });

  // The counters are in the database: a restart (here: a new server on the same data folder) must
  // not give an attacker a fresh budget.
  async function restart() {
    const dataDir = s.dataDir;
    await s.close(); // the folder is kept: see keepData below
    s = await startTestServer({ clock: () => new Date(now), dataDir });
  }

  describe('across a restart', () => {
    beforeEach(async () => {
      await s.close();
      s = await startTestServer({ clock: () => new Date(now), keepData: true });
      await s.seedUsers(['bob']);
    });
    afterEach(async () => {
      await rm(s.dataDir, { recursive: true, force: true });
    });

    it('a throttled account stays throttled, until the same moment', async () => {
      for (let i = 0; i < LOGIN_LIMITS.perMinute; i++) {
        now += 1_000;
        expect((await login('bob', 'wrong')).status).toBe(401);
      }
      const before = await login('bob', 'password123');
      expect(before.status).toBe(429);
      await restart();
      const after = await login('bob', 'password123');
      expect(after.status).toBe(429);
      expect(after.body['error']).toBe(before.body['error']);
      now = T0 + 1_000 + 60_000;
      expect((await login('bob', 'password123')).status).toBe(200);
    });

    it('failures stamped ahead of the clock (a step back) read back from the table throttle for their window at most', async () => {
      await fail('ghost', LOGIN_LIMITS.perHour); // throttled for the hour
      now -= 86_400_000;
      await restart();
      const r = await login('admin', 'test1234');
      expect(r.status).toBe(429);
      expect(Number(r.retryAfter)).toBeLessThanOrEqual(3_600);
      now += 3_600_000;
      expect((await login('admin', 'test1234')).status).toBe(200);
    });

    it('the hourly window and the consecutive run carry over; a success still ends the run', async () => {
      await fail('ghost', 20);
      await restart();
      // Still inside the hour of those 20: the IP is throttled.
      expect((await login('bob', 'password123')).status).toBe(429);
      now += 3_600_000;
      await fail('ghost', 10);
      expect((await alarms()).map((x) => x.typ)).toEqual([5]);
      await restart();
      await fail('ghost', 1); // the 31st in a row, counted across two restarts
      expect((await alarms()).map((x) => x.typ)).toEqual([3, 5]);
      now += 3_600_000;
      expect((await login('bob', 'password123')).status).toBe(200);
      // The IP's run began again at the success (another name, whose own run is new too): 30 more
      // raise nothing, the 31st alarm 3 again.
      await fail('ghost2', 19);
      await restart();
      now += 3_600_000;
      await fail('ghost2', 11);
      expect((await alarms()).map((x) => x.typ)).toEqual([3, 5]);
      await fail('ghost2', 1);
      expect((await alarms()).map((x) => x.typ)).toEqual([3, 3, 5]);
    });
  });

  it('parallel attempts count while their passwords are checked: at most the limit is checked, the rest 429', async () => {
    const n = 40;
    const all = await Promise.all(Array.from({ length: n }, () => login('bob', 'wrong')));
    const checked = all.filter((r) => r.status === 401).length;
    expect(checked).toBe(LOGIN_LIMITS.perMinute);
    expect(all.filter((r) => r.status === 429)).toHaveLength(n - checked);
    // Alarm 4 raised once, by the failures actually counted.
    expect((await alarms()).map((a) => a.typ)).toEqual([4]);
    // The reservations of the checked attempts were settled: the throttle is the one of six
    // failures (a minute from the first), and afterwards the right password is let through.
    now += 60_000;
    expect((await login('bob', 'password123')).status).toBe(200);
  });

  it('correct logins at once from one address (an office behind NAT) all get in: they wait, never 429', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `staff${i}`);
    await s.seedUsers(names);
    const all = await Promise.all(names.map((n) => login(n, 'password123')));
    expect(all.map((r) => r.status)).toEqual(names.map(() => 200));
    // Nothing was counted: a wrong password afterwards is checked (401), not throttled.
    expect((await login('bob', 'wrong')).status).toBe(401);
  });

  it('a success and a disabled user release their reservation: only failures throttle', async () => {
    await s.seedUsers(['carol'], { status: 0 });
    for (let i = 0; i < 3; i++) {
      const all = await Promise.all([
        login('bob', 'password123'),
        login('carol', 'password123'),
        login('bob', 'password123'),
        login('carol', 'password123'),
      ]);
      expect(all.map((r) => r.status)).toEqual([200, 401, 200, 401]);
    }
    // Twelve attempts from one IP, none counted: a wrong password is still checked (401, not 429).
    expect((await login('bob', 'wrong')).status).toBe(401);
  });

  it('a successful login is recorded in the console log', async () => {
    await login('bob', 'password123', '555666777');
    const r = await s.fetch('/api/audits/console?iop=0', { token: s.token });
    const body = (await r.json()) as { data: { operator: string; detail: string; typ: number }[] };
    expect(body.data).toEqual([
      expect.objectContaining({ operator: 'bob', typ: 1, detail: 'login from device 555666777' }),
    ]);
  });
});
