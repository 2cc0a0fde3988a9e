import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimClient, simFleet } from '../../src/sim/rustdesk-client';
import { startTestServer, type TestServer } from '../helpers/server';

// Heartbeats that arrive together are written in one transaction, and strategies are resolved
// from memory; every client must still get its own, correct answer.

let s: TestServer;
let now: number;
beforeEach(async () => {
  now = Date.parse('2026-11-26T12:00:00.000Z');
  s = await startTestServer({ clock: () => new Date(now) });
});
afterEach(async () => {
  await s.close();
});

describe('heartbeats in batches', () => {
  it('concurrent heartbeats each register, update and answer their own device', async () => {
    // Heartbeats first (no system info before them): the batched heartbeats create the devices.
    const fleet = simFleet(s.url, 120, (i) => ({ hostname: `pc-${i}` }), { firstContact: 'heartbeat' });
    const first = await Promise.all(fleet.map((c) => c.heartbeat()));
    for (const a of first) expect(a.sysinfo).toBe(1);
    expect(await s.store.devices.count()).toBe(120);

    // Disconnects queued for every third device only (of the connections it reports: a queued drop
    // is delivered by a heartbeat that reports its connection); device 5's ID from another machine
    // (another uuid), refused in the same batch.
    const guids = await Promise.all(fleet.map(async (c) => (await s.store.devices.getById(c.info.id))!.guid));
    for (let i = 0; i < fleet.length; i += 3) {
      fleet[i]!.conns = [i, 1000 + i];
      await s.store.devices.queueDisconnect(guids[i]!, [i, 1000 + i]);
    }
    const first5uuid = fleet[5]!.info.uuid;
    fleet[5] = new SimClient(s.url, { id: fleet[5]!.info.id });
    now += 5_000;
    const second = await Promise.all(fleet.map((c) => c.heartbeat()));
    for (const [i, a] of second.entries()) {
      expect(a.disconnect).toEqual(i % 3 === 0 ? [i, 1000 + i] : undefined);
      expect(a.sysinfo).toBeUndefined();
      expect(a.error).toEqual(i === 5 ? expect.stringContaining('registered with another uuid') : undefined);
    }
    for (const [i, c] of fleet.entries()) {
      const d = await s.store.devices.getById(c.info.id);
      expect(d?.last_online).toBe(new Date(i === 5 ? now - 5_000 : now).toISOString());
      expect(d?.uuid).toBe(i === 5 ? first5uuid : c.info.uuid);
      expect(d?.device_name).toBe(`pc-${i}`);
    }
    const third = await Promise.all(fleet.map((c) => c.heartbeat()));
    for (const a of third) expect(a.disconnect).toBeUndefined();
  });

  it('an unknown ID under "require deployment" is refused, in a batch with known ones', async () => {
    const known = simFleet(s.url, 5);
    await Promise.all(known.map((c) => c.heartbeat()));
    await s.store.settings.set('require_deployment', true);
    const stranger = new SimClient(s.url, { id: '999999999' });
    const answers = await Promise.all([...known, stranger].map((c) => c.heartbeat()));
    expect(answers.slice(0, 5).every((a) => a.error === undefined)).toBe(true);
    expect(answers[5]?.error).toContain('not deployed');
    expect(await s.store.devices.getById('999999999')).toBeUndefined();
  });

  it('a deleted strategy is no longer delivered: the device falls back to Default', async () => {
    const c = new SimClient(s.url, { id: '424242' });
    await c.heartbeat();
    const guid = await s.store.strategies.create('Temp', { 'enable-audio': 'N' });
    const d = await s.store.devices.getById('424242');
    await s.store.strategies.assign(guid, { peers: [d!.guid], users: [], groups: [] });
    expect((await c.heartbeat()).strategy?.config_options).toEqual({ 'enable-audio': 'N' });
    await s.store.strategies.delete(guid);
    // Default sets nothing; what Temp set goes back to the client's default (sent empty).
    expect((await c.heartbeat()).strategy?.config_options).toEqual({ 'enable-audio': '' });
    expect((await c.heartbeat()).strategy).toBeUndefined();
  });
});

describe('security headers', () => {
  it('are on every kind of answer: JSON, plain text, an error, an unknown path', async () => {
    const answers = await Promise.all([
      s.fetch('/api/users', { token: s.token }),
      s.fetch('/api/sysinfo_ver', { method: 'POST' }),
      s.fetch('/api/users'),
      s.fetch('/api/nothing-here'),
      s.fetch('/api/heartbeat', { method: 'POST', body: JSON.stringify({ id: '1', uuid: 'u' }) }),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 401, 404, 200]);
    for (const r of answers) {
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
    }
  });
});
