import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimClient } from '../../src/sim/rustdesk-client';
import { parseJsonLossless } from '../../src/wire/json-lossless';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// Personal logs (server-model §1.8): a session of a user who is not an administrator reads only its
// own records; administrators and audit_log tokens read everything; the setting
// only_admin_access_logs closes the logs to everyone but administrators.

let s: TestServer;
let ann: string;
let bob: string;
let adminSession: string;

const A1 = { id: '111111111', uuid: 'YW5uLWRldmljZQ==' }; // ann's
const B1 = { id: '222222222', uuid: 'Ym9iLWRldmljZQ==' }; // bob's
const X = { id: '333333333', uuid: 'bm9ib2R5' }; // nobody's

beforeAll(async () => {
  s = await startTestServer({ config: { loginLimits: { perMinute: 3, perHour: 1_000 } } });
  await s.seedUsers(['ann', 'bob']);
  const guid = async (n: string) => (await s.store.users.getByName(n))!.guid;
  await s.store.devices.create(A1.id, { status: 1, uuid: A1.uuid, user_guid: await guid('ann') });
  await s.store.devices.create(B1.id, { status: 1, uuid: B1.uuid, user_guid: await guid('bob') });
  await s.store.devices.create(X.id, { status: 1, uuid: X.uuid });

  const a1 = new SimClient(s.url, A1);
  const b1 = new SimClient(s.url, B1);
  const x = new SimClient(s.url, X);
  // Connections: ann's device controls X; X controls bob's device; bob's device controls ann's.
  await x.connectionOpened(1, 1n, '10.0.0.1');
  await x.connectionAuthorised(1, 1n, [A1.id, 'ann'], 0);
  await b1.connectionOpened(2, 2n, '10.0.0.2');
  await b1.connectionAuthorised(2, 2n, [X.id, 'someone'], 0);
  await a1.connectionOpened(3, 3n, '10.0.0.3');
  await a1.connectionAuthorised(3, 3n, [B1.id, 'bob'], 1);
  // Files: X sends to ann's device; bob's device sends to X.
  const file = {
    conn_id: 1,
    type: 0 as const,
    path: '/tmp',
    files: [['a.txt', 10]] as [string, number][],
    ip: '10.0.0.9',
  };
  await x.fileTransfer({ ...file, peer_id: A1.id, peer_name: 'ann' });
  await b1.fileTransfer({ ...file, peer_id: X.id, peer_name: 'someone' });
  // Alarms: one per device.
  for (const c of [a1, b1, x]) await c.alarm(2, { ip: '10.9.9.9' });
  // Each logs in (a console entry each), then the account 'ann' raises login alarm 4, typed in
  // capitals (accounts are case-insensitive). Sessions first: the failures throttle this IP.
  ann = await s.login('ann', 'password123');
  bob = await s.login('bob', 'password123');
  adminSession = await s.login('admin', 'test1234');
  for (let i = 0; i < 3; i++) {
    const r = await s.fetch('/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ANN', password: 'wrong' }),
    });
    expect(r.status).toBe(401);
  }
});
afterAll(async () => {
  await s.close();
});

type Row = Record<string, unknown>;
async function list(kind: string, token: string, query = '') {
  const r = await s.fetch(`/api/audits/${kind}?pageSize=100${query}`, { token });
  const text = await r.text();
  return {
    status: r.status,
    text,
    body: r.status === 200 ? (parseJsonLossless(text) as { data: Row[]; total: number }) : undefined,
  };
}
const ids = (rows: Row[], ...keys: string[]) => rows.map((r) => keys.map((k) => r[k]).join('<-')).sort();

describe('personal logs', () => {
  it('connections and file transfers: those where one of the user’s devices is either side', async () => {
    const annConn = await list('conn', ann);
    expect(ids(annConn.body!.data, 'device_id', 'peer_id')).toEqual([
      `${A1.id}<-${B1.id}`,
      `${X.id}<-${A1.id}`,
    ]);
    expect(annConn.body!.total).toBe(2);
    const bobConn = await list('conn', bob);
    expect(ids(bobConn.body!.data, 'device_id', 'peer_id')).toEqual([
      `${A1.id}<-${B1.id}`,
      `${B1.id}<-${X.id}`,
    ]);
    expect(ids((await list('file', ann)).body!.data, 'device_id', 'peer_id')).toEqual([`${X.id}<-${A1.id}`]);
    expect(ids((await list('file', bob)).body!.data, 'device_id', 'peer_id')).toEqual([`${B1.id}<-${X.id}`]);
    // Filters narrow the own records further, never widen them.
    expect((await list('conn', ann, `&remote=${X.id}`)).body!.total).toBe(1);
    expect((await list('conn', ann, '&remote=%25')).body!.total).toBe(2);
  });

  it("alarms: the user's devices, and the login alarms of the user's account", async () => {
    const annAlarms = (await list('alarm', ann)).body!;
    expect(annAlarms.data.map((r) => [r['typ'], r['device_id']]).sort()).toEqual([
      [2, A1.id],
      [4, ''],
    ]);
    const bobAlarms = (await list('alarm', bob)).body!;
    expect(bobAlarms.data.map((r) => [r['typ'], r['device_id']])).toEqual([[2, B1.id]]);
  });

  it('console: the entries the user made', async () => {
    const annConsole = (await list('console', ann)).body!;
    expect(annConsole.data.length).toBeGreaterThan(0);
    expect(new Set(annConsole.data.map((r) => r['operator']))).toEqual(new Set(['ann']));
    expect((await list('console', ann, '&operator=admin')).body!.total).toBe(0);
  });

  it('administrators and audit_log tokens read everything', async () => {
    const token = await s.makeToken('audit_log:r');
    for (const who of [adminSession, token]) {
      expect((await list('conn', who)).body!.total).toBe(3);
      expect((await list('file', who)).body!.total).toBe(2);
      expect((await list('alarm', who)).body!.total).toBe(4);
      expect(new Set((await list('console', who)).body!.data.map((r) => r['operator']))).toEqual(
        new Set(['ann', 'bob', 'admin']),
      );
    }
  });

  it('the CLI reads them with a user session as its token', async () => {
    const r = await cli(['audits', 'view-conn', '--json'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: ann },
    });
    expect(r.code, r.stderr).toBe(0);
    // One page, as audits.py shows it: {data, total, current, pageSize}.
    expect(JSON.parse(r.stdout)).toMatchObject({ total: 2, data: [expect.any(Object), expect.any(Object)] });
  });

  it('only_admin_access_logs: users who are not administrators get 403, administrators still read', async () => {
    await s.store.settings.set('only_admin_access_logs', true);
    try {
      for (const kind of ['conn', 'file', 'alarm', 'console']) {
        const r = await list(kind, ann);
        expect(r.status, kind).toBe(403);
        expect(JSON.parse(r.text)).toEqual({
          error: 'only administrators may read the audit logs (the setting only_admin_access_logs is on)',
        });
        expect((await list(kind, adminSession)).status).toBe(200);
      }
    } finally {
      await s.store.settings.set('only_admin_access_logs', false);
    }
  });
});
