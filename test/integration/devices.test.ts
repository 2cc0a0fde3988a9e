import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimClient, simFleet } from '../../src/sim/rustdesk-client';
import { cli } from '../helpers/cli';
import { startTestServer, type TestServer } from '../helpers/server';

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

const device = (id: string) => s.store.devices.getById(id);

/** A time `days` ago on the real clock (the CLI computes offline days with it), as ISO 8601 UTC. */
function daysAgo(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString();
}

async function setCreatedAt(id: string, value: string) {
  const d = await device(id);
  s.store.database.sqlite.prepare('UPDATE devices SET created_at = ? WHERE guid = ?').run(value, d!.guid);
}

async function setLastOnline(id: string, value: string | null) {
  const d = await device(id);
  s.store.database.sqlite.prepare('UPDATE devices SET last_online = ? WHERE guid = ?').run(value, d!.guid);
}

describe('registration by RustDesk clients', () => {
  it('a first heartbeat creates the device and asks for sysinfo, which fills it in', async () => {
    // A client whose heartbeat comes first (its device deleted while it runs, or an older client).
    const c = new SimClient(
      s.url,
      { id: '123456789', hostname: 'PC01', username: 'jo', os: 'Windows 11' },
      undefined,
      { firstContact: 'heartbeat' },
    );
    const answer = await c.heartbeat();
    expect(answer.sysinfo).toBe(1);
    expect(c.sysinfoUploads).toBe(1);
    expect(await device('123456789')).toMatchObject({
      device_name: 'PC01',
      device_username: 'jo',
      os: 'Windows 11',
      uuid: c.info.uuid,
      last_online: new Date(now).toISOString(),
    });
    const again = await c.heartbeat();
    expect(again.sysinfo).toBeUndefined();
    expect(c.sysinfoUploads).toBe(1);
  });

  it('a registered ID refuses another uuid until an administrator resets it; then the new machine registers', async () => {
    const a = new SimClient(s.url, { id: '111', hostname: 'real-pc' });
    await a.heartbeat();
    a.conns = [4];
    await a.heartbeat();
    await s.store.devices.queueDisconnect((await device('111'))!.guid, [4]);
    await s.seedUsers(['mallory']);

    // another machine (or anyone who knows the ID): heartbeat, system info and audit posts refused
    const b = new SimClient(s.url, {
      id: '111',
      hostname: 'pwned',
      presets: { 'preset-user-name': 'mallory' },
    });
    b.conns = [4];
    const hb = await b.heartbeat();
    expect(hb.error).toMatch(/^device 111 is registered with another uuid: refused\. .*reset-uuid --id 111/);
    expect(b.sysinfoUploads).toBe(0);
    expect(await b.sysinfo()).toContain('registered with another uuid');
    expect((await b.connectionOpened(9, 1n, '10.6.6.6')).status).toBe(403);
    const noUuid = await s.fetch('/api/heartbeat', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"id":"111"}',
    });
    expect(noUuid.status).toBe(403);
    expect(await device('111')).toMatchObject({ uuid: a.info.uuid, device_name: 'real-pc', user_guid: null });
    // the real device still gets its queued disconnect
    expect((await a.heartbeat()).disconnect).toEqual([4]);

    // the administrator resets the uuid: the next machine to report the ID takes it, keeping the device
    const reset = await cli(['devices', 'reset-uuid', '--id', '111'], { env });
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toBe('Reset the uuid of 111 (real-pc)\n');
    expect((await s.store.audit.listConsole())[0]).toMatchObject({
      iop: 12,
      detail: `reset the uuid of device 111 (was '${a.info.uuid}') (API token 'all')`,
    });
    const guid = (await device('111'))!.guid;
    expect((await b.heartbeat()).sysinfo).toBe(1);
    expect(await device('111')).toMatchObject({ guid, uuid: b.info.uuid, device_name: 'pwned' });
    // presets are for a device's first upload only: this one had uploaded before
    expect((await device('111'))!.user_guid).toBeNull();
    expect((await a.heartbeat()).error).toMatch(/registered with another uuid/);
  });

  it('an ID deployed from one machine reports from that machine only', async () => {
    await s.store.settings.set('require_deployment', true);
    const a = new SimClient(s.url, { id: '112' });
    expect(await a.deploy(s.token)).toBe('OK');
    const other = new SimClient(s.url, { id: '112' });
    expect((await other.heartbeat()).error).toMatch(/registered with another uuid/);
    expect(other.sysinfoUploads).toBe(0);
    // the deployed machine: its system info (taken), then its heartbeat
    expect((await a.heartbeat()).error).toBeUndefined();
    expect(a.sysinfoUploads).toBe(1);
    expect((await device('112'))!.uuid).toBe(a.info.uuid);
    expect((await device('112'))!.sysinfo_at).not.toBeNull();
  });

  it('is online while heartbeats arrive and offline 45 s after the last one', async () => {
    await new SimClient(s.url, { id: '222' }).heartbeat();
    const online = await cli(['devices', 'view', '--id', '222', '--json'], { env });
    expect(JSON.parse(online.stdout)[0]).toMatchObject({ id: '222', is_online: true });
    now += 46_000;
    const offline = await cli(['devices', 'view', '--id', '222', '--json'], { env });
    expect(JSON.parse(offline.stdout)[0].is_online).toBe(false);
  });

  it('sysinfo answers plain text, creates an unknown device, and sysinfo_ver answers a token', async () => {
    const r = await s.fetch('/api/sysinfo', {
      method: 'POST',
      body: JSON.stringify({ id: '333', uuid: 'u', hostname: 'h' }),
    });
    expect(r.headers.get('content-type')).toContain('text/plain');
    expect(await r.text()).toBe('SYSINFO_UPDATED');
    expect((await device('333'))?.device_name).toBe('h');
    const v = await s.fetch('/api/sysinfo_ver', { method: 'POST' });
    expect(await v.text()).toMatch(/^rdadmin-/);
  });

  it('applies presets: user, device group and note when unset; device name/username always', async () => {
    await s.seedUsers(['mike']);
    await s.store.devices.createGroup('Production');
    const c = new SimClient(s.url, {
      id: '444',
      hostname: 'raw-host',
      presets: {
        'preset-user-name': 'mike',
        'preset-device-group-name': 'Production',
        'preset-note': 'rack 4',
        'preset-device-name': 'web-1',
        'preset-device-username': 'svc',
      },
    });
    await c.heartbeat();
    expect(await device('444')).toMatchObject({
      user_name: 'mike',
      device_group_name: 'Production',
      note: 'rack 4',
      device_name: 'web-1',
      device_username: 'svc',
    });
    // an administrator's later change is not overwritten by the presets on the next upload
    await s.seedUsers(['anna']);
    const d = await device('444');
    await s.store.devices.update([d!.guid], {
      user_guid: (await s.store.users.getByName('anna'))!.guid,
      note: 'moved',
    });
    await c.sysinfo();
    expect(await device('444')).toMatchObject({ user_name: 'anna', note: 'moved' });
    // and a removal sticks too: the client sends its presets with every upload
    await s.store.devices.update([d!.guid], { user_guid: null, device_group_guid: null, note: '' });
    await c.sysinfo();
    expect(await device('444')).toMatchObject({ user_name: null, device_group_name: null, note: '' });
  });

  it('a name an administrator sets stays over what the client reports; an empty value gives it back', async () => {
    const c = new SimClient(s.url, { id: '445', hostname: 'DESKTOP-X1', username: 'jo' });
    await c.heartbeat();
    const assign = (type: string, value: string) =>
      cli(['devices', 'assign', '--id', '445', '--exact', '--assign_to', `${type}=${value}`], { env });
    expect((await assign('device_name', 'Reception PC')).code).toBe(0);
    expect((await assign('device_username', 'front-desk')).code).toBe(0);
    await c.sysinfo(); // the client reports its host name again (every restart does)
    expect(await device('445')).toMatchObject({ device_name: 'Reception PC', device_username: 'front-desk' });
    // rustdesk --assign --device_name sets it the same way
    expect((await c.assign(await s.makeToken('device:rw'), { device_name: 'Lobby PC' })).text).toBe('');
    await c.sysinfo();
    expect((await device('445'))!.device_name).toBe('Lobby PC');
    expect((await assign('device_name', '')).code).toBe(0);
    await c.sysinfo();
    expect(await device('445')).toMatchObject({ device_name: 'DESKTOP-X1', device_username: 'front-desk' });
  });

  it('an unknown preset user is logged and not applied', async () => {
    await new SimClient(s.url, { id: '555', presets: { 'preset-user-name': 'ghost' } }).heartbeat();
    expect((await device('555'))?.user_guid).toBeNull();
    expect(
      s.logs.some((l) => l.includes("preset user_name='ghost' not applied: user 'ghost' does not exist")),
    ).toBe(true);
  });

  it('delivers pending disconnects on the next heartbeat, once', async () => {
    const c = new SimClient(s.url, { id: '666' });
    await c.heartbeat();
    c.conns = [7, 8];
    await s.store.devices.queueDisconnect((await device('666'))!.guid, [7]);
    expect((await c.heartbeat()).disconnect).toEqual([7]);
    expect(c.conns).toEqual([8]);
    expect((await c.heartbeat()).disconnect).toBeUndefined();
  });

  it('rejects bad heartbeat bodies with 400 {error}', async () => {
    for (const body of ['{}', '{"id":""}', '{"id":"a b"}', '{"id":5}', 'null', '[1]']) {
      const r = await s.fetch('/api/heartbeat', { method: 'POST', body });
      expect(r.status, body).toBe(400);
      expect(((await r.json()) as { error: string }).error).toBeTruthy();
    }
  });
});

