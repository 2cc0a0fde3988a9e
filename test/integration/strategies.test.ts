import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimClient } from '../../src/sim/rustdesk-client';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

let s: TestServer;
let env: Record<string, string>;
let dev: SimClient;

beforeEach(async () => {
  s = await startTestServer();
  env = { RDADMIN_URL: s.url, RDADMIN_TOKEN: s.token };
  await s.seedUsers(['mike', 'user1']);
  dev = new SimClient(s.url, { id: '1849118658' });
  await dev.heartbeat();
});
afterEach(async () => {
  await s.close();
});

const strategy = (name: string) => s.store.strategies.getByName(name);
const guidOf = async (id: string) => (await s.store.devices.getById(id))!.guid;

async function effective(peer = '1849118658') {
  const r = await cli(['strategies', 'effective', '--peer', peer, '--json'], { env });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    name: string | null;
    level: string;
    managed: boolean;
    options: Record<string, string>;
  };
}

describe('strategy definitions', () => {
  it('Default exists; create / update / view / list / delete', async () => {
    const list = await cli(['strategies', 'list', '--json'], { env });
    expect((JSON.parse(list.stdout) as { name: string }[]).map((x) => x.name)).toEqual(['Default']);
    const c = await cli(
      [
        'strategies',
        'create',
        '--name',
        'Kiosk',
        '--option',
        'enable-file-transfer=N',
        '--option',
        'approve-mode=password',
      ],
      {
        env,
      },
    );
    expect(c.code).toBe(0);
    expect(c.stderr).toContain("Created strategy 'Kiosk' with 2 options.");
    const u = await cli(
      [
        'strategies',
        'update',
        '--name',
        'Kiosk',
        '--option',
        'enable-audio=N',
        '--unset',
        'approve-mode',
        '--new-name',
        'Kiosks',
      ],
      { env },
    );
    expect(u.code).toBe(0);
    const v = await cli(['strategies', 'view', '--name', 'Kiosks', '--json'], { env });
    expect(JSON.parse(v.stdout)).toMatchObject({
      name: 'Kiosks',
      enabled: true,
      options: { 'enable-file-transfer': 'N', 'enable-audio': 'N' },
      assigned: { peers: 0, users: 0, groups: 0 },
    });
    const byGuid = await cli(['strategies', 'view', '--guid', (await strategy('Kiosks'))!.guid], { env });
    expect(byGuid.stdout).toContain('option\tenable-audio=N');
    // Assigned to nothing: one exact name is deleted without a question.
    expect((await cli(['strategies', 'delete', '--name', 'Kiosks'], { env })).code).toBe(0);
    expect(await strategy('Kiosks')).toBeUndefined();
  });

  it('refuses bad input before any request, and server-side conflicts with exit 1', async () => {
    // Against a port nothing listens on: a request would end in exit 5, not 2.
    const nowhere = { ...env, RDADMIN_URL: 'http://127.0.0.1:1' };
    for (const args of [
      ['create', '--name', 'X', '--option', 'novalue'],
      ['update', '--name', 'Default'],
      ['update', '--name', 'Default', '--option', 'a=1', '--unset', 'a'],
      ['view'],
      ['assign', '--name', 'Default'],
      ['assign', '--peers', '1849118658'],
      ['unassign', '--name', 'Default', '--users', 'mike'],
      ['unassign'],
      ['enable'],
      ['delete'],
      ['effective'],
    ]) {
      const r = await cli(['strategies', ...args], { env: nowhere });
      expect([args, r.code, r.stderr]).toEqual([args, 2, expect.stringMatching(/^error: /)]);
    }
    const dup = await cli(['strategies', 'create', '--name', 'Default'], { env });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("a strategy named 'Default' already exists");
    const del = await cli(['strategies', 'delete', '--name', 'Default', '--yes'], { env });
    expect(del.code).toBe(1);
    expect(del.stderr).toContain('cannot be deleted');
    const unknown = await cli(['strategies', 'enable', '--name', 'Nope'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("strategy 'Nope' not found");
  });

  it('enable / disable send the bare JSON boolean', async () => {
    await s.store.strategies.create('S', {});
    expect((await cli(['strategies', 'disable', '--name', 'S'], { env })).code).toBe(0);
    expect((await strategy('S'))?.enabled).toBe(0);
    const raw = await s.fetch(`/api/strategies/${(await strategy('S'))!.guid}/status`, {
      method: 'PUT',
      token: s.token,
      body: 'true',
    });
    expect(raw.status).toBe(200);
    expect((await strategy('S'))?.enabled).toBe(1);
    const bad = await s.fetch(`/api/strategies/${(await strategy('S'))!.guid}/status`, {
      method: 'PUT',
      token: s.token,
      body: '"yes"',
    });
    expect(bad.status).toBe(400);
  });
});

describe('precedence: device > user > device group > Default', () => {
  it('each level decides in turn, and a disabled strategy at the deciding level means unmanaged', async () => {
    const ids = {
      dev: await s.store.strategies.create('DeviceS', { a: 'device' }),
      user: await s.store.strategies.create('UserS', { a: 'user' }),
      group: await s.store.strategies.create('GroupS', { a: 'group' }),
    };
    expect(await effective()).toMatchObject({ name: 'Default', level: 'default', managed: true });
    const g = await s.store.devices.createGroup('Prod');
    const d = await guidOf('1849118658');
    const mike = (await s.store.users.getByName('mike'))!.guid;
    await s.store.devices.update([d], { device_group_guid: g, user_guid: mike });
    await s.store.strategies.assign(ids.group, { peers: [], users: [], groups: [g] });
    expect(await effective()).toMatchObject({
      name: 'GroupS',
      level: 'device_group',
      options: { a: 'group' },
    });
    await s.store.strategies.assign(ids.user, { peers: [], users: [mike], groups: [] });
    expect(await effective()).toMatchObject({ name: 'UserS', level: 'user' });
    await s.store.strategies.assign(ids.dev, { peers: [d], users: [], groups: [] });
    expect(await effective()).toMatchObject({ name: 'DeviceS', level: 'device', managed: true });
    await s.store.strategies.update(ids.dev, { enabled: false });
    expect(await effective()).toMatchObject({ name: 'DeviceS', level: 'device', managed: false });
    const human = await cli(['strategies', 'effective', '--peer', '1849118658'], { env });
    expect(human.stdout).toContain(
      "Device 1849118658 is managed by no strategy: 'DeviceS' (from its own assignment) is disabled.",
    );
    expect(human.stdout).toMatch(/device\s+DeviceS\s+← decides/);
    await s.store.strategies.assign(null, { peers: [d], users: [], groups: [] });
    expect(await effective()).toMatchObject({ name: 'UserS', level: 'user' });
  });
});

describe('delivery to clients by heartbeat', () => {
  it('a change reaches the client on its next heartbeat; an unchanged strategy is not resent', async () => {
    const id = await s.store.strategies.create('Locked', { 'enable-file-transfer': 'N' });
    dev = new SimClient(s.url, { id: '1849118658', uuid: dev.info.uuid });
    const first = await dev.heartbeat();
    expect(first.modified_at).toBeDefined();
    expect(first.strategy).toEqual({ config_options: {}, extra: {} }); // Default, empty
    const second = await dev.heartbeat();
    expect(second.strategy).toBeUndefined();
    expect(second.modified_at).toBeUndefined();
    const r = await cli(['strategies', 'assign', '--name', 'Locked', '--peers', '1849118658'], { env });
    expect(r.code).toBe(0);
    expect((await dev.heartbeat()).strategy).toEqual({
      config_options: { 'enable-file-transfer': 'N' },
      extra: {},
    });
    expect((await dev.heartbeat()).strategy).toBeUndefined();
    await cli(['strategies', 'update', '--name', 'Locked', '--option', 'enable-audio=N'], { env });
    expect((await dev.heartbeat()).strategy?.config_options).toEqual({
      'enable-file-transfer': 'N',
      'enable-audio': 'N',
    });
    await s.store.strategies.update(id, { enabled: false });
    const off = await dev.heartbeat();
    expect(off.modified_at).toBeDefined();
    // Unmanaged now: what the strategy set goes back to the client's defaults (empty values).
    expect(off.strategy).toEqual({
      config_options: { 'enable-file-transfer': '', 'enable-audio': '' },
      extra: {},
    });
    expect((await dev.heartbeat()).strategy).toBeUndefined();
  });

  it('an option a strategy no longer sets is sent empty (the client then goes back to its default)', async () => {
    await s.store.strategies.create('Kiosk', {
      'enable-file-transfer': 'N',
      'approve-mode': 'password',
    });
    await s.store.strategies.create('Servers', { 'enable-audio': 'N' });
    dev = new SimClient(s.url, { id: '1849118658', uuid: dev.info.uuid });
    await dev.heartbeat();
    expect(
      (await cli(['strategies', 'assign', '--name', 'Kiosk', '--peers', '1849118658'], { env })).code,
    ).toBe(0);
    expect((await dev.heartbeat()).strategy?.config_options).toEqual({
      'enable-file-transfer': 'N',
      'approve-mode': 'password',
    });
    // An option removed from the strategy.
    await cli(['strategies', 'update', '--name', 'Kiosk', '--unset', 'enable-file-transfer'], { env });
    expect((await dev.heartbeat()).strategy?.config_options).toEqual({
      'enable-file-transfer': '',
      'approve-mode': 'password',
    });
    // Another strategy: the first one's options are cleared, also those an earlier answer cleared
    // (an answer may have been lost).
    await cli(['strategies', 'assign', '--name', 'Servers', '--peers', '1849118658'], { env });
    expect((await dev.heartbeat()).strategy?.config_options).toEqual({
      'enable-file-transfer': '',
      'approve-mode': '',
      'enable-audio': 'N',
    });
    // Unassigned: back to Default (empty), every option sent before is cleared.
    await cli(['strategies', 'unassign', '--peers', '1849118658'], { env });
    expect((await dev.heartbeat()).strategy?.config_options).toEqual({
      'enable-file-transfer': '',
      'approve-mode': '',
      'enable-audio': '',
    });
    expect((await dev.heartbeat()).strategy).toBeUndefined();
  });

  it('preset-strategy-name and rustdesk --assign --strategy_name use the same assignment', async () => {
    await s.store.strategies.create('Preset', {});
    const c = new SimClient(s.url, { id: '555000', presets: { 'preset-strategy-name': 'Preset' } });
    await c.heartbeat();
    expect((await s.store.devices.getById('555000'))?.strategy_name).toBe('Preset');
    await s.store.strategies.create('ByAssign', {});
    const t = await s.makeToken('device:rw');
    expect(await dev.assign(t, { strategy_name: 'ByAssign' })).toEqual({ status: 200, text: '' });
    expect((await s.store.devices.getById('1849118658'))?.strategy_name).toBe('ByAssign');
    const view = await cli(['devices', 'view', '--id', '1849118658', '--json'], { env });
    expect(JSON.parse(view.stdout)[0].strategy_name).toBe('ByAssign');
  });
});

describe('assign / unassign targets', () => {
  it('by device ID, user name and GUID; the summary counts what the server applied', async () => {
    await s.store.strategies.create('T', {});
    const user1 = (await s.store.users.getByName('user1'))!.guid;
    const r = await cli(
      [
        'strategies',
        'assign',
        '--name',
        'T',
        '--peers',
        '1849118658, ',
        '--users',
        `mike,${user1}`,
        '--json',
        '--yes',
      ],
      { env },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      strategy: 'T',
      peers: 1,
      users: 2,
      groups: 0,
      confirmed_by_server: true,
    });
    expect((await s.store.users.getByName('user1'))?.strategy_guid).toBe((await strategy('T'))!.guid);
    const un = await cli(['strategies', 'unassign', '--users', 'mike'], { env });
    expect(un.code).toBe(0);
    expect(un.stderr).toContain('Unassigned the strategy of 0 devices, 1 user, 0 device groups.');
    expect((await s.store.users.getByName('mike'))?.strategy_guid).toBeNull();
  });

  it('device groups by name (taken literally: _ is not a wildcard) and by GUID', async () => {
    await s.store.strategies.create('T', {});
    await s.store.devices.createGroup('device_group1');
    await s.store.devices.createGroup('deviceXgroup1');
    const prod = await s.store.devices.createGroup('Production');
    const r = await cli(
      ['strategies', 'assign', '--name', 'T', '--device-groups', `device_group1,${prod}`, '--json', '--yes'],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ groups: 2 });
    const t = (await strategy('T'))!.guid;
    expect((await s.store.devices.getGroupByName('device_group1'))?.strategy_guid).toBe(t);
    expect((await s.store.devices.getGroupByName('deviceXgroup1'))?.strategy_guid).toBeNull();
    expect((await s.store.devices.getGroupByGuid(prod))?.strategy_guid).toBe(t);
    const un = await cli(['strategies', 'unassign', '--device-groups', 'Production'], { env });
    expect(un.code).toBe(0);
    expect((await s.store.devices.getGroupByGuid(prod))?.strategy_guid).toBeNull();
  });

  it('more than one target is confirmed (listed, refused without a terminal); --dry-run lists them', async () => {
    await s.store.strategies.create('T', {});
    const t = (await strategy('T'))!.guid;
    const args = ['strategies', 'assign', '--name', 'T', '--peers', '1849118658', '--users', 'mike'];
    const refused = await cli(args, { env });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('Found 2 targets:\n  device 1849118658\n  user mike\n');
    expect((await s.store.users.getByName('mike'))?.strategy_guid).toBeNull();
    const dry = await cli([...args, '--dry-run'], { env });
    expect(dry).toMatchObject({ code: 0, stdout: 'device 1849118658\nuser mike\n' });
    const no = await cli(args, { env, tty: true, answer: false });
    expect(no).toMatchObject({ code: 3, asked: ["Assign 'T' to 2 targets?"] });
    expect((await s.store.users.getByName('mike'))?.strategy_guid).toBeNull();
    const yes = await cli(args, { env, tty: true, answer: true });
    expect(yes.code).toBe(0);
    expect((await s.store.users.getByName('mike'))?.strategy_guid).toBe(t);
    const un = await cli(['strategies', 'unassign', '--peers', '1849118658', '--users', 'mike'], {
      env,
      tty: true,
      answer: true,
    });
    expect(un).toMatchObject({ code: 0, asked: ['Remove the strategy of 2 targets?'] });
    expect((await s.store.users.getByName('mike'))?.strategy_guid).toBeNull();
  });

  it('deleting a strategy that is assigned to something is confirmed; --dry-run says to what', async () => {
    await s.store.strategies.create('Used', {});
    expect((await cli(['strategies', 'assign', '--name', 'Used', '--users', 'mike'], { env })).code).toBe(0);
    const dry = await cli(['strategies', 'delete', '--name', 'Used', '--dry-run', '--json'], { env });
    expect(JSON.parse(dry.stdout)).toMatchObject({
      name: 'Used',
      action: 'delete',
      assigned: { peers: 0, users: 1, groups: 0 },
      dry_run: true,
    });
    const refused = await cli(['strategies', 'delete', '--name', 'Used'], { env });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("strategy 'Used' is assigned to 0 devices, 1 user, 0 device groups");
    const asked = await cli(['strategies', 'delete', '--name', 'Used'], { env, tty: true, answer: true });
    expect(asked).toMatchObject({ code: 0, asked: ["Delete strategy 'Used'?"] });
    expect(await strategy('Used')).toBeUndefined();
  });

  it('dry runs print JSON with --json, and check what a real run would be refused for', async () => {
    await s.store.strategies.create('T', {});
    const assign = await cli(
      [
        'strategies',
        'assign',
        '--name',
        'T',
        '--peers',
        '1849118658',
        '--users',
        'mike',
        '--dry-run',
        '--json',
      ],
      { env },
    );
    expect(assign.code).toBe(0);
    expect(JSON.parse(assign.stdout)).toMatchObject({
      strategy: 'T',
      action: 'assign',
      targets: ['device 1849118658', 'user mike'],
      dry_run: true,
    });
    for (const verb of ['enable', 'disable']) {
      const r = await cli(['strategies', verb, '--name', 'T', '--dry-run', '--json'], { env });
      expect(JSON.parse(r.stdout)).toMatchObject({ name: 'T', action: verb, dry_run: true });
    }
    const taken = await cli(['strategies', 'create', '--name', 'T', '--dry-run'], { env });
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("a strategy named 'T' already exists");
    const rename = await cli(['strategies', 'update', '--name', 'T', '--new-name', 'Default', '--dry-run'], {
      env,
    });
    expect(rename.code).toBe(1);
    expect(rename.stderr).toContain("a strategy named 'Default' already exists");
  });

  it('create and update with --dry-run change nothing', async () => {
    const c = await cli(['strategies', 'create', '--name', 'Dry', '--option', 'a=1', '--dry-run'], { env });
    expect(c.code).toBe(0);
    expect(c.stderr).toContain("Dry run: would create strategy 'Dry' with 1 option; nothing was changed.");
    expect(await strategy('Dry')).toBeUndefined();
    const u = await cli(
      ['strategies', 'update', '--name', 'Default', '--option', 'a=1', '--dry-run', '--json'],
      { env },
    );
    expect(u.code).toBe(0);
    expect(JSON.parse(u.stdout)).toMatchObject({
      name: 'Default',
      changes: { options: { a: '1' } },
      dry_run: true,
    });
    expect(JSON.parse((await strategy('Default'))!.options)).not.toHaveProperty('a');
  });

  it('an unknown or fuzzy-only target lists the problem and sends nothing (D-2, D-3)', async () => {
    await s.store.strategies.create('T', {});
    const before = s.logs.filter((l) => l.startsWith('POST /api/strategies/assign')).length;
    const r = await cli(
      ['strategies', 'assign', '--name', 'T', '--peers', '18491186', '--users', 'mik,ghost'],
      { env },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("device '18491186' not found");
    expect(r.stderr).toContain('similar: 1849118658');
    expect(r.stderr).toContain("user 'mik' not found");
    expect(r.stderr).toContain('nothing was changed');
    expect(s.logs.filter((l) => l.startsWith('POST /api/strategies/assign')).length).toBe(before);
    expect((await cli(['strategies', 'assign', '--name', 'T'], { env })).code).toBe(2);
    expect((await cli(['strategies', 'unassign', '--name', 'T', '--users', 'mike'], { env })).code).toBe(2);
  });

  it('the server refuses unknown GUIDs as a whole', async () => {
    const body = {
      strategy: (await strategy('Default'))!.guid,
      peers: [await guidOf('1849118658'), 'nope'],
      users: [],
      groups: [],
    };
    const r = await s.fetch('/api/strategies/assign', {
      method: 'POST',
      token: s.token,
      body: JSON.stringify(body),
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toBe('not found: device nope');
    expect((await s.store.devices.getById('1849118658'))?.strategy_guid).toBeNull();
  });
});

describe('the strategies kept in memory and transactions', () => {
  it('a change rolled back is never served, not even after it was read inside its transaction', async () => {
    const { inTransaction } = await import('../../src/server/store');
    const guid = await s.store.strategies.create('Kiosk', { 'allow-remote-config-modification': 'N' }, true);
    const device = await guidOf('1849118658');
    await s.store.strategies.assign(guid, { peers: [device], users: [], groups: [] });
    expect((await s.store.strategies.effectiveFor(device))?.strategy?.options).toContain('"N"');
    await inTransaction(s.store, async (tx) => {
      await tx.strategies.update(guid, { options: { 'allow-remote-config-modification': 'Y' } });
      expect((await tx.strategies.effectiveFor(device))?.strategy?.options).toContain('"Y"');
      throw new Error('roll back');
    }).catch((e: Error) => expect(e.message).toBe('roll back'));
    expect((await s.store.strategies.effectiveFor(device))?.strategy?.options).toContain('"N"');
    expect((await effective()).options).toEqual({ 'allow-remote-config-modification': 'N' });
  });
});
