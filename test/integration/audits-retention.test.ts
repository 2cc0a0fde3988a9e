import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyRetention, RETENTION_INTERVAL_MS, startRetention } from '../../src/server/retention';
import { startServer } from '../../src/server/serve';
import { openStore } from '../../src/server/store';
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

/** `n` closed connection records of 500 devices, started at `at` and ended at `end`, straight into the file. */
function seedConns(sqlite: SQLite.Database, n: number, at: string, end: string | null = at): void {
  const insert = sqlite.prepare(
    `INSERT INTO audit_conn (guid, device_id, device_id_fold, conn_id, peer_id, peer_id_fold, created_at, end_time)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  sqlite.transaction(() => {
    for (let i = 0; i < n; i++) {
      const device = String(100_000_000 + (i % 500));
      const peer = String(200_000_000 + (i % 700));
      insert.run(`seed-${at}-${end}-${i}`, device, device, i, peer, peer, at, end);
    }
  })();
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

  it('a large pass deletes in chunks, each committed: timers run and requests are answered between them, and the WAL file is emptied after it', async () => {
    now = T0;
    s = await startTestServer({ clock: () => new Date(now) });
    const file = join(s.dataDir, 'db.sqlite3');
    const old = new Date(T0 - 40 * DAY).toISOString();
    seedConns(s.store.database.sqlite, 30_000, old);
    await s.store.settings.set('log_retention_days', 30);
    // Another connection to the file sees only what was committed.
    const other = new SQLite(file, { readonly: true });
    const left = other.prepare('SELECT count(*) FROM audit_conn').pluck();
    const seen: number[] = [];
    const ticker = setInterval(() => seen.push(left.get() as number), 1);
    try {
      let done = false;
      const pass = applyRetention(s.store, new Date(T0)).finally(() => {
        done = true;
      });
      const beat = await new SimClient(s.url, { id: '1', uuid: 'u' }).heartbeat();
      const answeredDuring = !done;
      const r = await pass;
      clearInterval(ticker);
      expect(r?.deleted).toEqual({ conn: 30_000, file: 0, alarm: 0, console: 0 });
      expect(beat.modified_at).toEqual(expect.any(Number));
      expect(answeredDuring).toBe(true);
      expect(seen.filter((n) => n > 0 && n < 30_000).length).toBeGreaterThan(1);
      expect(left.get()).toBe(0);
      // What went through the WAL is given back; the file would stay at its largest otherwise.
      expect(statSync(`${file}-wal`).size).toBe(0);
      expect(s.store.database.sqlite.pragma('journal_size_limit', { simple: true })).toBe(64 * 1024 * 1024);
    } finally {
      clearInterval(ticker);
      other.close();
    }
  });

  it('a shutdown stops a large pass between two chunks: what it deleted stays deleted, the next start deletes the rest', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'rdadmin-ret-'));
    const lines: string[] = [];
    const start = () =>
      startServer({
        host: '127.0.0.1',
        port: 0,
        dataDir,
        log: (l) => lines.push(l),
        clock: () => new Date(now),
      });
    const count = (srv: { store: TestServer['store'] }) =>
      srv.store.database.sqlite.prepare('SELECT count(*) FROM audit_conn').pluck().get() as number;
    try {
      now = T0;
      let srv = await start();
      await srv.close();
      // Seeded with no server running: no pass sees the log before the one under test.
      const store = await openStore(join(dataDir, 'db.sqlite3'), () => new Date(now));
      seedConns(store.database.sqlite, 20_000, new Date(T0 - 40 * DAY).toISOString());
      await store.settings.set('log_retention_days', 30);
      await store.close();
      lines.length = 0;
      srv = await start(); // its pass starts …
      await srv.close(); // … and stops at its first turn between two chunks
      const stopped = lines.filter((l) => l.startsWith('log retention'));
      expect(stopped).toEqual([
        expect.stringMatching(
          /^log retention: stopped by the shutdown after deleting (\d+) audit records older than \S+ \(connections \1, files 0, alarms 0, console 0\); the next pass deletes the rest$/,
        ),
      ]);
      const first = Number(/deleting (\d+)/.exec(stopped[0]!)![1]);
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThan(20_000);
      lines.length = 0;
      srv = await start();
      expect(count(srv)).toBeGreaterThan(0);
      await vi.waitFor(() => expect(lines.filter((l) => l.startsWith('log retention'))).toHaveLength(1), {
        timeout: 30_000,
        interval: 20,
      });
      expect(lines.filter((l) => l.startsWith('log retention'))).toEqual([
        `log retention: deleted ${20_000 - first} audit records older than ${new Date(T0 - 30 * DAY).toISOString()} (connections ${20_000 - first}, files 0, alarms 0, console 0)`,
      ]);
      expect(count(srv)).toBe(0);
      await srv.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('finds what it deletes through indexes, and counts a connection that ended before it started (a clock step, stored by older builds) from its end', async () => {
    now = T0;
    s = await startTestServer({ clock: () => new Date(now) });
    const cutoff = new Date(T0 - 30 * DAY).toISOString();
    const [keys, connDelete, ...deletes] = await s.store.auditLogs.prunePlan(cutoff);
    // Each reads an index up to the cutoff: a pass with nothing to delete reads next to nothing.
    expect(keys).toEqual([
      'SEARCH audit_conn USING COVERING INDEX audit_conn_created (created_at>? AND created_at<?)',
    ]);
    expect(connDelete!.filter((d) => /^SCAN (?!json_each)/.test(d))).toEqual([]);
    for (const steps of deletes) {
      expect(steps.filter((d) => /^SCAN /.test(d))).toEqual([]);
      expect(
        steps.filter((d) => / USING (COVERING )?INDEX \w+ \((created_at|end_time)<\?\)$/.test(d)),
      ).toHaveLength(1);
    }
    const at = (days: number) => new Date(T0 - days * DAY).toISOString();
    seedConns(s.store.database.sqlite, 1, at(10), at(40)); // started after the cutoff, ended before it
    seedConns(s.store.database.sqlite, 1, at(20), at(40)); // likewise, newer
    seedConns(s.store.database.sqlite, 1, at(40), at(10)); // started before the cutoff, ended after it
    seedConns(s.store.database.sqlite, 1, at(10), at(5));
    await s.store.settings.set('log_retention_days', 30);
    expect((await applyRetention(s.store, new Date(T0)))?.deleted.conn).toBe(2);
    const kept = s.store.database.sqlite
      .prepare('SELECT created_at, end_time FROM audit_conn ORDER BY id')
      .all();
    expect(kept).toEqual([
      { created_at: at(40), end_time: at(10) },
      { created_at: at(10), end_time: at(5) },
    ]);
  });

  it('deletes the sessions that expired (unused for more than 30 days), whatever the log retention', async () => {
    now = T0;
    s = await startTestServer({ clock: () => new Date(now) });
    const sessions = () =>
      s!.store.database.sqlite.prepare('SELECT count(*) FROM sessions').pluck().get() as number;
    const stale = await s.login('admin', 'test1234');
    now = T0 + 1;
    const edge = await s.login('admin', 'test1234');
    now = T0 + 10 * DAY;
    const used = await s.login('admin', 'test1234');
    expect(sessions()).toBe(3);
    now = T0 + 30 * DAY + 1; // `stale` unused for more than 30 days, `edge` for exactly 30
    expect(await applyRetention(s.store, new Date(now))).toBeNull();
    expect(sessions()).toBe(2);
    const who = async (token: string) =>
      (await s!.fetch('/api/currentUser', { method: 'POST', token })).status;
    expect(await who(edge)).toBe(200);
    expect(await who(used)).toBe(200);
    expect(await who(stale)).toBe(401);
    now += 30 * DAY + 1;
    await s.store.settings.set('log_retention_days', 30);
    await applyRetention(s.store, new Date(now));
    expect(sessions()).toBe(0);
  });

  it('forgets the IDs and console operators no record holds any more; filters on them still work', async () => {
    now = T0 - 40 * DAY;
    s = await startTestServer({ clock: () => new Date(now) });
    const a = new SimClient(s.url, { id: '111222333', uuid: 'a' });
    const b = new SimClient(s.url, { id: '444555666', uuid: 'b' });
    await a.connectionOpened(1, 1n, '10.0.0.1');
    await a.connectionAuthorised(1, 1n, ['777888999', 'gone-peer'], 0);
    await a.connectionClosed(1, 1n);
    await b.alarm(1, {});
    await s.store.audit.console({
      typ: 1,
      iop: 0,
      operatorGuid: null,
      operator: 'Old-Op',
      ip: '',
      detail: '',
    });
    now = T0 - DAY;
    await a.connectionOpened(2, 2n, '10.0.0.1');
    await a.connectionAuthorised(2, 2n, ['123123123', 'kept-peer'], 0);
    await s.store.audit.console({
      typ: 1,
      iop: 0,
      operatorGuid: null,
      operator: 'New-Op',
      ip: '',
      detail: '',
    });
    now = T0;
    const sqlite = s.store.database.sqlite;
    const values = (table: string, column: string) =>
      sqlite.prepare(`SELECT ${column} FROM ${table} ORDER BY ${column}`).pluck().all();
    // '' too: the controlling side of a connection not authorised yet.
    expect(values('audit_ids', 'id_fold')).toEqual(['', '111222333', '123123123', '444555666', '777888999']);
    expect(values('audit_operators', 'operator_fold')).toEqual(['new-op', 'old-op']);
    await s.store.settings.set('log_retention_days', 30);
    await applyRetention(s.store, new Date(T0));
    expect(values('audit_ids', 'id_fold')).toEqual(['111222333', '123123123']);
    expect(values('audit_operators', 'operator_fold')).toEqual(['new-op']);
    sqlite.prepare("INSERT INTO audit_ids_fts (audit_ids_fts) VALUES ('integrity-check')").run();
    const remote = async (v: string) => (await s!.store.auditLogs.listConn({ remote: v }, 0, 10)).total;
    expect(await remote('%123123%')).toBe(1);
    expect(await remote('%888%')).toBe(0);
    // Logged again, an ID is found again.
    await a.connectionOpened(3, 3n, '10.0.0.1');
    await a.connectionAuthorised(3, 3n, ['777888999', 'back'], 0);
    expect(await remote('%888%')).toBe(1);
    expect(values('audit_ids', 'id_fold')).toEqual(['', '111222333', '123123123', '777888999']);
  });
});
