import { Agent, type Dispatcher } from 'undici';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SERVER_VERSION } from '../../src/server/app';
import { SECURITY_HEADERS } from '../../src/server/headers';
import { SimClient } from '../../src/sim/rustdesk-client';
import { parseJsonLossless } from '../../src/wire/json-lossless';
import { startTestServer, type TestServer } from '../helpers/server';

// What a stock RustDesk client sends around a session and a login, as the real client sends it
// (src/sim/rustdesk-client.ts): the in-session note (toolbar "Note"), the question for the live
// connection's GUID and the end-of-connection note, the login that assigns the device, the legacy
// client's token check, the server root its address-book menu opens, and the order of its first
// requests.

const T0 = Date.parse('2026-03-01T10:00:00Z');
let now = T0;
let s: TestServer;
const MAX = 18446744073709551615n;

beforeEach(async () => {
  now = T0;
  s = await startTestServer({ clock: () => new Date(now) });
});
afterEach(async () => {
  await s.close();
});

type Row = Record<string, unknown>;
async function connRecords(): Promise<Row[]> {
  const r = await s.fetch('/api/audits/conn?pageSize=100', { token: s.token });
  const raw = await r.text();
  expect(r.status, raw).toBe(200);
  return (parseJsonLossless(raw) as { data: Row[] }).data;
}
const consoleCount = async () => (await s.store.audit.listConsole()).length;

/** A registered device (system info and heartbeat, with its uuid) with one authorised connection. */
async function controlledWithConnection(connId: number, sessionId: bigint): Promise<SimClient> {
  const controlled = new SimClient(s.url, { id: '123456789' });
  expect((await controlled.heartbeat()).error).toBeUndefined();
  await controlled.connectionOpened(connId, sessionId, '10.0.0.9');
  await controlled.connectionAuthorised(connId, sessionId, ['987654321', 'helper'], 0);
  return controlled;
}