describe('require deployment (rustdesk --deploy)', () => {
  it('undeployed IDs do not register; --deploy lets them in', async () => {
    const deployer = await s.makeToken('device:rw');
    const c = new SimClient(s.url, { id: '777' });
    expect(await c.deploy(deployer)).toBe('NOT_ENABLED');
    await s.store.settings.set('require_deployment', true);
    const hb = await s.fetch('/api/heartbeat', {
      method: 'POST',
      body: JSON.stringify({ id: '777', uuid: 'x' }),
    });
    expect(hb.status).toBe(403);
    expect(await c.sysinfo()).toBe('ID_NOT_FOUND');
    expect(await device('777')).toBeUndefined();
    expect(await c.deploy(deployer)).toBe('OK');
    expect((await c.heartbeat()).error).toBeUndefined();
    expect(await device('777')).toBeDefined();
    const other = new SimClient(s.url, { id: '777' });
    expect(await other.deploy(deployer)).toBe('ID_TAKEN');
    const bad = await s.fetch('/api/devices/deploy', {
      method: 'POST',
      token: deployer,
      body: JSON.stringify({ id: 'a b' }),
    });
    expect(await bad.json()).toEqual({ result: 'INVALID_INPUT' });
    const ro = await s.makeToken('device:r');
    expect((await s.fetch('/api/devices/deploy', { method: 'POST', token: ro, body: '{}' })).status).toBe(
      403,
    );
  });

  it('the simulator counts heartbeats the server refuses in its run loop', async () => {
    await s.store.settings.set('require_deployment', true);
    const c = new SimClient(s.url, { id: '778' });
    const stop = new AbortController();
    const loop = c.run(stop.signal, { idle: 5, conn: 5 });
    await new Promise((r) => setTimeout(r, 100));
    // One wait at a time listens for the abort: the waits that ended left nothing on the signal.
    expect(getEventListeners(stop.signal, 'abort').length).toBeLessThanOrEqual(1);
    stop.abort();
    await loop;
    expect(c.heartbeatErrors).toBeGreaterThan(0);
    expect(await device('778')).toBeUndefined();
  });

  it('the setting is managed with rdadmin settings (admin session)', async () => {
    const session = await s.login('admin', 'test1234');
    const e = { RDADMIN_URL: s.url, RDADMIN_TOKEN: session };
    expect((await cli(['settings', 'set', 'require_deployment', 'true'], { env: e })).code).toBe(0);
    expect(await s.store.settings.get('require_deployment')).toBe(true);
    const v = await cli(['settings', 'view', '--json'], { env: e });
    expect(JSON.parse(v.stdout)).toMatchObject({ require_deployment: true, online_timeout: 45 });
    expect((await cli(['settings', 'set', 'require_deployment', 'maybe'], { env: e })).code).toBe(2);
  });
});

