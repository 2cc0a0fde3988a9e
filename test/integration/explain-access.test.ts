import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainAccess, explainAccessVia, reachableBy, whoCanReach } from '../../src/client/access-explain';
import { createApi } from '../../src/client/index';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

// `rdadmin devices explain-access`: the answer is drawn from the admin API (users, devices,
// groups), so it must agree with what the server itself lets each user reach: for every user and
// device of a fleet with every kind of grant and blocker, `reachable` is compared with the user's
// own GET /api/peers?accessible.

let s: TestServer;
const sessions: Record<string, string> = {};
const USERS = ['alice', 'bob', 'erin', 'carol', 'dave', 'frank'];
const DEVICES: Record<string, string> = {};

beforeAll(async () => {
  s = await startTestServer();
  await s.seedUsers(['alice', 'bob'], { group: 'Sales' });
  await s.seedUsers(['erin'], { group: 'Sales', status: 0 });
  await s.seedUsers(['carol'], { group: 'Support' });
  await s.seedUsers(['dave'], { group: 'Eng' });
  await s.seedUsers(['frank'], { group: 'Ops' });
  const support = await s.store.users.getGroupByName('Support');
  await s.adminOk('PATCH', `/api/user-groups/${support!.guid}`, {
    allowed_outgoings: [{ type: 0, name: 'Sales' }],
  });
  const eng = await s.store.users.getGroupByName('Eng');
  await s.adminOk('PATCH', `/api/user-groups/${eng!.guid}`, {
    allowed_incomings: [{ type: 2, name: 'frank' }],
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
  const fleet: [string, string, Record<string, unknown>][] = [
    ['alice-own', '100000001', { user_guid: await user('alice') }],
    ['bob-own', '100000002', { user_guid: await user('bob') }],
    ['carol-own', '100000003', { user_guid: await user('carol') }],
    ['kiosk', '100000004', { device_group_guid: await group('Kiosks') }],
    ['vault', '100000005', { device_group_guid: await group('Vault') }],
    ['unassigned', '100000006', {}],
    ['alice-disabled', '100000007', { user_guid: await user('alice'), status: 0 }],
    ['erin-own', '100000008', { user_guid: await user('erin') }],
    ['dave-own', '100000009', { user_guid: await user('dave') }],
    [
      'carol-in-vault',
      '100000010',
      { user_guid: await user('carol'), device_group_guid: await group('Vault') },
    ],
  ];
  for (const [name, id, patch] of fleet) {
    await s.store.devices.create(id, { status: 1, ...patch });
    DEVICES[name] = id;
  }
  for (const n of USERS.filter((u) => u !== 'erin')) sessions[n] = await s.login(n, 'password123');
});
afterAll(async () => {
  await s.close();
});

async function accessible(who: string): Promise<Set<string>> {
  const r = await s.fetch('/api/peers?current=1&pageSize=100&accessible=&status=1', { token: sessions[who] });
  expect(r.status).toBe(200);
  return new Set(((await r.json()) as { data: { id: string }[] }).data.map((d) => d.id));
}

const api = () =>
  createApi({ baseUrl: s.url, token: s.token, timeoutMs: 10_000, connections: 2, pageSize: 100 });

describe('explain-access', () => {
  it("agrees with the server's own accessible list for every user and device", async () => {
    const a = api();
    let reachablePairs = 0;
    for (const who of USERS.filter((u) => u !== 'erin')) {
      const server = await accessible(who);
      for (const id of Object.values(DEVICES)) {
        const answer = await explainAccessVia(a, who, id);
        expect(answer.reachable, `${who} → ${id}: ${JSON.stringify(answer)}`).toBe(server.has(id));
        if (answer.reachable) reachablePairs++;
      }
    }
    // The fleet exercises both answers, many times.
    expect(reachablePairs).toBeGreaterThan(10);
    expect(reachablePairs).toBeLessThan(40);
  });

  it('who-can and can-reach: the same answers, fleet-wide', async () => {
    const a = api();
    const accessibleBy: Record<string, Set<string>> = {};
    for (const who of USERS.filter((u) => u !== 'erin')) accessibleBy[who] = await accessible(who);
    for (const id of Object.values(DEVICES)) {
      const answers = await whoCanReach(a, id);
      // Every user is answered (admin included: by the rules, with a note); erin is disabled.
      expect(answers.map((x) => x.user).sort()).toEqual(['admin', ...USERS].sort());
      const can = answers
        .filter((x) => x.reachable && x.user !== 'admin')
        .map((x) => x.user)
        .sort();
      const server = Object.keys(accessibleBy)
        .filter((who) => accessibleBy[who]!.has(id))
        .sort();
      expect(can, `who can reach ${id}`).toEqual(server);
    }
    for (const who of Object.keys(accessibleBy)) {
      const ids: string[] = [];
      for await (const x of reachableBy(a, who)) if (x.reachable) ids.push(x.device);
      expect(ids.sort(), `what ${who} can reach`).toEqual([...accessibleBy[who]!].sort());
    }
  });

  it('rdadmin devices who-can and rdadmin users can-reach', async () => {
    const env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
    const who = await cli(['devices', 'who-can', '--id', DEVICES['kiosk']!], { env });
    expect(who.code, who.stderr).toBe(0);
    expect(who.stdout).toBe(
      "carol\ta rule gives user group 'Support' (carol's group) access to device group 'Kiosks'\n",
    );
    expect(who.stderr).toContain(`1 of ${USERS.length + 1} users may connect to device ${DEVICES['kiosk']}.`);
    const reach = await cli(['users', 'can-reach', '--name', 'dave', '--json'], { env });
    expect(reach.code, reach.stderr).toBe(0);
    expect((JSON.parse(reach.stdout) as { device: string }[]).map((x) => x.device).sort()).toEqual(
      [...(await accessible('dave'))].sort(),
    );
    expect((await cli(['users', 'can-reach'], { env })).code).toBe(2);
    expect(reach.stderr).toMatch(/^dave may connect to \d+ of \d+ devices\.$/m);
    // A disabled user reaches nothing, and the summary says why.
    const erin = await cli(['users', 'can-reach', '--name', 'erin'], { env });
    expect(erin.code).toBe(0);
    expect(erin.stderr).toMatch(/erin may connect to 0 of \d+ devices \(user erin is disabled\)\./);
  });

  it('names each grant and blocker', async () => {
    const a = api();
    expect((await explainAccessVia(a, 'carol', DEVICES['alice-own']!)).grants).toEqual([
      "a rule gives user group 'Support' (carol's group) access to user group 'Sales' (alice's group)",
    ]);
    expect((await explainAccessVia(a, 'bob', DEVICES['alice-own']!)).grants).toEqual([
      "the device is assigned to alice, a member of bob's user group 'Sales'",
    ]);
    expect((await explainAccessVia(a, 'frank', DEVICES['dave-own']!)).grants).toEqual([
      "a rule gives user frank access to user group 'Eng' (dave's group)",
    ]);
    expect((await explainAccessVia(a, 'dave', DEVICES['carol-in-vault']!)).grants).toEqual([
      "a rule gives user dave access to device group 'Vault'",
    ]);
    const disabled = await explainAccessVia(a, 'alice', DEVICES['alice-disabled']!);
    expect(disabled).toMatchObject({
      reachable: false,
      blockers: ['device 100000007 is disabled'],
      grants: ['the device is assigned to alice'],
    });
    const erin = await explainAccessVia(a, 'alice', DEVICES['erin-own']!);
    expect(erin.blockers).toEqual(["the device's user erin is disabled"]);
    const none = await explainAccessVia(a, 'frank', DEVICES['kiosk']!);
    expect(none).toMatchObject({ reachable: false, grants: [], blockers: [] });
  });

  it('unassigned devices: the setting decides when the caller can read it, else a note says so', async () => {
    const viaToken = await explainAccessVia(api(), 'frank', DEVICES['unassigned']!);
    expect(viaToken.reachable).toBe(true);
    expect(viaToken.notes.join('\n')).toContain('does not show it');
    const adminSession = await s.login('admin', 'test1234');
    const asAdmin = createApi({ baseUrl: s.url, token: adminSession, timeoutMs: 10_000, connections: 2 });
    expect((await explainAccessVia(asAdmin, 'frank', DEVICES['unassigned']!)).notes).toEqual([]);
    await s.store.settings.set('only_admin_unassigned', true);
    try {
      const closed = await explainAccessVia(asAdmin, 'frank', DEVICES['unassigned']!);
      expect(closed.reachable).toBe(false);
      expect((await accessible('frank')).has(DEVICES['unassigned']!)).toBe(false);
    } finally {
      await s.store.settings.set('only_admin_unassigned', false);
    }
  });

  it('an administrator gets a note (the docs do not say whether they bypass the rules)', () => {
    const a = explainAccess({
      user: { name: 'root', status: 1, isAdmin: true, group: 'Default' },
      device: { id: '1', status: 1, user: null, deviceGroup: 'G' },
      owner: null,
      ownerGroup: null,
      deviceGroup: { name: 'G', allowed_incomings: [] },
      onlyAdminUnassigned: undefined,
    });
    expect(a.reachable).toBe(false);
    expect(a.notes[0]).toMatch(/^root is an administrator/);
  });

  it('rdadmin devices explain-access: text, --json, and a clear error for an unknown name', async () => {
    const env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
    const text = await cli(['devices', 'explain-access', '--id', DEVICES['kiosk']!, '--user_name', 'carol'], {
      env,
    });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toBe(
      `carol can connect to device ${DEVICES['kiosk']}\n  + a rule gives user group 'Support' (carol's group) access to device group 'Kiosks'\n`,
    );
    const no = await cli(['devices', 'why', '--id', DEVICES['vault']!, '--user_name', 'carol', '--json'], {
      env,
    });
    expect(JSON.parse(no.stdout)).toMatchObject({
      user: 'carol',
      device: DEVICES['vault'],
      reachable: false,
    });
    const missing = await cli(['devices', 'explain-access', '--id', '999', '--user_name', 'carol'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("device '999' not found");
    const usage = await cli(['devices', 'explain-access', '--id', '1'], { env });
    expect(usage.code).toBe(2);
  });
});
