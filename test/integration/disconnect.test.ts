import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimClient } from '../../src/sim/rustdesk-client';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// The console's "Disconnect a running connection": POST /api/devices/{guid}/disconnect queues the
// drop, the device's next heartbeat delivers it (server-model.md: heartbeat `disconnect`).

let s: TestServer;
let env: Record<string, string>;
let now: number;

beforeEach(async () => {
  now = Date.parse('2026-11-26T12:00:00.000Z');
  s = await startTestServer({ clock: () => new Date(now) });
  env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
});
afterEach(async () => {
  await s.close();
});

const guidOf = async (id: string) => (await s.store.devices.getById(id))!.guid;
const pending = () =>
  s.store.database.sqlite.prepare('SELECT conn_id FROM pending_disconnects ORDER BY conn_id').all();

/** A registered device with these live connections (reported by a heartbeat). */
async function connected(id: string, conns: number[]): Promise<SimClient> {
  const c = new SimClient(s.url, { id, hostname: `host-${id}` });
  await c.heartbeat();
  c.conns = [...conns];
  await c.heartbeat();
  return c;
}

describe('POST /api/devices/{guid}/disconnect', () => {
  it('queues every live connection; the next heartbeat delivers them, once; the console log says so', async () => {
    const c = await connected('111', [3, 5]);
    const r = await s.call('POST', `/api/devices/${await guidOf('111')}/disconnect`, s.token, {});
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ conns: [3, 5] });
    const [entry] = await s.store.audit.listConsole();
    expect(entry).toMatchObject({
      typ: 2,
      iop: 5,
      detail: "disconnected device 111: connections 3, 5 (API token 'all')",
    });

    now += 3_000;
    expect((await c.heartbeat()).disconnect).toEqual([3, 5]);
    expect(c.conns).toEqual([]);
    expect(pending()).toEqual([]);
    expect((await c.heartbeat()).disconnect).toBeUndefined();
  });

  it('named connections must be live on the device: others are refused with the live ones named', async () => {
    const c = await connected('222', [3, 5]);
    const guid = await guidOf('222');
    const bad = await s.call('POST', `/api/devices/${guid}/disconnect`, s.token, { conns: [5, 9] });
    expect(bad.status).toBe(400);
    expect(bad.json?.['error']).toBe('connection 9 not live on device 222: its live connections are 3, 5');
    expect(pending()).toEqual([]);

    const ok = await s.call('POST', `/api/devices/${guid}/disconnect`, s.token, { conns: [5, 5] });
    expect(ok.json).toEqual({ conns: [5] });
    expect((await c.heartbeat()).disconnect).toEqual([5]);
    expect(c.conns).toEqual([3]);
  });

  it('an offline device, or one without connections, has nothing to drop: nothing queued or recorded', async () => {
    await connected('333', [4]);
    const guid = await guidOf('333');
    now += 46_000; // past the 45 s online timeout
    const all = await s.call('POST', `/api/devices/${guid}/disconnect`, s.token, {});
    expect(all.json).toEqual({ conns: [] });
    const named = await s.call('POST', `/api/devices/${guid}/disconnect`, s.token, { conns: [4] });
    expect(named.status).toBe(400);
    expect(named.json?.['error']).toBe(
      'connection 4 not live on device 333: it has no live connection (it may be offline)',
    );
    const idle = new SimClient(s.url, { id: '334' });
    await idle.heartbeat();
    expect(
      (await s.call('POST', `/api/devices/${await guidOf('334')}/disconnect`, s.token, {})).json,
    ).toEqual({
      conns: [],
    });
    expect(pending()).toEqual([]);
    expect(await s.store.audit.listConsole()).toEqual([]);
  });

  it('a connection opened since the last heartbeat counts; its drop waits for a heartbeat that reports it', async () => {
    const c = new SimClient(s.url, { id: '444' });
    await c.heartbeat();
    now += 1_000;
    await c.connectionOpened(8, 77n, '10.0.0.8');
    const r = await s.call('POST', `/api/devices/${await guidOf('444')}/disconnect`, s.token, {});
    expect(r.json).toEqual({ conns: [8] });
    // a heartbeat sent before the client counted the connection: nothing to deliver yet, still queued
    expect((await c.heartbeat()).disconnect).toBeUndefined();
    expect(pending()).toEqual([{ conn_id: 8 }]);
    c.conns = [8];
    now += 3_000;
    expect((await c.heartbeat()).disconnect).toEqual([8]);
    expect(pending()).toEqual([]);
  });

  it('a queued drop older than 60 s is discarded, not delivered (the id may belong to a new connection)', async () => {
    const c = await connected('555', [2]);
    await s.call('POST', `/api/devices/${await guidOf('555')}/disconnect`, s.token, {});
    c.conns = [];
    now += 30_000;
    expect((await c.heartbeat()).disconnect).toBeUndefined(); // not reported: waits
    expect(pending()).toEqual([{ conn_id: 2 }]);
    now += 31_000;
    c.conns = [2]; // a restarted client reusing id 2
    expect((await c.heartbeat()).disconnect).toBeUndefined();
    expect(pending()).toEqual([]);
  });

  it('a clock step back (NTP) does not keep a device that went away online, nor its connections live', async () => {
    await connected('777', [9]);
    await connected('778', [4]);
    const online = async (id: string) => {
      const rows = (await s.call('GET', `/api/devices?id=${id}`, s.token)).json?.['data'] as {
        is_online: boolean;
      }[];
      return rows[0]!.is_online;
    };
    // A small step (10 s, within the 45 s timeout): a device still beating is not dropped by it.
    now -= 10_000;
    expect(await online('778')).toBe(true);
    // An hour's step: device 777's last heartbeat is now an hour ahead; 50 s later it is gone.
    now += 10_000 - 3_600_000 + 50_000;
    expect(await online('777')).toBe(false);
    const guid = await guidOf('777');
    expect((await s.call('POST', `/api/devices/${guid}/disconnect`, s.token, {})).json).toEqual({
      conns: [],
    });
    expect(pending()).toEqual([]);
    expect(await s.store.audit.listConsole()).toEqual([]);
  });

  it('a queued drop stamped ahead of the clock (a step back) is discarded, not delivered later to a reused id', async () => {
    const c = await connected('888', [2]);
    const guid = await guidOf('888');
    await s.call('POST', `/api/devices/${guid}/disconnect`, s.token, {});
    c.conns = [];
    now -= 3_600_000; // the drop is now stamped an hour ahead
    expect((await c.heartbeat()).disconnect).toBeUndefined();
    expect(pending()).toEqual([]);
    c.conns = [2]; // a restarted client reusing id 2 for an unrelated connection
    expect((await c.heartbeat()).disconnect).toBeUndefined();
    // A small step keeps a drop's due delivery.
    await s.call('POST', `/api/devices/${guid}/disconnect`, s.token, {});
    now -= 10_000;
    expect((await c.heartbeat()).disconnect).toEqual([2]);
  });

  it('needs device:rw; unknown devices are 404 and bad bodies 400, each with {error}', async () => {
    await connected('666', [1]);
    const guid = await guidOf('666');
    const ro = await s.call('POST', `/api/devices/${guid}/disconnect`, await s.makeToken('device:r'), {});
    expect(ro.status).toBe(403);
    expect(ro.json?.['error']).toMatch(/device/);
    const missing = await s.call('POST', '/api/devices/no-such-guid/disconnect', s.token, {});
    expect(missing.status).toBe(404);
    for (const [body, msg] of [
      ['', /request body is required/],
      [{ conns: [] }, /at least one connection/],
      [{ conns: ['1'] }, /'conns\.0' must be a number/],
      [{ conns: [1.5] }, /whole number/],
      [{ conns: [2 ** 31] }, /32-bit integer/],
      [{ conns: [0] }, /from 1/],
      [{ conn: [1] }, /conn/],
    ] as const) {
      const r = await s.call('POST', `/api/devices/${guid}/disconnect`, s.token, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(String(r.json?.['error']), JSON.stringify(body)).toMatch(msg);
    }
    expect(pending()).toEqual([]);
  });
});