describe('rustdesk --assign (/api/devices/cli)', () => {
  let c: SimClient;
  let token: string;
  beforeEach(async () => {
    c = new SimClient(s.url, { id: '888' });
    await c.heartbeat();
    await s.seedUsers(['mike']);
    await s.store.devices.createGroup('Servers');
    token = await s.makeToken('device:rw');
  });

  it.each([
    ['user_name', 'mike', { user_name: 'mike' }],
    ['device_group_name', 'Servers', { device_group_name: 'Servers' }],
    ['note', 'hello', { note: 'hello' }],
    ['device_username', 'root', { device_username: 'root' }],
    ['device_name', 'db-1', { device_name: 'db-1' }],
  ])('--%s', async (field, value, expected) => {
    const r = await c.assign(token, { [field]: value });
    expect(r).toEqual({ status: 200, text: '' });
    expect(await device('888')).toMatchObject(expected);
    const log = await s.store.audit.listConsole();
    expect(log[0]).toMatchObject({ typ: 2, iop: 12 });
    expect(log[0]!.detail).toContain('rustdesk --assign');
  });

  it('several fields at once; errors are short plain text', async () => {
    expect(await c.assign(token, { user_name: 'mike', note: 'n' })).toEqual({ status: 200, text: '' });
    expect(await c.assign(token, { user_name: 'ghost' })).toEqual({
      status: 400,
      text: "user 'ghost' does not exist",
    });
    expect((await c.assign(token, {})).text).toContain('nothing to assign');
    const unknown = new SimClient(s.url, { id: '999999' });
    expect((await unknown.assign(token, { note: 'x' })).status).toBe(404);
    const ro = await s.makeToken('device:r');
    expect((await c.assign(ro, { note: 'x' })).status).toBe(403);
    // another machine with the same ID (another uuid) cannot reassign the device
    const clone = new SimClient(s.url, { id: '888' });
    expect(await clone.assign(token, { device_name: 'renamed' })).toEqual({
      status: 403,
      text: 'device 888 is registered with another uuid (rdadmin devices reset-uuid --id 888)',
    });
    expect((await device('888'))!.device_name).not.toBe('renamed');
  });
});

