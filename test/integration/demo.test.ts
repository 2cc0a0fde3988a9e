import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoFleet, seedDemo } from '../../src/server/demo';
import { startTestServer, type TestServer } from '../helpers/server';

let s: TestServer;
let token: string | null;
beforeAll(async () => {
  s = await startTestServer();
  token = await seedDemo(s.store, await loadDemoFleet(join(import.meta.dirname, '../../fixtures/demo.json')));
});
afterAll(async () => {
  await s.close();
});

describe('the demo fleet', () => {
  it('seeds users (unicode, disabled, invited, % and _ names), 210 devices and an all:rw token', async () => {
    expect(token).toMatch(/^rdt_/);
    expect(await s.store.users.countAll()).toBeGreaterThanOrEqual(55);
    for (const name of ['山田太郎', 'José', '100%uptime', 'build_bot', "o'brien"]) {
      expect(await s.store.users.getByName(name), name).toBeDefined();
    }
    expect((await s.store.users.getByName('ivan'))?.status).toBe(0);
    expect((await s.store.users.getByName('judy'))?.status).toBe(-1);
    expect(await s.store.devices.count()).toBe(210); // 200 seeded + 10 in the address-book demo
    const r = await s.fetch('/api/devices?device_group_name=-&pageSize=1', { token: token! });
    expect(((await r.json()) as { total: number }).total).toBeGreaterThan(20);
  });

  it('has strategies at the device-group, user and device level, and a disabled one', async () => {
    const by = async (name: string) =>
      s.store.strategies.assignedCounts((await s.store.strategies.getByName(name))!.guid);
    expect(await by('Servers')).toMatchObject({ groups: 1 });
    expect(await by('Support desk')).toMatchObject({ users: 1 });
    expect((await by('Kiosk lock')).peers).toBeGreaterThan(0);
    expect((await s.store.strategies.getByName('Lockdown (disabled)'))?.enabled).toBe(0);
    const prod = (await s.store.devices.getGroupByName('Production'))!;
    const listed = (await s.store.devices.list({ device_group_guid: prod.guid }, 0, 50)).rows;
    const records = await Promise.all(listed.map((d) => s.store.devices.getByGuid(d.guid)));
    const inProd = records.find((d) => d && !d.strategy_guid && !d.user_guid);
    expect((await s.store.strategies.effectiveFor(inProd!.guid))?.level).toBe('device_group');
  });

  it('seeding twice changes nothing', async () => {
    const before = await s.store.devices.count();
    expect(
      await seedDemo(s.store, await loadDemoFleet(join(import.meta.dirname, '../../fixtures/demo.json'))),
    ).toBeNull();
    expect(await s.store.devices.count()).toBe(before);
  });
});
