import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyRetention, RETENTION_INTERVAL_MS, startRetention } from '../../src/server/retention';
import { startServer } from '../../src/server/serve';
import { SimClient } from '../../src/sim/rustdesk-client';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

const DAY = 86_400_000;
const T0 = Date.parse('2026-06-01T12:00:00Z');
let now = T0;
let s: TestServer | undefined;

afterEach(async () => {
  vi.useRealTimers();
  await s?.close();
  s = undefined;
});

async function counts(srv: { store: TestServer['store'] }) {
  const a = srv.store.auditLogs;
  return {
    conn: (await a.listConn({}, 0, 1)).total,
    file: (await a.listFile({}, 0, 1)).total,
    alarm: (await a.listAlarm({}, 0, 1)).total,
    console: (await a.listConsole({}, 0, 1)).total,
  };
}

describe('log retention', () => {
  it('keeps everything at 0 days; otherwise deletes what is older, a connection counting from its end', async () => {
    now = T0 - 40 * DAY;
    s = await startTestServer({ clock: () => new Date(now) });
    const c = new SimClient(s.url, { id: '1', uuid: 'u' });
    await c.connectionOpened(1, 1n, '10.0.0.1'); // opened 40 days ago …
    await c.connectionOpened(2, 2n, '10.0.0.1'); // … and never closed
    await c.fileTransfer({
      peer_id: '2',
      conn_id: 1,
      type: 0,
      path: '/',
      files: [['a', 1]],
      ip: '',
      peer_name: '',
    });
    await c.alarm(1, {});
    await s.store.audit.console({ typ: 1, iop: 0, operatorGuid: null, operator: 'old', ip: '', detail: '' });
    now = T0 - 10 * DAY;
    await c.connectionClosed(1, 1n); // … closed 10 days ago
    await c.alarm(2, {});
    await s.store.audit.console({ typ: 1, iop: 0, operatorGuid: null, operator: 'new', ip: '', detail: '' });
    now = T0;

    expect(await applyRetention(s.store, new Date(T0))).toBeNull();
    expect(await counts(s)).toEqual({ conn: 2, file: 1, alarm: 2, console: 2 });

    await s.store.settings.set('log_retention_days', 30);
    const r = await applyRetention(s.store, new Date(T0));
    expect(r).toEqual({
      cutoff: new Date(T0 - 30 * DAY).toISOString(),
      deleted: { conn: 1, file: 1, alarm: 1, console: 1 },
    });
    expect(await counts(s)).toEqual({ conn: 1, file: 0, alarm: 1, console: 1 });
    expect((await s.store.auditLogs.listConsole({}, 0, 10)).rows.map((x) => x.operator)).toEqual(['new']);
  });

  it('keeps an open connection its device still reports past the retention period, so its close ends it; drops the never-closed ones', async () => {
    now = T0 - 40 * DAY;
    s = await startTestServer({ clock: () => new Date(now) });
    const c = new SimClient(s.url, { id: '1', uuid: 'u' });
    await c.heartbeat();
    await c.connectionOpened(1, 42n, '10.0.0.9'); // a kiosk session, 40 days long
    await c.connectionAuthorised(1, 42n, ['999888777', 'ctl-pc'], 0);
    await c.connectionOpened(2, 43n, '10.0.0.9'); // never closed, no longer reported
    await c.connectionOpened(3, 44n, '10.0.0.9'); // never closed; the client restarted since …
    now = T0 - 3_600_000;
    await c.connectionOpened(3, 45n, '10.0.0.7'); // … and reuses id 3 for a new connection
    now = T0;
    c.conns = [1, 3];
    await c.heartbeat();
    await s.store.settings.set('log_retention_days', 30);
    const open = async () =>
      (await s!.store.auditLogs.listConn({}, 0, 10)).rows.map((r) => [r.conn_id, r.session_id, r.end_time]);

    const r = await applyRetention(s.store, new Date(T0));
    expect(r?.deleted.conn).toBe(2);
    expect(await open()).toEqual([
      [3, '45', null],
      [1, '42', null],
    ]);
    // The server was down a few hours (no heartbeat since): the pass at its start keeps them too.
    now = T0 + 5 * 3_600_000;
    expect((await applyRetention(s.store, new Date(now)))?.deleted.conn).toBe(0);
    await c.connectionClosed(1, 42n);
    const [closed] = (await s.store.auditLogs.listConn({ remote: '999888777' }, 0, 10)).rows;
    expect(closed).toMatchObject({
      conn_id: 1,
      peer_id: '999888777',
      conn_type: 0,
      ip: '10.0.0.9',
      created_at: new Date(T0 - 40 * DAY).toISOString(),
      end_time: new Date(now).toISOString(),
    });
    expect((await counts(s)).conn).toBe(2); // no record of its own for the close
    // The device went silent at T0, longer ago than the retention now: its open record goes; the
    // closed one counts from its end (T0 + 5 h), an hour younger than the cutoff.
    now += 30 * DAY - 3_600_000;
    expect((await applyRetention(s.store, new Date(now)))?.deleted.conn).toBe(1);
    expect(await open()).toEqual([[1, '42', new Date(T0 + 5 * 3_600_000).toISOString()]]);
  });

  it('forgets nonces after an hour: a repeat after that is stored again', async () => {
    s = await startTestServer({ clock: () => new Date(now) });
    now = T0;
    const c = new SimClient(s.url, { id: '1', uuid: 'u' });
    const first = await c.alarm(1, {});
    await c.alarm(1, {}, 1, first.nonce);
    expect((await counts(s)).alarm).toBe(1);
    now = T0 + 3_600_001;
    await applyRetention(s.store, new Date(now));
    await c.alarm(1, {}, 1, first.nonce);
    expect((await counts(s)).alarm).toBe(2);
  });

  it('runs on an hourly timer', async () => {
    now = T0;
    s = await startTestServer({ clock: () => new Date(now) });
    await s.store.settings.set('log_retention_days', 1);
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const lines: string[] = [];
    const stop = startRetention(
      s.store,
      () => new Date(now),
      (l) => lines.push(l),
    );
    await s.store.audit.console({ typ: 1, iop: 0, operatorGuid: null, operator: 'x', ip: '', detail: '' });
    now = T0 + 2 * DAY;
    vi.advanceTimersByTime(RETENTION_INTERVAL_MS);
    await stop();
    expect((await counts(s)).console).toBe(0);
    expect(lines).toEqual([
      `log retention: deleted 1 audit records older than ${new Date(T0 + DAY).toISOString()} (connections 0, files 0, alarms 0, console 1)`,
    ]);
  });

  it('`serve --log-retention-days` stores the setting and applies it at start', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'rdadmin-ret-'));
    const start = (days?: number) =>
      startServer({
        host: '127.0.0.1',
        port: 0,
        dataDir,
        log: () => {},
        clock: () => new Date(now),
        ...(days === undefined ? {} : { logRetentionDays: days }),
      });
    try {
      now = T0 - 40 * DAY;
      let srv = await start();
      await srv.store.audit.console({
        typ: 1,
        iop: 0,
        operatorGuid: null,
        operator: 'old',
        ip: '',
        detail: '',
      });
      await srv.close();
      now = T0;
      srv = await start(30);
      await srv.close(); // waits for the pass started with the server
      srv = await start(30); // unchanged: nothing to record
      await srv.close();
      srv = await start();
      expect(await srv.store.settings.get('log_retention_days')).toBe(30);
      // The old record went; the change of the setting is in the console log, as a settings change.
      expect(await srv.store.audit.listConsole()).toEqual([
        expect.objectContaining({
          typ: 2,
          iop: 12,
          operator: '',
          detail: 'settings: log_retention_days=30 (was 0; rdadmin serve --log-retention-days)',
        }),
      ]);
      await srv.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('`rdadmin settings set log_retention_days N` (an administrator session) stores it; bad values are refused', async () => {
    s = await startTestServer();
    const env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: await s.login('admin', 'test1234') };
    const set = await cli(['settings', 'set', 'log_retention_days', '90'], { env });
    expect(set.code, set.stderr).toBe(0);
    expect(await s.store.settings.get('log_retention_days')).toBe(90);
    const view = await cli(['settings', 'view'], { env });
    expect(view.stdout).toContain('log_retention_days\t90\n');
    const bad = await cli(['settings', 'set', 'log_retention_days', '-1'], { env });
    expect(bad.code).toBe(2);
    const raw = await s.fetch('/api/settings', {
      method: 'PUT',
      token: env.RDADMIN_TOKEN,
      headers: { 'content-type': 'application/json' },
      body: '{"log_retention_days": 1.5}',
    });
    expect(raw.status).toBe(400);
    expect(await s.store.settings.get('log_retention_days')).toBe(90);
  });
});
