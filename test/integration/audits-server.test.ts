import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimClient } from '../../src/sim/rustdesk-client';
import { parseJsonLossless } from '../../src/wire/json-lossless';
import { startTestServer, type TestServer } from '../helpers/server';

// Ingest of what stock clients post (conn / file / alarm), the joined connection record, nonce
// de-duplication, 64-bit session ids, and the admin listings 47–50 with their filters.

const T0 = Date.parse('2026-03-01T10:00:00Z');
let now = T0;
let s: TestServer;
let reader: string;
const secs = (ms: number) => Math.floor(ms / 1000);
const dev = { id: '123456789', uuid: 'dXVpZC0xMjM0NTY3ODk=' };

beforeEach(async () => {
  now = T0;
  s = await startTestServer({ clock: () => new Date(now) });
  reader = await s.makeToken('audit_log:r');
});
afterEach(async () => {
  await s.close();
});

type Row = Record<string, unknown>;
async function list(
  kind: string,
  query = '',
  token = reader,
): Promise<{ data: Row[]; total: number; raw: string }> {
  const r = await s.fetch(`/api/audits/${kind}${query ? `?${query}` : ''}`, { token });
  const raw = await r.text();
  expect(r.status, raw).toBe(200);
  return { ...(parseJsonLossless(raw) as { data: Row[]; total: number }), raw };
}

