import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DevicePatch } from '../../src/server/store/devices';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

let s: TestServer;
let env: Record<string, string>;

beforeEach(async () => {
  s = await startTestServer();
  env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
});
afterEach(async () => {
  await s.close();
});

interface Rule {
  type: number;
  name: string;
}
interface DGroup {
  guid: string;
  name: string;
  note: string;
  allowed_incomings: Rule[];
  device_count: number;
}

async function dgroups(): Promise<DGroup[]> {
  const r = await s.fetch('/api/device-groups?pageSize=1000', { token: s.token });
  return ((await r.json()) as { data: DGroup[] }).data;
}
async function dgroup(name: string) {
  return (await dgroups()).find((g) => g.name === name);
}
async function groupOf(id: string): Promise<string | null | undefined> {
  return (await s.store.devices.getById(id))?.device_group_name;
}
async function device(id: string, group?: string, extra: DevicePatch = {}) {
  const g = group ? await s.store.devices.getGroupByName(group) : undefined;
  await s.store.devices.create(id, { device_group_guid: g?.guid ?? null, ...extra });
}
const requests = (prefix: string) => s.logs.filter((l) => l.startsWith(prefix));

describe('device-groups view / add / update / delete', () => {
  beforeEach(async () => {
    await s.store.users.createGroup('Admins');
    await s.seedUsers(['john']);
  });

  it('creates the documented example under every alias; rules show on the user group too', async () => {
    const r = await cli(
      ['device_group', 'add', '--name', 'Produção', '--accessed-from', '[{"type":0,"name":"Admins"}]'],
      { env },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Created device group 'Produção'.");
    const view = await cli(['device-group', 'view', '--json'], { env });
    expect(JSON.parse(view.stdout)).toEqual([
      expect.objectContaining({
        name: 'Produção',
        allowed_incomings: [{ type: 0, name: 'Admins' }],
        device_count: 0,
      }),
    ]);
    const ug = await s.fetch('/api/user-groups?name=Admins', { token: s.token });
    expect(
      ((await ug.json()) as { data: { allowed_outgoings: Rule[] }[] }).data[0]!.allowed_outgoings,
    ).toEqual([{ type: 1, name: 'Produção' }]);
    const piped = await cli(['device-groups', 'view', '--name', 'Produção'], { env });
    expect(piped.stdout).toBe('Produção\t0\tuser-group:Admins\t\n');
  });

  it('device groups take --accessed-from only: --access-to is an unknown option, types 0 and 2', async () => {
    const to = await cli(['device-groups', 'add', '--name', 'X', '--access-to', 'user-group:Admins'], {
      env,
    });
    expect(to.code).toBe(2);
    expect(to.stderr).toContain("unknown option '--access-to'");
    const dg = await cli(['device-groups', 'add', '--name', 'X', '--accessed-from', 'device-group:Y'], {
      env,
    });
    expect(dg.code).toBe(2);
    expect(dg.stderr).toContain('type 1 (device group) is not allowed here');
    const bad = await cli(['device-groups', 'add', '--name', 'X', '--accessed-from', '[{type:0}]'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--accessed-from is not valid JSON');
    expect(requests('POST /api/device-groups')).toEqual([]);
    const raw = await s.fetch('/api/device-groups', {
      method: 'POST',
      token: s.token,
      body: JSON.stringify({ name: 'X', allowed_outgoings: [{ type: 0, name: 'Admins' }] }),
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: string }).error).toContain('unknown field(s): allowed_outgoings');
    const type1 = await s.fetch('/api/device-groups', {
      method: 'POST',
      token: s.token,
      body: JSON.stringify({ name: 'X', allowed_incomings: [{ type: 1, name: 'X' }] }),
    });
    expect(((await type1.json()) as { error: string }).error).toContain(
      'allowed_incomings[0] {"type":1,"name":"X"}: type 1 (device group) is not allowed in allowed_incomings of a device group',
    );
  });

  it('update: only what is given; [] clears; nothing to change is exit 2 (D-22)', async () => {
    await cli(['device-groups', 'add', '--name', 'Lab', '--note', 'n', '--accessed-from', 'user:john'], {
      env,
    });
    const rename = await cli(['device-groups', 'update', '--name', 'Lab', '--new-name', 'Lab 2'], { env });
    expect(rename.code).toBe(0);
    expect(await dgroup('Lab 2')).toMatchObject({
      note: 'n',
      allowed_incomings: [{ type: 2, name: 'john' }],
    });
    const rules = await cli(
      ['device-groups', 'update', '--name', 'Lab 2', '--accessed-from', 'user-group:Admins', '--note', ''],
      { env },
    );
    expect(rules.code).toBe(0);
    expect(await dgroup('Lab 2')).toMatchObject({
      note: '',
      allowed_incomings: [{ type: 0, name: 'Admins' }],
    });
    await cli(['device-groups', 'update', '--name', 'Lab 2', '--accessed-from', '[]'], { env });
    expect((await dgroup('Lab 2'))!.allowed_incomings).toEqual([]);
    const none = await cli(['device-groups', 'update', '--name', 'Lab 2'], { env });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('update needs something to change: --new-name, --note, --accessed-from');
    const missing = await cli(['device-groups', 'update', '--name', 'Lab', '--note', 'x'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("device group 'Lab' not found");
  });

  it('delete: the devices become ungrouped; a typo in a list deletes nothing (D-6)', async () => {
    await s.store.devices.createGroup('A');
    await s.store.devices.createGroup('B');
    await device('111', 'A');
    const typo = await cli(['device-groups', 'delete', '--name', 'A,C', '--yes'], { env });
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain("device group 'C' not found: nothing was deleted");
    expect(await dgroup('A')).toBeDefined();
    const r = await cli(['device-groups', 'delete', '--name', 'A,B', '--yes'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Deleted A\nDeleted B\n');
    expect(await dgroups()).toEqual([]);
    expect(await groupOf('111')).toBeNull();
    const log = await s.store.audit.listConsole();
    expect(log.map((e) => e.detail)).toContain(
      "deleted device group 'A' (1 device now ungrouped) (API token 'all')",
    );
  });
});

describe('device-groups add-devices / remove-devices / view-devices', () => {
  beforeEach(async () => {
    await s.store.devices.createGroup('Old');
    await s.store.devices.createGroup('New');
    await s.seedUsers(['john', 'mary']);
    const john = (await s.store.users.getByName('john'))!.guid;
    await device('111111111', 'Old', { device_name: 'server-1', device_username: 'root', user_guid: john });
    await device('222222222', undefined, { device_name: 'laptop', device_username: 'anna' });
    await device('333333333', 'New', { device_name: 'server-2', device_username: 'root' });
  });

  it('add-devices takes device IDs; a device in another group moves (reported)', async () => {
    const r = await cli(
      ['device-groups', 'add-devices', '--name', 'New', '--ids', '111111111, 222222222,333333333', '--yes'],
      {
        env,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Moved 111111111 from 'Old'\n");
    expect(r.stderr).toContain("Added 2 device(s) to device group 'New' (1 already in it).");
    for (const id of ['111111111', '222222222', '333333333']) expect(await groupOf(id)).toBe('New');
    expect((await dgroup('Old'))!.device_count).toBe(0);
    expect((await dgroup('New'))!.device_count).toBe(3);
    const back = await cli(
      ['device-groups', 'add-devices', '--name', 'Old', '--ids', '111111111', '--json'],
      { env },
    );
    expect(JSON.parse(back.stdout)).toEqual({
      group: 'Old',
      ids: ['111111111'],
      added: 1,
      moved: [{ id: '111111111', from: 'New' }],
    });
  });

  it('an unknown device ID changes nothing (exit 1); an unknown group is exit 1, not 0 (D-11)', async () => {
    const r = await cli(
      ['device-groups', 'add-devices', '--name', 'New', '--ids', '111111111,999', '--yes'],
      {
        env,
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('device not found: 999 (HTTP 404)');
    expect(await groupOf('111111111')).toBe('Old');
    const g = await cli(['device-groups', 'add-devices', '--name', 'Nope', '--ids', '111111111'], { env });
    expect(g.code).toBe(1);
    expect(g.stderr).toContain("device group 'Nope' not found");
    const usage = await cli(['device-groups', 'remove-devices', '--name', 'New'], { env });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('remove-devices needs --ids');
  });

  it('remove-devices ungroups; a device not in that group changes nothing', async () => {
    const wrong = await cli(
      ['device-groups', 'remove-devices', '--name', 'New', '--ids', '333333333,111111111', '--yes'],
      {
        env,
      },
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("not in device group 'New': 111111111 (in 'Old'); nothing was changed");
    expect(await groupOf('333333333')).toBe('New');
    const r = await cli(['device-groups', 'remove-devices', '--name', 'New', '--ids', '333333333'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("Removed 1 device(s) from device group 'New'.");
    expect(await groupOf('333333333')).toBeNull();
  });

  it('--dry-run resolves the group and changes nothing', async () => {
    const r = await cli(
      ['device-groups', 'add-devices', '--name', 'New', '--ids', '111111111', '--dry-run'],
      { env },
    );
    expect(r).toMatchObject({ code: 0, stdout: '111111111\n' });
    expect(await groupOf('111111111')).toBe('Old');
  });

  it('more than one device is confirmed: refused without a terminal (listed), asked on one', async () => {
    // The devices are read first (what would change is what is confirmed); nothing is changed.
    const changes = () => s.logs.filter((l) => / (POST|DELETE) \/api\/device-groups\//.test(` ${l}`)).length;
    const before = changes();
    await device('444444444', 'New');
    for (const [verb, ids] of [
      ['add-devices', '111111111,222222222'],
      ['remove-devices', '333333333,444444444'],
    ] as const) {
      const r = await cli(['device-groups', verb, '--name', 'New', '--ids', ids], { env });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`Found 2 devices:\n  ${ids.replace(',', '\n  ')}\n`);
      expect(r.stderr).toContain('confirmation is needed and there is no terminal to ask');
    }
    expect(changes()).toBe(before);
    const no = await cli(['device-groups', 'add-devices', '--name', 'New', '--ids', '111111111,222222222'], {
      env,
      tty: true,
      answer: false,
    });
    expect(no).toMatchObject({ code: 3, asked: ["Put 2 devices into 'New'?"] });
    expect(await groupOf('111111111')).toBe('Old');
    const yes = await cli(['device-groups', 'add-devices', '--name', 'New', '--ids', '111111111,222222222'], {
      env,
      tty: true,
      answer: true,
    });
    expect(yes.code).toBe(0);
    expect(await groupOf('222222222')).toBe('New');
    expect(changes()).toBe(before + 1); // the one change, seen by the same count
  });

  it('view-devices: --name is the exact group, the other filters substrings', async () => {
    await s.store.devices.createGroup('Ol_');
    await device('444444444', 'Ol_', { device_name: 'server-3' });
    const ids = (out: string) => (JSON.parse(out) as { id: string }[]).map((d) => d.id);
    const group = await cli(['device-groups', 'view-devices', '--name', 'Old', '--json'], { env });
    expect(ids(group.stdout)).toEqual(['111111111']);
    const under = await cli(['device-groups', 'view-devices', '--name', 'Ol_', '--json'], { env });
    expect(ids(under.stdout)).toEqual(['444444444']);
    const byName = await cli(['device-groups', 'view-devices', '--device-name', 'server', '--json'], { env });
    expect(ids(byName.stdout)).toEqual(['111111111', '333333333', '444444444']);
    const combo = await cli(
      ['device-groups', 'view-devices', '--name', 'Old', '--user-name', 'jo', '--json'],
      { env },
    );
    expect(ids(combo.stdout)).toEqual(['111111111']);
    const os = await cli(
      ['device-groups', 'view-devices', '--device-username', 'root', '--id', '33', '--json'],
      {
        env,
      },
    );
    expect(ids(os.stdout)).toEqual(['333333333']);
    const ungrouped = await cli(['device-groups', 'view-devices', '--name', '-', '--json'], { env });
    expect(ids(ungrouped.stdout)).toEqual(['222222222']);
    const piped = await cli(['device-groups', 'view-devices', '--name', 'New'], { env });
    expect(piped.stdout).toBe('333333333\tserver-2\t\troot\t\tNew\n');
    await s.store.devices.createGroup('Empty');
    const none = await cli(['device-groups', 'view-devices', '--name', 'Empty'], { env });
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('Found 0 devices');
    // A group that does not exist is exit 1 (with similar names), nothing on stdout.
    for (const json of [[], ['--json']]) {
      const typo = await cli(['device-groups', 'view-devices', '--name', 'Nwe', ...json], { env });
      expect(typo).toMatchObject({ code: 1, stdout: '' });
      expect(typo.stderr).toContain("device group 'Nwe' not found");
    }
    // A token that may list devices but not device groups keeps the empty answer.
    const deviceR = await s.makeToken('device:r');
    const blind = await cli(['device-groups', 'view-devices', '--name', 'Nwe', '--json'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: deviceR },
    });
    expect(blind).toMatchObject({ code: 0, stdout: '[]\n' });
  });

  it('scopes: members need device_group:rw; view-devices needs device:r', async () => {
    const dgR = await s.makeToken('device_group:r');
    const add = await cli(['device-groups', 'add-devices', '--name', 'New', '--ids', '111111111'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: dgR },
    });
    expect(add.code).toBe(4);
    expect(add.stderr).toContain('lacks permission device_group:rw');
    const view = await cli(['device-groups', 'view-devices', '--name', 'New'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: dgR },
    });
    expect(view.code).toBe(4);
    expect(view.stderr).toContain('lacks permission device:r');
    const devR = await s.makeToken('device:r');
    const ok = await cli(['device-groups', 'view-devices', '--name', 'New', '--json'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: devR },
    });
    expect(ok.code).toBe(0);
    const rw = await s.makeToken('device_group:rw');
    const yes = await cli(['device-groups', 'add-devices', '--name', 'New', '--ids', '111111111'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: rw },
    });
    expect(yes.code).toBe(0);
  });

  it('every change is audited with the group codes', async () => {
    await cli(['device-groups', 'add-devices', '--name', 'New', '--ids', '111111111'], { env });
    await cli(['device-groups', 'remove-devices', '--name', 'New', '--ids', '111111111'], { env });
    const log = (await s.store.audit.listConsole()).slice(0, 2).reverse();
    expect(log.map((e) => [e.typ, e.iop, e.detail])).toEqual([
      [
        0,
        10,
        "added devices 111111111 to device group 'New' (moved from: 111111111 ← 'Old') (API token 'all')",
      ],
      [0, 10, "removed devices 111111111 from device group 'New' (API token 'all')"],
    ]);
  });
});

describe('device-groups accessible', () => {
  let mike: string;
  let sue: string;
  beforeEach(async () => {
    await s.seedUsers(['mike'], { group: 'Engineering' });
    await s.seedUsers(['sue'], { group: 'Sales' });
    for (const g of ['Dev Servers', 'Kiosks', 'Vault']) await s.store.devices.createGroup(g);
    await cli(
      ['device-groups', 'update', '--name', 'Dev Servers', '--accessed-from', 'user-group:Engineering'],
      { env },
    );
    await cli(['user-groups', 'update', '--name', 'Sales', '--access-to', 'device-group:Kiosks'], { env });
    await cli(['device-groups', 'update', '--name', 'Vault', '--accessed-from', 'user:mike'], { env });
    mike = await s.login('mike', 'password123');
    sue = await s.login('sue', 'password123');
  });

  const names = (out: string) => (JSON.parse(out) as { name: string }[]).map((g) => g.name);

  it('a non-admin session sees the groups its user or user group may reach', async () => {
    const m = await cli(['device-groups', 'accessible', '--json'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: mike },
    });
    expect(m.code).toBe(0);
    expect(names(m.stdout)).toEqual(['Dev Servers', 'Vault']);
    const u = await cli(['device-groups', 'accessible'], { env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: sue } });
    expect(u.stdout).toBe('Kiosks\t\n');
    // …but may not manage groups.
    const denied = await cli(['device-groups', 'view'], { env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: sue } });
    expect(denied.code).toBe(4);
  });

  it('an admin session and an admin-owned token (device_group:r) reach every group; paginated', async () => {
    const admin = await s.login('admin', 'test1234');
    const a = await cli(['device-groups', 'accessible', '--json'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: admin, RDADMIN_PAGE_SIZE: '2' },
    });
    expect(names(a.stdout)).toEqual(['Dev Servers', 'Kiosks', 'Vault']);
    expect(requests('GET /api/device-group/accessible ')).toHaveLength(2);
    const t = await s.makeToken('device_group:r');
    const tok = await cli(['device-groups', 'accessible', '--json'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: t },
    });
    expect(names(tok.stdout)).toEqual(['Dev Servers', 'Kiosks', 'Vault']);
    const none = await s.makeToken('device:rw');
    const refused = await cli(['device-groups', 'accessible'], {
      env: { RDADMIN_URL: s.url, RDADMIN_TOKEN: none },
    });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('lacks permission device_group:r');
  });

  it('answers the client shape {data:[{name}], total}', async () => {
    const r = await s.fetch('/api/device-group/accessible?current=1&pageSize=1', { token: mike });
    const body = (await r.json()) as { data: { name: string }[]; total: number };
    expect(body.total).toBe(2);
    expect(body.data).toEqual([expect.objectContaining({ name: 'Dev Servers' })]);
  });
});
