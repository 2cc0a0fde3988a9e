import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server';

// What a RustDesk client's group list shows (server-model §1.5): GET /api/peers and GET /api/users
// as a logged-in client calls them (`accessible`, `status=1`), answered from the access rules.

let s: TestServer;
const sessions: Record<string, string> = {};

beforeAll(async () => {
  s = await startTestServer();
  await s.seedUsers(['alice', 'bob'], { group: 'Sales' });
  await s.seedUsers(['erin'], { group: 'Sales', status: 0 });
  await s.seedUsers(['carol'], { group: 'Support' });
  await s.seedUsers(['dave'], { group: 'Eng' });
  // Support may reach Sales (a cross-group rule); Kiosks is reached from Support, Vault by dave.
  const support = await s.store.users.getGroupByName('Support');
  await s.adminOk('PATCH', `/api/user-groups/${support!.guid}`, {
    allowed_outgoings: [{ type: 0, name: 'Sales' }],
  });
  await s.adminOk('POST', '/api/device-groups', {
    name: 'Kiosks',
    allowed_incomings: [{ type: 0, name: 'Support' }],
  });
  await s.adminOk('POST', '/api/device-groups', {
    name: 'Vault',
    allowed_incomings: [{ type: 2, name: 'dave' }],
  });
  const user = async (n: string) => (await s.store.users.getByName(n))!.guid;
  const group = async (n: string) => (await s.store.groups.getDeviceGroupByName(n))!.guid;
  const devices: [string, Record<string, unknown>][] = [
    ['100000001', { user_guid: await user('alice') }],
    ['100000002', { user_guid: await user('bob') }],
    ['100000003', { user_guid: await user('carol') }],
    ['100000004', { device_group_guid: await group('Kiosks') }],
    ['100000005', { device_group_guid: await group('Vault') }],
    ['100000006', {}],
    ['100000007', { user_guid: await user('alice'), status: 0 }],
    ['100000008', { user_guid: await user('erin') }],
  ];
  for (const [id, patch] of devices) await s.store.devices.create(id, { status: 1, ...patch });
  for (const n of ['alice', 'carol', 'dave']) sessions[n] = await s.login(n, 'password123');
  sessions['admin'] = await s.login('admin', 'test1234');
});
afterAll(async () => {
  await s.close();
});

async function list<T>(path: string, token: string): Promise<{ data: T[]; total: number }> {
  const r = await s.fetch(path, { token });
  expect(r.status, await r.clone().text()).toBe(200);
  return (await r.json()) as { data: T[]; total: number };
}

const peers = async (who: string, pageSize = 100) => {
  const ids: string[] = [];
  let total = 0;
  for (let current = 1; ; current++) {
    const page = await list<{ id: string; user: string }>(
      `/api/peers?current=${current}&pageSize=${pageSize}&accessible=&status=1`,
      sessions[who] ?? who,
    );
    total = page.total;
    ids.push(...page.data.map((d) => d.id));
    if (current * pageSize >= page.total) break;
  }
  expect(ids.length).toBe(total);
  return ids.map((id) => Number(id) - 100000000);
};

describe('GET /api/peers: the devices a client may connect to', () => {
  it('own devices, group-mates, rules to user groups and device groups, and unassigned ones', async () => {
    expect(await peers('alice')).toEqual([1, 2, 6]);
    expect(await peers('carol')).toEqual([1, 2, 3, 4, 6]);
    expect(await peers('dave')).toEqual([5, 6]);
  });

  it('never a disabled device, nor one of a disabled user; pages as the client pages', async () => {
    expect(await peers('carol', 2)).toEqual([1, 2, 3, 4, 6]);
    // Small pages are walked in ID order, one large page is gathered through the indexes: the same.
    for (const who of ['alice', 'carol', 'dave', 'admin']) {
      const whole = await peers(who);
      for (const size of [1, 3]) expect(await peers(who, size), `${who}, pageSize ${size}`).toEqual(whole);
    }
  });

  it("walking a page of a user's reachable devices reads one index, not the device rows", async () => {
    const carol = (await s.store.users.getByName('carol'))!;
    const reacher = { userGuid: carol.guid, groupGuid: carol.group_guid, unassigned: true };
    // One row from the start: the page is walked in ID order (pageQuery(): cheaper than gathering).
    const plan = await s.store.devices.plan({ reachable_by: reacher }, 0, 1);
    const walk = plan.rows.find((d) => /^SCAN devices /.test(d));
    expect(walk, plan.rows.join(' | ')).toBe('SCAN devices USING COVERING INDEX devices_id_access');
  });

  it('administrators and API tokens (device:r) see every device; status=1 the enabled ones', async () => {
    expect(await peers('admin')).toEqual([1, 2, 3, 4, 5, 6, 8]);
    const all = await list<{ id: string }>('/api/peers?pageSize=100', await s.makeToken('device:r'));
    expect(all.total).toBe(8);
    const refused = await s.fetch('/api/peers', { token: await s.makeToken('user:r') });
    expect(refused.status).toBe(403);
  });

  it('rows carry the assigned user GUID as `user` (empty when none)', async () => {
    const rows = (
      await list<{ id: string; user: string; user_name: string | null }>(
        '/api/peers?accessible=&status=1',
        sessions['alice']!,
      )
    ).data;
    const alice = (await s.store.users.getByName('alice'))!.guid;
    expect(rows.map((r) => [r.id, r.user, r.user_name])).toEqual([
      ['100000001', alice, 'alice'],
      ['100000002', (await s.store.users.getByName('bob'))!.guid, 'bob'],
      ['100000006', '', null],
    ]);
  });

  it('with only_admin_unassigned, devices with no user and no device group drop out', async () => {
    const r = await s.fetch('/api/settings', {
      method: 'PUT',
      token: sessions['admin'],
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ only_admin_unassigned: true }),
    });
    expect(r.status).toBe(200);
    expect(await peers('alice')).toEqual([1, 2]);
    expect(await peers('admin')).toEqual([1, 2, 3, 4, 5, 6, 8]);
    await s.store.settings.set('only_admin_unassigned', false);
  });
});

describe('GET /api/users as a client calls it', () => {
  const users = async (who: string) =>
    (
      await list<{ name: string; grp: string; group_name: string }>(
        '/api/users?current=1&pageSize=100&accessible=&status=1',
        sessions[who]!,
      )
    ).data.map((u) => `${u.name}/${u.grp}`);

  it('the enabled users of its own group and of the user groups it may reach, with `grp`', async () => {
    expect(await users('alice')).toEqual(['alice/Sales', 'bob/Sales']);
    expect(await users('carol')).toEqual(['alice/Sales', 'bob/Sales', 'carol/Support']);
    // A rule to a device group reaches its devices, not users.
    expect(await users('dave')).toEqual(['dave/Eng']);
  });
});

describe('GET /api/login-options', () => {
  it('answers an empty list: no OIDC providers, the client offers the account login', async () => {
    const r = await fetch(`${s.url}/api/login-options`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual([]);
  });
});