describe('connection audits from clients', () => {
  it('joins new, authorised and close into one record with start, end, type, peer, IP and auth', async () => {
    const c = new SimClient(s.url, dev);
    const opened = await c.connectionOpened(7, 42n, '10.1.2.3');
    expect(opened).toMatchObject({ status: 200, text: '' });
    now += 5_000;
    expect(
      (await c.connectionAuthorised(7, 42n, ['987654321', 'alice'], 1, { primary_auth: 3, two_factor: 1 }))
        .status,
    ).toBe(200);
    now += 60_000;
    expect((await c.connectionClosed(7, 42n)).status).toBe(200);
    const { data, total } = await list('conn');
    expect(total).toBe(1);
    expect(data[0]).toEqual({
      guid: expect.any(String),
      device_id: '123456789',
      device_name: 'host-123456789',
      peer_id: '987654321',
      peer_name: 'alice',
      ip: '10.1.2.3',
      conn_id: 7,
      session_id: 42,
      conn_type: 1,
      primary_auth: 3,
      two_factor: 1,
      note: '',
      created_at: secs(T0),
      end_time: secs(T0 + 65_000),
    });
  });

  it('keeps every digit of a 64-bit session_id, in storage and on the wire', async () => {
    const c = new SimClient(s.url, dev);
    const ids = [18446744073709551615n, 9007199254740993n, 0n];
    for (const [i, id] of ids.entries()) {
      await c.connectionOpened(i + 1, id, '10.0.0.1');
      await c.connectionAuthorised(i + 1, id, ['555', 'p'], 0);
    }
    const { data, raw } = await list('conn');
    expect(raw).toContain('"session_id":18446744073709551615,');
    expect(raw).toContain('"session_id":9007199254740993,');
    expect(data.map((r) => r['session_id']).sort()).toEqual(
      [0, 9007199254740993n, 18446744073709551615n].sort(),
    );
    const stored = s.store.database.sqlite
      .prepare('SELECT session_id FROM audit_conn ORDER BY conn_id')
      .all() as { session_id: string }[];
    expect(stored.map((r) => r.session_id)).toEqual(['18446744073709551615', '9007199254740993', '0']);
    // Each event found its record again by the exact id (no rounding merged or split them).
    expect(data.every((r) => r['peer_id'] === '555')).toBe(true);
    for (const bad of ['18446744073709551616', '-1', '1.5', '"x1"']) {
      const r = await s.fetch('/api/audit/conn', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"id":"1","uuid":"u","conn_id":1,"session_id":${bad},"action":"new","ip":"1.1.1.1"}`,
      });
      expect(r.status, bad).toBe(400);
      expect(((await r.json()) as { error: string }).error).toContain("'session_id'");
    }
  });

  it('a connection that never authenticated has no conn_type ("Not Logged In")', async () => {
    const c = new SimClient(s.url, dev);
    await c.connectionOpened(3, 9n, '10.9.9.9');
    now += 2_000;
    await c.connectionClosed(3, 9n);
    const { data } = await list('conn');
    expect(data[0]).not.toHaveProperty('conn_type');
    expect(data[0]).toMatchObject({ peer_id: '', end_time: secs(T0 + 2_000) });
  });

  it("a close after the server's clock stepped back never ends before the start: it lasts what the server measured", async () => {
    const c = new SimClient(s.url, dev);
    await c.connectionOpened(5, 8n, '10.5.5.5');
    await new Promise((r) => setTimeout(r, 60)); // the connection lasts at least 60 ms
    now -= 3_600_000; // NTP steps the server's clock back an hour
    await c.connectionClosed(5, 8n);
    const row = s.store.database.sqlite
      .prepare('SELECT created_at, end_time FROM audit_conn WHERE conn_id = 5')
      .get() as { created_at: string; end_time: string };
    const length = Date.parse(row.end_time) - Date.parse(row.created_at);
    expect(row.created_at).toBe(new Date(T0).toISOString());
    expect(length).toBeGreaterThanOrEqual(60);
    expect(length).toBeLessThan(10_000);
    // Opened before the server started (a record an earlier run left: nothing measured it): it ends
    // at its start, a length that cannot be told is not made up.
    s.store.database.sqlite
      .prepare(
        `INSERT INTO audit_conn (guid, device_id, device_id_fold, conn_id, session_id, created_at)
         VALUES ('earlier-run', ?, ?, 6, '9', ?)`,
      )
      .run(dev.id, dev.id, new Date(T0 + 60_000).toISOString());
    await c.connectionClosed(6, 9n);
    const { data, total } = await list('conn');
    expect(total).toBe(2);
    expect(data.find((r) => r['conn_id'] === 6)).toMatchObject({
      created_at: secs(T0 + 60_000),
      end_time: secs(T0 + 60_000),
    });
  });

  it('an authorise or close whose "new" was lost still makes a record; a bare post records nothing', async () => {
    const c = new SimClient(s.url, dev);
    await c.connectionAuthorised(11, 5n, ['444', 'x'], 4);
    now += 1_000;
    await c.connectionClosed(11, 5n);
    const bare = await c.postAudit('conn', { conn_id: 11 });
    expect(bare).toMatchObject({ status: 200, text: '' });
    const { data, total } = await list('conn');
    expect(total).toBe(1);
    expect(data[0]).toMatchObject({
      conn_type: 4,
      peer_id: '444',
      created_at: secs(T0),
      end_time: secs(T0 + 1_000),
    });
  });

  it('stores a retried post (same nonce) once, for every kind', async () => {
    const c = new SimClient(s.url, dev);
    const first = await c.connectionOpened(1, 1n, '10.0.0.1');
    const again = await c.connectionOpened(1, 1n, '10.0.0.1', first.nonce);
    expect(again).toMatchObject({ status: 200, text: '' });
    const f = {
      peer_id: '9',
      conn_id: 1,
      type: 0 as const,
      path: '/tmp',
      files: [['a', 1]] as [string, number][],
      ip: '1.1.1.1',
      peer_name: 'n',
    };
    const file = await c.fileTransfer(f);
    await c.fileTransfer({ ...f, nonce: file.nonce });
    const alarm = await c.alarm(1, { ip: '1.1.1.1' });
    await c.alarm(1, { ip: '1.1.1.1' }, 1, alarm.nonce);
    expect((await list('conn')).total).toBe(1);
    expect((await list('file')).total).toBe(1);
    expect((await list('alarm')).total).toBe(1);
    await c.fileTransfer(f);
    await c.alarm(1, { ip: '1.1.1.1' });
    expect((await list('file')).total).toBe(2);
    expect((await list('alarm')).total).toBe(2);
  });

  it('refuses a post for a registered device with another uuid, and bad bodies, with 4xx', async () => {
    await s.store.devices.create('123456789', { uuid: 'b3RoZXI=', device_name: 'reception-pc' });
    const spoof = await new SimClient(s.url, dev).connectionOpened(1, 1n, '10.0.0.1');
    expect(spoof.status).toBe(403);
    expect(spoof.text).toContain('another uuid');
    const own = new SimClient(s.url, { id: '123456789', uuid: 'b3RoZXI=', hostname: 'reception-pc' });
    expect((await own.connectionOpened(1, 1n, '10.0.0.1')).status).toBe(200);
    expect((await list('conn')).data[0]).toMatchObject({
      device_id: '123456789',
      device_name: 'reception-pc',
    });
    const post = (body: string) =>
      s.fetch('/api/audit/conn', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const cases: [string, RegExp][] = [
      ['{"uuid":"u","conn_id":1}', /'id' is required/],
      ['{"id":"1","uuid":"u","conn_id":1', /not valid JSON/],
      ['{"id":"1","uuid":"u","conn_id":1,"action":"open"}', /'action' must be 'new' or 'close'/],
      ['{"id":"1","uuid":"u","conn_id":"x","action":"new"}', /'conn_id'/],
    ];
    for (const [body, msg] of cases) {
      const r = await post(body);
      expect(r.status, body).toBe(400);
      expect(((await r.json()) as { error: string }).error, body).toMatch(msg);
    }
  });
});

describe('a device that registered through heartbeat and system info', () => {
  it('posts with its own uuid and is listed by name; another uuid for its ID is refused', async () => {
    const pc = new SimClient(s.url, { id: '246810121', hostname: 'reception-pc' });
    await pc.heartbeat();
    await pc.sysinfo();
    expect((await pc.connectionOpened(1, 77n, '10.0.0.7')).status).toBe(200);
    expect((await list('conn')).data[0]).toMatchObject({
      device_id: '246810121',
      device_name: 'reception-pc',
    });
    const impostor = new SimClient(s.url, { id: '246810121' });
    const r = await impostor.alarm(1, { ip: '6.6.6.6' });
    expect(r.status).toBe(403);
    expect((await list('alarm')).total).toBe(0);
  });

  it("login alarms (types 3–5) are the server's own: a client post of one is refused", async () => {
    await s.seedUsers(['alice']);
    const c = new SimClient(s.url, { id: 'nonexistent-1' });
    for (const typ of [3, 4, 5]) {
      const r = await c.alarm(typ, { name: 'alice', ip: '1.2.3.4' });
      expect(r.status, String(typ)).toBe(400);
      expect(r.text).toContain(`alarm type ${typ} is a login alarm the server raises itself`);
    }
    expect((await list('alarm')).total).toBe(0);
    expect((await c.alarm(6, { ip: '1.2.3.4' })).status).toBe(200);
  });
});

describe('file and alarm audits from clients', () => {
  it('reads ip, name and count from the file post’s info string and keeps the string', async () => {
    const c = new SimClient(s.url, dev);
    await c.fileTransfer({
      peer_id: '987654321',
      conn_id: 4,
      type: 1,
      path: 'C:\\Temp',
      files: [
        ['small.txt', 10],
        ['big.iso', 9_000_000],
      ],
      ip: '10.0.0.8',
      peer_name: 'alice',
    });
    await c.fileTransfer({
      peer_id: '987654321',
      conn_id: 4,
      type: 0,
      path: '/etc/hosts',
      files: [['', 120]],
      ip: '10.0.0.8',
      peer_name: 'alice',
    });
    const { data } = await list('file');
    expect(data[1]).toMatchObject({
      device_id: '123456789',
      peer_id: '987654321',
      peer_name: 'alice',
      conn_id: 4,
      type: 1,
      path: 'C:\\Temp',
      is_file: false,
      num: 2,
      ip: '10.0.0.8',
      created_at: secs(T0),
    });
    expect(JSON.parse(data[1]!['info'] as string).files[0]).toEqual(['big.iso', 9_000_000]);
    expect(data[0]).toMatchObject({ is_file: true, num: 1, type: 0 });
  });

  it('stores client alarms with their type and IP', async () => {
    const c = new SimClient(s.url, dev);
    await c.alarm(0, { ip: '203.0.113.5' });
    await c.alarm(10, { ip: '203.0.113.6', id: '777', name: 'x' });
    const { data } = await list('alarm');
    expect(data.map((r) => [r['typ'], r['ip'], r['device_id']])).toEqual([
      [10, '203.0.113.6', '123456789'],
      [0, '203.0.113.5', '123456789'],
    ]);
    expect(JSON.parse(data[0]!['info'] as string)).toEqual({ ip: '203.0.113.6', id: '777', name: 'x' });
  });

  it('keeps every digit of a large integer in an info sent as an object', async () => {
    await new SimClient(s.url, dev).heartbeat();
    for (const kind of ['alarm', 'file'] as const) {
      const body = `{"id":"123456789","uuid":"${dev.uuid}","typ":1,"is_file":true,"path":"/x","type":0,"peer_id":"987654321","info":{"ip":"10.0.0.9","n":18446744073709551615}}`;
      const r = await fetch(`${s.url}/api/audit/${kind}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(r.status, await r.text()).toBe(200);
      const { data } = await list(kind);
      expect(data[0]!['info']).toBe('{"ip":"10.0.0.9","n":18446744073709551615}');
    }
  });
});