describe('rdadmin devices disconnect', () => {
  it('one exact device: asks nothing, says which connections; --json carries them', async () => {
    const c = await connected('100000001', [3, 5]);
    const r = await cli(['devices', 'disconnect', '--id', '100000001'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Asked to disconnect 100000001 (host-100000001): connections 3, 5\n');
    expect(r.stderr).toContain('Asked to disconnect 1 device.');
    expect((await c.heartbeat()).disconnect).toEqual([3, 5]);

    c.conns = [7];
    await c.heartbeat();
    const j = await cli(['devices', 'disconnect', '--id', '100000001', '--json'], { env });
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual([
      {
        guid: await guidOf('100000001'),
        id: '100000001',
        action: 'disconnect',
        ok: true,
        attempted: true,
        outcome: 'done',
        conns: [7],
      },
    ]);
  });

  it('--conn: checked before any request, needs --id, and a connection that is not live fails (exit 1)', async () => {
    await connected('100000002', [4]);
    const before = s.logs.length;
    for (const args of [
      ['--conn', '4'],
      ['--id', '100000002', '--conn', 'x'],
      ['--id', '100000002', '--conn', '2147483648'],
      ['--id', '100000002', '--conn', '0'],
      ['--id', '100000002', '--conn', '-1'],
      ['--id', '100000002', '--conn', ','],
    ]) {
      const r = await cli(['devices', 'disconnect', ...args], { env });
      expect(r.code, args.join(' ')).toBe(2);
    }
    expect(s.logs.length).toBe(before);

    const gone = await cli(['devices', 'disconnect', '--id', '100000002', '--conn', '9'], { env });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('connection 9 not live on device 100000002: its live connections are 4');
    const ok = await cli(['devices', 'disconnect', '--id', '100000002', '--conn', '4'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('connection 4');
    expect(pending()).toEqual([{ conn_id: 4 }]);

    // --conn acts on the exact ID only, not on a longer one the substring filter also finds
    await connected('1000000021', [4]);
    const missing = await cli(['devices', 'disconnect', '--id', '10000000', '--conn', '4'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no device has the ID '10000000'");
  });

  it('offline devices are left out; several online devices need --yes; --dry-run queues nothing', async () => {
    await connected('200000001', [1]);
    await connected('200000002', [2]);
    const off = await connected('200000003', [3]);
    await s.store.database.sqlite
      .prepare('UPDATE devices SET last_online = ? WHERE guid = ?')
      .run(new Date(now - 3_600_000).toISOString(), await guidOf(off.info.id));

    const refused = await cli(['devices', 'disconnect', '--id', '20000000'], { env });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('Left out 1 offline device: no live connection.');
    expect(refused.stderr).toContain('200000001');
    expect(pending()).toEqual([]);

    const dry = await cli(['devices', 'disconnect', '--id', '20000000', '--dry-run'], { env });
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain('would disconnect 2 devices');
    expect(pending()).toEqual([]);

    const yes = await cli(['devices', 'disconnect', '--id', '20000000', '--yes'], { env });
    expect(yes.code, yes.stderr).toBe(0);
    expect(pending()).toEqual([{ conn_id: 1 }, { conn_id: 2 }]);

    const offline = await cli(['devices', 'disconnect', '--id', '200000003', '--json'], { env });
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout)).toEqual([]);
    expect(offline.stderr).toContain('200000003 (host-200000003) is offline: no live connection to drop.');
  });
});