describe('rdadmin devices', () => {
  beforeEach(async () => {
    await s.seedUsers(['mike', 'mila'], { group: 'Ops' });
    await s.store.devices.createGroup('Production');
    const fleet = simFleet(s.url, 6, (i) => ({
      hostname: ['PC01', 'PC02', 'srv-a', 'srv-b', 'kiosk', 'lab'][i],
      username: i % 2 ? 'root' : 'jo',
    }));
    for (const c of fleet) await c.heartbeat();
    const t = await s.makeToken('device:rw');
    await fleet[0]!.assign(t, { user_name: 'mike', device_group_name: 'Production' });
    await fleet[1]!.assign(t, { user_name: 'mila' });
    await fleet[2]!.assign(t, { device_group_name: 'Production' });
    now += 60_000;
  });

  const ids = (stdout: string) => (JSON.parse(stdout) as { id: string }[]).map((d) => d.id).sort();

  it('filters: --id, --device_name, --user_name, --group_name, --device_group_name (and -), --device_username', async () => {
    const cases: [string[], string[]][] = [
      [['--id', '100000003'], ['100000003']],
      [
        ['--device_name', 'srv'],
        ['100000002', '100000003'],
      ],
      [
        ['--device-name', 'PC0'],
        ['100000000', '100000001'],
      ],
      [
        ['--user_name', 'mi'],
        ['100000000', '100000001'],
      ],
      [
        ['--group_name', 'Ops'],
        ['100000000', '100000001'],
      ],
      [
        ['--device_group_name', 'Production'],
        ['100000000', '100000002'],
      ],
      [
        ['--device_group_name', '-'],
        ['100000001', '100000003', '100000004', '100000005'],
      ],
      [
        ['--user_name', '-'],
        ['100000002', '100000003', '100000004', '100000005'],
      ],
      [
        ['--device_username', 'root'],
        ['100000001', '100000003', '100000005'],
      ],
    ];
    for (const [args, expected] of cases) {
      const r = await cli(['devices', 'view', ...args, '--json'], { env });
      expect(r.code, args.join(' ')).toBe(0);
      expect(ids(r.stdout), args.join(' ')).toEqual(expected);
    }
  });

  it('--exact: the whole ID or device name, case-sensitive; a longer ID is not touched', async () => {
    await new SimClient(s.url, { id: '1000000001', hostname: 'pc01' }).heartbeat();
    expect(ids((await cli(['devices', 'view', '--id', '100000000', '--json'], { env })).stdout)).toEqual([
      '100000000',
      '1000000001',
    ]);
    const exact = await cli(['devices', 'view', '--id', '100000000', '--exact', '--json'], { env });
    expect(ids(exact.stdout)).toEqual(['100000000']);
    const byName = await cli(['devices', 'view', '--device_name', 'PC01', '--exact', '--json'], { env });
    expect(ids(byName.stdout)).toEqual(['100000000']);
    // one exact match: changed without a question, the longer ID left alone
    const d = await cli(['devices', 'disable', '--id', '100000000', '--exact'], { env });
    expect(d.code, d.stderr).toBe(0);
    expect((await device('1000000001'))!.status).toBe(1);
    expect((await device('100000000'))!.status).toBe(0);
    const bare = await cli(['devices', 'view', '--exact', '--user_name', 'mike'], { env });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('--exact applies to --id and --device_name');
  });

  it('view prints a table on a terminal, TSV when piped', async () => {
    const tty = await cli(['devices', 'view', '--id', '100000000', '--no-color'], { env, tty: true });
    expect(tty.stdout).toContain('DEVICE GROUP');
    expect(tty.stdout).toContain('Production');
    const piped = await cli(['devices', 'view', '--id', '100000000'], { env });
    expect(piped.stdout.split('\t').slice(0, 5)).toEqual(['100000000', 'PC01', 'mike', 'Ops', 'Production']);
  });

  it('--offline_days: null, fractional, zoned, space-separated, future and unreadable timestamps', async () => {
    const tenDaysAgo = daysAgo(10);
    await setLastOnline('100000000', `${tenDaysAgo.slice(0, 19)}.123456`); // fraction, no zone
    const sixDaysAgo = new Date(Date.now() - 6 * 86_400_000 + 2 * 3_600_000); // +02:00 wall time
    await setLastOnline('100000001', `${sixDaysAgo.toISOString().slice(0, 19)}+02:00`);
    await setLastOnline('100000002', daysAgo(1).slice(0, 19).replace('T', ' '));
    await setLastOnline('100000003', daysAgo(-30)); // in the future
    await setLastOnline('100000004', null); // never online, created today
    await setLastOnline('100000005', 'yesterday');
    const r = await cli(['devices', 'view', '--offline_days', '5', '--json'], { env });
    expect(ids(r.stdout)).toEqual(['100000000', '100000001']);
    expect(r.stderr).toContain(
      'left out 1 device(s) whose last_online could not be read: 100000005 (yesterday)',
    );
    const all = await cli(['devices', 'view', '--offline_days', '0', '--json'], { env });
    expect(ids(all.stdout)).toEqual(['100000000', '100000001', '100000002', '100000003', '100000004']);
    const bad = await cli(['devices', 'view', '--offline_days', 'x'], { env });
    expect(bad.code).toBe(2);
  });

  it('a device never seen online counts from its creation', async () => {
    await setLastOnline('100000004', null);
    await setCreatedAt('100000004', daysAgo(40));
    const r = await cli(['devices', 'view', '--offline_days', '30', '--device_name', 'kiosk', '--json'], {
      env,
    });
    expect(ids(r.stdout)).toEqual(['100000004']);
    await setCreatedAt('100000004', daysAgo(20));
    const young = await cli(['devices', 'view', '--offline_days', '30', '--device_name', 'kiosk', '--json'], {
      env,
    });
    expect(ids(young.stdout)).toEqual([]);
  });

  it('disable / enable / delete with the safety rules; delete of an enabled device is refused', async () => {
    const refuse = await cli(['devices', 'disable', '--device_name', 'srv'], { env });
    expect(refuse.code).toBe(3);
    const del = await cli(['devices', 'delete', '--id', '100000002'], { env });
    expect(del.code).toBe(1);
    expect(del.stderr).toContain('device 100000002 is enabled: disable it first, then delete it');
    expect((await cli(['devices', 'disable', '--device_name', 'srv', '--yes'], { env })).code).toBe(0);
    expect((await device('100000002'))?.status).toBe(0);
    expect((await cli(['devices', 'enable', '--id', '100000003'], { env })).code).toBe(0);
    expect((await device('100000003'))?.status).toBe(1);
    const gone = await cli(['devices', 'delete', '--id', '100000002', '--json'], { env });
    expect(gone.code).toBe(0);
    expect(JSON.parse(gone.stdout)).toEqual([
      {
        guid: expect.any(String),
        id: '100000002',
        action: 'delete',
        ok: true,
        attempted: true,
        outcome: 'done',
      },
    ]);
    expect(await device('100000002')).toBeUndefined();
    const noFilter = await cli(['devices', 'disable', '--yes'], { env });
    expect(noFilter.code).toBe(2);
  });

  it('assign checks --assign_to before any request (D-7, D-8), then assigns', async () => {
    const before = s.logs.length;
    for (const bad of [
      [],
      ['--assign_to', 'user_name'],
      ['--assign_to', 'owner=mike'],
      ['--assign_to', 'ab='],
    ]) {
      const r = await cli(['devices', 'assign', '--id', '100000004', ...bad], { env });
      expect(r.code, bad.join(' ')).toBe(2);
    }
    expect(s.logs.length).toBe(before);
    const ok = await cli(['devices', 'assign', '--device_name', 'PC01', '--assign_to', 'user_name=mila'], {
      env,
    });
    expect(ok.code).toBe(0);
    expect((await device('100000000'))?.user_name).toBe('mila');
    const clear = await cli(['devices', 'assign', '--id', '100000000', '--assign_to', 'user_name='], { env });
    expect(clear.code).toBe(0);
    expect((await device('100000000'))?.user_guid).toBeNull();
    const unknown = await cli(
      ['devices', 'assign', '--id', '100000000', '--assign_to', 'device_group_name=Nope'],
      { env },
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("device group 'Nope' does not exist");
  });

  it('purge --dry-run lists exactly the stale devices; purge disables then deletes them; a rerun finishes', async () => {
    await setLastOnline('100000000', daysAgo(80));
    await setLastOnline('100000001', daysAgo(31));
    await setLastOnline('100000002', daysAgo(29));
    const dry = await cli(['devices', 'purge', '--offline_days', '30', '--dry-run'], { env });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe('100000000 (PC01)\n100000001 (PC02)\n');
    expect(await s.store.devices.count()).toBe(6);
    const noYes = await cli(['devices', 'purge', '--offline_days', '30'], { env });
    expect(noYes.code).toBe(3);
    // one of them was already disabled by hand: the purge handles both
    await s.store.devices.update([(await device('100000001'))!.guid], { status: 0 });
    const run = await cli(['devices', 'purge', '--offline_days', '30', '--yes'], { env });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('Purged 2 devices.');
    expect(await s.store.devices.count()).toBe(4);
    const again = await cli(['devices', 'purge', '--offline_days', '30', '--yes'], { env });
    expect(again.stderr).toContain('Found 0 devices');
    // A device named exactly that is not there: not found, exit 1 (a CSV typo is not a green job).
    const typo = await cli(
      ['devices', 'assign', '--id', '799999999', '--exact', '--assign_to', 'note=x', '--yes', '--json'],
      { env },
    );
    expect([typo.code, typo.stdout, typo.stderr.split('\n')[0]]).toEqual([
      1,
      '',
      "error: device '799999999' not found: nothing to assign",
    ]);
    const both = await cli(['devices', 'disable', '--id', '1', '--device_name', 'Lab', '--exact', '--yes'], {
      env,
    });
    expect([both.code, both.stderr.split('\n')[0]]).toEqual([
      1,
      "error: device '1' named 'Lab' not found: nothing to disable",
    ]);
    // With another filter, no match may just mean the device does not qualify: Found 0, exit 0.
    const kept = (await s.store.devices.list({}, 0, 1)).rows[0]!.id;
    const narrowed = await cli(
      ['devices', 'purge', '--id', kept, '--exact', '--offline_days', '30', '--yes'],
      {
        env,
      },
    );
    expect([narrowed.code, narrowed.stderr]).toEqual([0, 'Found 0 devices\n']);
    const missing = await cli(['devices', 'purge'], { env });
    expect(missing.code).toBe(2);
    // One exact match is still confirmed (it deletes for good), and the reason says so.
    await s.store.devices.update([(await device('100000002'))!.guid], { last_online: '2020-01-01T00:00:00' });
    const one = await cli(['devices', 'purge', '--offline_days', '30', '--id', '100000002'], { env });
    expect(one.code).toBe(3);
    expect(one.stderr).toContain('100000002');
    expect(one.stderr).toContain(': purging deletes it for good; confirmation is needed');
    expect(one.stderr).not.toContain('not an exact match');
  });

  it('export streams CSV (escaped) or JSON', async () => {
    await s.store.devices.update([(await device('100000000'))!.guid], { note: 'says "hi", ok\n=2+2' });
    const csv = await cli(['devices', 'export'], { env });
    const lines = csv.stdout.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'guid,id,device_name,device_username,os,user_name,group_name,device_group_name,strategy_name,status,is_online,last_online,note,created_at',
    );
    expect(csv.stdout).toContain('"says ""hi"", ok\n=2+2"');
    expect(csv.stderr).toContain('Exported 6 devices.');
    const json = await cli(['devices', 'export', '--format', 'json', '--device_group_name', 'Production'], {
      env,
    });
    expect(ids(json.stdout)).toEqual(['100000000', '100000002']);
    expect((await cli(['devices', 'export', '--format', 'xml'], { env })).code).toBe(2);
    // --json is JSON; with --format it must agree (a bad format is refused with --json too).
    expect(ids((await cli(['devices', 'export', '--json'], { env })).stdout)).toHaveLength(6);
    expect((await cli(['devices', 'export', '--json', '--format', 'json'], { env })).code).toBe(0);
    for (const format of ['csv', 'xml']) {
      const r = await cli(['devices', 'export', '--json', '--format', format], { env });
      expect([format, r.code, r.stdout]).toEqual([format, 2, '']);
    }
  });

  it('records device changes in the console log', async () => {
    await cli(['devices', 'disable', '--id', '100000005'], { env });
    const log = await s.store.audit.listConsole();
    expect(log[0]).toMatchObject({ typ: 2, iop: 9, detail: "disabled device 100000005 (API token 'all')" });
  });
});