describe('posts the server does not store', () => {
  const postRaw = (kind: string, body: unknown) =>
    fetch(`${s.url}/api/audit/${kind}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const bodies = (id: string, uuid: string) => ({
    conn: { id, uuid, conn_id: 1, session_id: 5, action: 'new', ip: '10.0.0.1', nonce: `n-conn-${id}` },
    file: {
      id,
      uuid,
      conn_id: 1,
      peer_id: '987654321',
      type: 0,
      path: '/x',
      is_file: true,
      info: '{"ip":"10.0.0.1","name":"a","num":1,"files":[]}',
      nonce: `n-file-${id}`,
    },
    alarm: { id, uuid, typ: 1, conn_id: 1, info: '{"ip":"10.0.0.1"}', nonce: `n-alarm-${id}` },
  });

  it('a device ID never registered: 200 with an error (the client tries again later), nothing stored', async () => {
    for (const [kind, body] of Object.entries(bodies('424242424', 'dW5rbm93bg=='))) {
      const r = await postRaw(kind, body);
      expect(r.status, kind).toBe(200);
      expect((await r.json()) as unknown, kind).toEqual({
        error:
          "device '424242424' is not registered (no heartbeat or system info yet); audit record not stored",
      });
    }
    for (const kind of ['conn', 'file', 'alarm']) expect((await list(kind)).total, kind).toBe(0);
    expect(await s.store.devices.getById('424242424')).toBeUndefined();
    // Its nonces were not kept: once the client's heartbeat registers it, the retried posts are stored.
    await new SimClient(s.url, { id: '424242424', uuid: 'dW5rbm93bg==' }).heartbeat();
    for (const [kind, body] of Object.entries(bodies('424242424', 'dW5rbm93bg=='))) {
      const r = await postRaw(kind, body);
      expect([r.status, await r.text()], kind).toEqual([200, '']);
    }
    for (const kind of ['conn', 'file', 'alarm']) expect((await list(kind)).total, kind).toBe(1);
  });

  it("the simulator's audit posts throw on that answer instead of passing it on as stored", async () => {
    const c = new SimClient(s.url, { id: '424242425', uuid: 'Z29uZQ==' });
    await c.heartbeat();
    s.store.database.sqlite.exec("DELETE FROM devices WHERE id = '424242425'");
    await expect(c.connectionOpened(1, 1n, '10.0.0.1')).rejects.toThrow(
      /audit conn post for 424242425 not stored: "device '424242425' is not registered/,
    );
    expect((await list('conn')).total).toBe(0);
  });

  it('an info object longer than the cap as JSON text is refused (400), as a string is; at the cap it is kept', async () => {
    await new SimClient(s.url, dev).heartbeat();
    const base = bodies(dev.id, dev.uuid);
    const pad = (n: number) => ({ ip: '10.0.0.1', pad: 'x'.repeat(n - '{"ip":"10.0.0.1","pad":""}'.length) });
    for (const kind of ['file', 'alarm'] as const) {
      const over = await postRaw(kind, { ...base[kind], info: pad(65_537), nonce: `over-${kind}` });
      expect(over.status, kind).toBe(400);
      expect(((await over.json()) as { error: string }).error, kind).toMatch(
        /'info' must be at most 65536 characters as JSON text/,
      );
      const big = await postRaw(kind, {
        ...base[kind],
        info: { ip: '10.0.0.1', files: Array(100_000).fill(['f', 1]) },
        nonce: `big-${kind}`,
      });
      expect(big.status, kind).toBe(400);
      const at = await postRaw(kind, { ...base[kind], info: pad(65_536), nonce: `at-${kind}` });
      expect(at.status, kind).toBe(200);
      const { data, total } = await list(kind);
      expect(total, kind).toBe(1);
      expect((data[0]!['info'] as string).length, kind).toBe(65_536);
    }
  });
});

describe('listings 47–50: filters, bounds, paging', () => {
  async function seed() {
    const a = new SimClient(s.url, { id: '111222333', uuid: 'a' });
    const b = new SimClient(s.url, { id: '444555666', uuid: 'b' });
    await a.connectionOpened(1, 1n, '10.0.0.1');
    await a.connectionAuthorised(1, 1n, ['999888777', 'op'], 0);
    now += 3_600_000;
    await b.connectionOpened(2, 2n, '10.0.0.2');
    await b.connectionAuthorised(2, 2n, ['111000111', 'op2'], 1);
    now += 3_600_000;
    await b.connectionOpened(3, 3n, '10.0.0.3');
    await a.alarm(2, { ip: '1.2.3.4' });
    await b.alarm(0, { ip: '1.2.3.5' });
  }
  const ids = (rows: Row[]) => rows.map((r) => r['conn_id']);

  it('remote (either side, LIKE), conn_type, and the created_at / created_before bounds', async () => {
    await seed();
    expect(ids((await list('conn')).data)).toEqual([3, 2, 1]);
    expect(ids((await list('conn', 'remote=%25111%25')).data)).toEqual([2, 1]);
    expect(ids((await list('conn', 'remote=%25988877%25')).data)).toEqual([1]);
    expect(ids((await list('conn', 'remote=-')).data)).toEqual([3]);
    expect(ids((await list('conn', 'conn_type=1')).data)).toEqual([2]);
    // The scripts' form: UTC 'YYYY-MM-DD HH:MM:SS.000', a lower bound.
    expect(ids((await list('conn', 'created_at=2026-03-01+11%3A00%3A00.000')).data)).toEqual([3, 2]);
    expect(ids((await list('conn', 'created_at=2026-03-01+11%3A00%3A00.001')).data)).toEqual([3]);
    expect(ids((await list('conn', 'created_before=2026-03-01T11:00:00Z')).data)).toEqual([1]);
    expect(
      ids(
        (await list('conn', 'created_at=2026-03-01T11:00:00%2B00:00&created_before=2026-03-01+12:00')).data,
      ),
    ).toEqual([2]);
    const bad = await s.fetch('/api/audits/conn?created_at=yesterday', { token: reader });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain("'created_at' must be a UTC time");
  });

  it('alarm device and type, paging with total', async () => {
    await seed();
    expect((await list('alarm', 'device=%25111%25')).data.map((r) => r['typ'])).toEqual([2]);
    expect((await list('alarm', 'typ=0')).data.map((r) => r['device_id'])).toEqual(['444555666']);
    const p1 = await list('conn', 'pageSize=2&current=1');
    const p2 = await list('conn', 'pageSize=2&current=2');
    expect([p1.total, p2.total]).toEqual([3, 3]);
    expect([...ids(p1.data), ...ids(p2.data)]).toEqual([3, 2, 1]);
  });

  it('console: operator (case-insensitive LIKE), typ, iop, time bounds', async () => {
    await s.seedUsers(['Zoë']);
    await s.login('Zoë', 'password123');
    now += 60_000;
    await s.login('admin', 'test1234');
    const zoe = await list('console', 'operator=%25zo%C3%8B%25');
    expect(zoe.data.map((r) => [r['operator'], r['typ'], r['iop'], r['created_at']])).toEqual([
      ['Zoë', 1, 0, secs(T0)],
    ]);
    expect((await list('console', 'iop=0')).total).toBe(2);
    expect((await list('console', 'iop=7')).total).toBe(0);
    expect(
      (await list('console', 'typ=1&created_at=2026-03-01+10:00:30')).data.map((r) => r['operator']),
    ).toEqual(['admin']);
  });

  it('needs audit_log:r', async () => {
    const other = await s.makeToken('user:rw,device:rw');
    for (const kind of ['conn', 'file', 'alarm', 'console']) {
      const r = await s.fetch(`/api/audits/${kind}`, { token: other });
      expect(r.status).toBe(403);
      expect(((await r.json()) as { error: string }).error).toContain('lacks permission audit_log:r');
    }
  });
});

/** A RustDesk client's login: the user, from the client with this ID. */
async function clientLogin(username: string, id: string): Promise<string> {
  const r = await s.call('POST', '/api/login', '', {
    username,
    password: 'password123',
    id,
    uuid: 'dXVpZA==',
  });
  return r.json!['access_token'] as string;
}

describe('notes and the live connection (controlling client)', () => {
  it('finds the live connection by device id + session, and sets its note', async () => {
    await s.seedUsers(['helper']);
    const session = await clientLogin('helper', '999');
    const c = new SimClient(s.url, dev);
    await c.connectionOpened(8, 18446744073709551615n, '10.0.0.1');
    await c.connectionAuthorised(8, 18446744073709551615n, ['999', 'helper'], 0);
    const active = await s.fetch(
      '/api/audit/conn/active?id=123456789&session_id=18446744073709551615&conn_type=0',
      { token: session },
    );
    expect(active.status).toBe(200);
    const guid = (await active.json()) as string;
    expect(guid).toBe((await list('conn')).data[0]!['guid']);
    const put = await s.fetch('/api/audit', {
      method: 'PUT',
      token: session,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ guid, note: 'fixed the printer' }),
    });
    expect(put.status).toBe(200);
    expect((await list('conn')).data[0]!['note']).toBe('fixed the printer');
    await c.connectionClosed(8, 18446744073709551615n);
    const gone = await s.fetch('/api/audit/conn/active?id=123456789&session_id=18446744073709551615', {
      token: session,
    });
    // no live connection: 200 with null (the client asks again only after a 200)
    expect(gone.status).toBe(200);
    expect(await gone.json()).toBeNull();
    const missing = await s.fetch('/api/audit', {
      method: 'PUT',
      token: session,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ guid: 'nope', note: 'x' }),
    });
    expect(missing.status).toBe(404);
  });

  it("another user's session can neither find nor note the connection; the controller can, whatever the settings", async () => {
    await s.seedUsers(['helper', 'mallory']);
    const c = new SimClient(s.url, dev);
    await c.connectionOpened(8, 77n, '10.0.0.1');
    await c.connectionAuthorised(8, 77n, ['999', 'helper'], 0);
    const guid = (await list('conn')).data[0]!['guid'] as string;
    const note = (token: string, text: string) =>
      s.fetch('/api/audit', {
        method: 'PUT',
        token,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ guid, note: text }),
      });
    const active = (token: string) => s.fetch('/api/audit/conn/active?id=123456789&session_id=77', { token });
    for (const intruder of [await clientLogin('mallory', '555'), await s.login('mallory', 'password123')]) {
      const a = await active(intruder);
      expect(a.status).toBe(200);
      expect(await a.json()).toBeNull();
      const r = await note(intruder, 'overwritten');
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: string }).error).toBe(`connection record not found: ${guid}`);
    }
    expect((await list('conn')).data[0]!['note']).toBe('');

    // the controlling client notes its session, even when only administrators may read the logs
    await s.store.settings.set('only_admin_access_logs', true);
    const helper = await clientLogin('helper', '999');
    expect(await (await active(helper)).json()).toBe(guid);
    expect((await note(helper, 'printer fixed')).status).toBe(200);
    // and so may the user the controlled device is assigned to, and an administrator
    // (registered by its client's heartbeat before it posted)
    const d = await s.store.devices.getById('123456789');
    await s.store.devices.update([d!.guid], { user_guid: (await s.store.users.getByName('mallory'))!.guid });
    expect((await note(await s.login('mallory', 'password123'), 'owner note')).status).toBe(200);
    expect((await note(await s.login('admin', 'test1234'), 'admin note')).status).toBe(200);
    expect((await list('conn')).data[0]!['note']).toBe('admin note');
  });
});