describe('the in-session note (toolbar "Note": POST /api/audit/conn {id, session_id, note})', () => {
  it('lands on the open connection of that device and session, without token, uuid, conn_id or nonce', async () => {
    // two sessions whose ids differ only past a float64's precision
    const controlled = await controlledWithConnection(3, MAX);
    await controlled.connectionOpened(4, MAX - 1n, '10.0.0.8');
    const logged = await consoleCount();
    const controller = new SimClient(s.url, { id: '987654321' });
    const r = await controller.sendNote('123456789', MAX, 'fixed the printer');
    expect(r).toEqual({ status: 200, text: '' });
    const rows = await connRecords();
    expect(rows).toHaveLength(2);
    const bySession = new Map(rows.map((x) => [String(x['session_id']), x]));
    expect(bySession.get(String(MAX))).toMatchObject({ conn_id: 3, note: 'fixed the printer' });
    expect(bySession.get(String(MAX - 1n))).toMatchObject({ conn_id: 4, note: '' });
    // a note is not a console change
    expect(await consoleCount()).toBe(logged);
    // a later note replaces it
    await controller.sendNote('123456789', MAX, 'printer fixed, toner low');
    expect((await connRecords()).find((x) => x['conn_id'] === 3)!['note']).toBe('printer fixed, toner low');
  });

  it('never creates a record; reaches a closed connection for ten minutes only; answers 200 either way', async () => {
    const controller = new SimClient(s.url, { id: '987654321' });
    expect(await controller.sendNote('123456789', 42n, 'nobody here')).toEqual({ status: 200, text: '' });
    expect(await controller.sendNote('unknown', 42n, 'nobody here')).toEqual({ status: 200, text: '' });
    expect(await connRecords()).toEqual([]);

    const controlled = await controlledWithConnection(5, 42n);
    expect(await controller.sendNote('123456789', 43n, 'another session')).toEqual({ status: 200, text: '' });
    expect((await connRecords()).map((x) => x['note'])).toEqual(['']);
    await controlled.connectionClosed(5, 42n);
    now += 9 * 60_000;
    await controller.sendNote('123456789', 42n, 'after the close');
    expect((await connRecords())[0]!['note']).toBe('after the close');
    now += 2 * 60_000;
    expect(await controller.sendNote('123456789', 42n, 'too late')).toEqual({ status: 200, text: '' });
    expect((await connRecords()).map((x) => x['note'])).toEqual(['after the close']);
  });

  it('refuses what no client sends (400, never 5xx) and leaves the note alone', async () => {
    await controlledWithConnection(6, 7n);
    const post = (body: string) =>
      s.fetch('/api/audit/conn', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const bad: [string, RegExp][] = [
      [`{"id":"123456789","session_id":7,"note":"${'x'.repeat(2001)}"}`, /note' must be at most 2000/],
      ['{"id":"123456789","session_id":7,"note":5}', /note' must be a string/],
      ['{"id":"123456789","session_id":-1,"note":"x"}', /session_id' must be an unsigned 64-bit/],
      ['{"id":"123456789","session_id":18446744073709551616,"note":"x"}', /session_id' must be an unsigned/],
      ['{"id":"123456789","note":"x"}', /session_id' is required/],
      ['{"session_id":7,"note":"x"}', /'id' is required/],
      ['{"id":"123456789","session_id":7,"note":null}', /note' must be a string/],
    ];
    for (const [body, error] of bad) {
      const r = await post(body);
      expect(r.status, body.slice(0, 80)).toBe(400);
      expect(((await r.json()) as { error: string }).error, body.slice(0, 80)).toMatch(error);
    }
    expect((await connRecords()).map((x) => x['note'])).toEqual(['']);
    // 2000 characters are taken (PUT /api/audit's limit)
    expect((await post(`{"id":"123456789","session_id":7,"note":"${'y'.repeat(2000)}"}`)).status).toBe(200);
    expect((await connRecords())[0]!['note']).toBe('y'.repeat(2000));
  });
});

describe("finding a session's record", () => {
  it('goes through the (device_id, session_id) index, not the whole history of the device', async () => {
    const plan = (await s.store.auditLogs.sessionPlan('555000111', '4242')).join(' · ');
    expect(plan).toContain('USING INDEX audit_conn_device_session (device_id=? AND session_id=?)');
  });
});

describe('the live connection GUID and the end-of-connection note (model.dart, dialog.dart)', () => {
  it('answers 200 null until the controlled side reports the session; the retrying client then finds it', async () => {
    await s.seedUsers(['helper']);
    const controller = new SimClient(s.url, { id: '987654321' });
    await controller.heartbeat();
    const token = (await controller.login('helper', 'password123')).json!['access_token'] as string;
    const controlled = new SimClient(s.url, { id: '123456789' });
    await controlled.heartbeat();
    await controlled.connectionOpened(9, MAX, '10.0.0.9');

    // nothing authorised yet: a 200 without a GUID, which the client asks again after
    expect(await controller.activeConn('123456789', MAX, 0, token)).toEqual({
      status: 200,
      text: 'null',
      guid: null,
    });
    const found = await controller.queryAuditGuid(
      '123456789',
      MAX,
      0,
      token,
      [20, 20, 20, 20, 20, 20],
      async (answer, attempt) => {
        // the controlled side's "authorised" post arrives after the client's first question
        if (attempt === 1) {
          expect(answer).toMatchObject({ status: 200, guid: null });
          await controlled.connectionAuthorised(9, MAX, ['987654321', 'helper'], 0);
        }
      },
    );
    const guid = (await connRecords())[0]!['guid'];
    expect(found).toEqual({ guid, asked: 2 });

    // the note at the end of the connection, by that GUID
    const put = await s.call('PUT', '/api/audit', token, { guid, note: 'done' });
    expect(put.status, put.text).toBe(200);
    expect((await connRecords())[0]!['note']).toBe('done');
    // closed: no live connection any more, still a 200
    await controlled.connectionClosed(9, MAX);
    expect(await controller.activeConn('123456789', MAX, 0, token)).toMatchObject({
      status: 200,
      guid: null,
    });
    // authorisation is unchanged: no token, no answer
    expect((await controller.activeConn('123456789', MAX, 0, 'rds_nope')).status).toBe(401);
  });
});

describe("a client's login assigns its device (server-model §1.4)", () => {
  it('assigns the registered, unassigned device it logs in on to the user, in the console log', async () => {
    await s.seedUsers(['mike']);
    const c = new SimClient(s.url, { id: '555000111' });
    await c.heartbeat();
    const r = await c.login('mike', 'password123');
    expect(r.status).toBe(200);
    expect(r.json!['access_token']).toMatch(/^rds_/);
    expect(await s.store.devices.getById('555000111')).toMatchObject({ user_name: 'mike' });
    const [assigned, login] = await s.store.audit.listConsole();
    expect(assigned).toMatchObject({
      typ: 2,
      iop: 12,
      operator: 'mike',
      detail: "device 555000111: assigned to user 'mike' (login on the device)",
    });
    expect(login).toMatchObject({ typ: 1, iop: 0, operator: 'mike', detail: 'login from device 555000111' });
  });

  it("takes no device from its user, none for another machine's uuid, an unknown ID or a login without id; the login succeeds", async () => {
    await s.seedUsers(['mike', 'anna']);
    const c = new SimClient(s.url, { id: '555000111' });
    await c.heartbeat();
    const userOf = async (id: string) => (await s.store.devices.getById(id))?.user_name ?? null;

    // another machine that knows the ID (its own uuid)
    const impostor = new SimClient(s.url, { id: '555000111' });
    expect((await impostor.login('anna', 'password123')).status).toBe(200);
    expect(await userOf('555000111')).toBeNull();
    // a login without id and uuid (rdadmin, scripts)
    await s.login('anna', 'password123');
    expect(await userOf('555000111')).toBeNull();
    // an ID that never registered: nothing created
    expect((await new SimClient(s.url, { id: '777' }).login('anna', 'password123')).status).toBe(200);
    expect(await s.store.devices.getById('777')).toBeUndefined();

    // assigned to mike by his login; anna's login on the same device leaves it his
    await c.login('mike', 'password123');
    expect((await c.login('anna', 'password123')).status).toBe(200);
    expect(await userOf('555000111')).toBe('mike');

    // a device whose uuid an administrator reset has none to match
    const d = new SimClient(s.url, { id: '555000222' });
    await d.heartbeat();
    await s.store.devices.update([(await s.store.devices.getById('555000222'))!.guid], { uuid: '' });
    expect((await d.login('anna', 'password123')).status).toBe(200);
    expect(await userOf('555000222')).toBeNull();

    const assignments = (await s.store.audit.listConsole()).filter((x) => x.detail.includes('assigned'));
    expect(assignments.map((x) => x.detail)).toEqual([
      "device 555000111: assigned to user 'mike' (login on the device)",
    ]);
  });
});

describe("the legacy (Sciter) client's token check: POST /api/currentUser", () => {
  it("answers a dead session 401 'Invalid token', the reason in WWW-Authenticate; other routes keep their text", async () => {
    const token = await s.login('admin', 'test1234');
    expect((await s.call('POST', '/api/currentUser', token, { id: '1', uuid: 'u' })).status).toBe(200);
    expect((await s.call('POST', '/api/logout', token, {})).status).toBe(200);
    const r = await s.fetch('/api/currentUser', {
      method: 'POST',
      token,
      headers: { 'content-type': 'application/json' },
      body: '{"id":"1","uuid":"u"}',
    });
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ error: 'Invalid token' });
    expect(r.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="session is not valid (expired, logged out or revoked): log in again"',
    );
    const other = await s.fetch('/api/users', { token });
    expect(other.status).toBe(401);
    expect(await other.json()).toEqual({
      error: 'session is not valid (expired, logged out or revoked): log in again',
    });
    expect(other.headers.get('www-authenticate')).toBeNull();
  });
});

describe('GET / (the address-book menu\'s "web console" opens the API server)', () => {
  it('is a short static HTML page saying this is rdadmin serve, without a web console', async () => {
    const r = await s.fetch('/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(r.headers.get(k), k).toBe(v);
    const text = await r.text();
    expect(text).toMatch(/^<!doctype html>/);
    expect(text).toContain('<title>rdadmin serve</title>');
    expect(text).toContain('It has no web console.');
    expect(text).not.toContain('<script');
    expect(text).not.toContain(SERVER_VERSION);
    expect(text).not.toContain(new URL(s.url).port);
    // without a token, and the same for a logged-in caller
    const again = await s.fetch('/', { token: s.token });
    expect(await again.text()).toBe(text);
    expect(text).toContain('<a href="api/openapi.json">');
  });

  it('links the API description by its public path when the server knows it, so a sub-path without a trailing slash works', async () => {
    const link = async (
      config: { publicUrl?: string; trustProxy?: boolean },
      headers: Record<string, string> = {},
    ) => {
      const own = await startTestServer({ config });
      try {
        const text = await (await own.fetch('/', { headers })).text();
        return /<a href="([^"]*)">api\/openapi\.json<\/a>/.exec(text)?.[1];
      } finally {
        await own.close();
      }
    };
    expect(await link({ publicUrl: 'https://rd.example.org/console/' })).toBe('/console/api/openapi.json');
    expect(await link({ publicUrl: 'https://rd.example.org' })).toBe('api/openapi.json');
    expect(await link({ trustProxy: true }, { 'x-forwarded-prefix': '/rustdesk' })).toBe(
      '/rustdesk/api/openapi.json',
    );
    expect(await link({ trustProxy: true }, { 'x-forwarded-prefix': '/a"b' })).toBe('api/openapi.json');
    // a forwarded host that makes no URL is not taken (it was a 500)
    for (const host of ['a:99999', '999.999.999.999', '[1.2.3.4.5]:80'])
      expect(
        await link({ trustProxy: true }, { 'x-forwarded-host': host, 'x-forwarded-prefix': '/rd' }),
        host,
      ).toBe('/rd/api/openapi.json');
    // an untrusted header changes nothing
    expect(await link({}, { 'x-forwarded-prefix': '/rustdesk' })).toBe('api/openapi.json');
  });
});

describe('the simulated client starts as the real one (sync.rs)', () => {
  const sent: { path: string; body: unknown }[] = [];
  const recording = new Agent().compose(
    (dispatch: Dispatcher['dispatch']) =>
      (opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) => {
        sent.push({
          path: opts.path,
          body: typeof opts.body === 'string' ? JSON.parse(opts.body) : undefined,
        });
        return dispatch(opts, handler);
      },
  );
  afterAll(async () => {
    await recording.close();
  });

  it('uploads its system info before its first heartbeat, and sends modified_at (0 at first) with every heartbeat', async () => {
    sent.length = 0;
    const c = new SimClient(
      s.url,
      { id: '600000001', presets: { 'preset-device-name': 'front-desk' } },
      recording,
    );
    await c.heartbeat();
    await c.heartbeat();
    expect(sent.map((x) => x.path)).toEqual(['/api/sysinfo', '/api/heartbeat', '/api/heartbeat']);
    // the device-name preset replaces the host name; it is not sent as a key
    expect(sent[0]!.body).toMatchObject({ id: '600000001', hostname: 'front-desk' });
    expect(sent[0]!.body).not.toHaveProperty('preset-device-name');
    const [first, second] = [sent[1]!.body as Row, sent[2]!.body as Row];
    expect(first['modified_at']).toBe(0);
    expect(second['modified_at']).toBe(c.modifiedAt);
    expect(c.modifiedAt).not.toBe(0);
    expect(c.sysinfoUploads).toBe(1);
    expect((await s.store.devices.getById('600000001'))?.device_name).toBe('front-desk');
    // a restarted client uploads again first
    c.restart();
    sent.length = 0;
    await c.heartbeat();
    expect(sent.map((x) => x.path)).toEqual(['/api/sysinfo', '/api/heartbeat']);
  });
});