describe('a simulated fleet', () => {
  it('200 clients register; ungrouped and stale devices are found exactly', async () => {
    const office: Record<string, string> = { 'preset-device-group-name': 'Office' };
    const fleet = simFleet(s.url, 200, (i) => ({ hostname: `pc-${i}`, presets: i % 4 === 0 ? office : {} }));
    await s.store.devices.createGroup('Office');
    for (let i = 0; i < fleet.length; i += 20)
      await Promise.all(fleet.slice(i, i + 20).map((c) => c.heartbeat()));
    expect(await s.store.devices.count()).toBe(200);
    expect(fleet.every((c) => c.sysinfoUploads === 1)).toBe(true);
    const ungrouped = await cli(['devices', 'view', '--device_group_name', '-', '--json'], { env });
    expect(JSON.parse(ungrouped.stdout)).toHaveLength(150);
    const stale = fleet.filter((_, i) => i % 10 === 3).map((c) => c.info.id);
    for (const id of stale) await setLastOnline(id, daysAgo(45));
    const dry = await cli(['devices', 'purge', '--offline_days', '30', '--dry-run', '--json'], { env });
    expect((JSON.parse(dry.stdout) as { id: string }[]).map((d) => d.id).sort()).toEqual(stale.sort());
  });
});

describe('putting devices into a shared address book', () => {
  let book: string;
  beforeEach(async () => {
    const admin = (await s.store.users.getByName('admin'))!;
    book = await s.store.addressBooks.createShared({ name: 'Team', ownerGuid: admin.guid });
  });

  it('the ab assignment type: BOOK,TAG,ALIAS,PASSWORD,NOTE', async () => {
    await new SimClient(s.url, { id: '700' }).heartbeat();
    const r = await cli(
      ['devices', 'assign', '--id', '700', '--assign_to', 'ab=Team,servers,web-1,s3cret,front door'],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(await s.store.addressBooks.getPeer(book, '700')).toMatchObject({
      alias: 'web-1',
      tags: ['servers'],
      note: 'front door',
      password: 's3cret',
    });
    const missing = await cli(['devices', 'assign', '--id', '700', '--assign_to', 'ab=Nope'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("shared address book 'Nope' does not exist");
  });

  it('rustdesk --assign --address_book_name with tag, alias, password and note', async () => {
    const c = new SimClient(s.url, { id: '701' });
    await c.heartbeat();
    const t = await s.makeToken('device:rw');
    const r = await c.assign(t, {
      address_book_name: 'Team',
      address_book_tag: 'lab, 2nd floor',
      address_book_alias: 'bench,1',
      address_book_password: 'p,w',
      address_book_note: 'n',
    });
    expect(r).toEqual({ status: 200, text: '' });
    expect(await s.store.addressBooks.getPeer(book, '701')).toMatchObject({
      alias: 'bench,1',
      tags: ['lab, 2nd floor'],
      password: 'p,w',
      note: 'n',
    });
  });

  it('preset-address-book-* put a newly registered device into the book, once', async () => {
    const c = new SimClient(s.url, {
      id: '702',
      presets: {
        'preset-address-book-name': 'Team',
        'preset-address-book-tag': 'kiosk',
        'preset-address-book-alias': 'k1',
      },
    });
    await c.heartbeat();
    expect(await s.store.addressBooks.getPeer(book, '702')).toMatchObject({ alias: 'k1', tags: ['kiosk'] });
    // an administrator removes it from the book; the client's next upload does not put it back
    const removed = s.store.database.sqlite
      .prepare('DELETE FROM ab_peers WHERE ab_guid = ? AND id = ?')
      .run(book, '702');
    expect(removed.changes).toBe(1);
    await c.sysinfo();
    expect(await s.store.addressBooks.getPeer(book, '702')).toBeUndefined();
  });
});
