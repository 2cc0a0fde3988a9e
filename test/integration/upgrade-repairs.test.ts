import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimClient } from '../../src/sim/rustdesk-client';
import { startTestServer, type TestServer } from '../helpers/server';

// Data folders written before a migration, then started on the current build: what the
// migrations that repair them (0018, 0019) must make of them. Each folder is written by a real
// server on a real SQLite file, taken back to before the migration under test (its columns
// dropped, its kysely_migration rows deleted, as a build before it left them), and started again.

let dir: string;
let now: number;
const clock = () => new Date(now);
/** Moves the clock on (timestamps decide which strategy change a device has been online since). */
const tick = () => {
  now += 1000;
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rdadmin-upgrade-'));
  now = Date.parse('2026-06-01T10:00:00.000Z');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const start = () => startTestServer({ dataDir: dir, clock });

/** Raw SQL on the stopped server's database. */
function onDisk<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(join(dir, 'db.sqlite3'));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const forgetMigrations = (db: Database.Database, ...names: string[]) => {
  for (const name of names) db.prepare('DELETE FROM kysely_migration WHERE name = ?').run(name);
};

const keysOf = (id: string) =>
  onDisk((db) =>
    JSON.parse(db.prepare('SELECT strategy_keys FROM devices WHERE id = ?').pluck().get(id) as string),
  );

describe('strategy options a device got before migration 0015 (migration 0018)', () => {
  /** The clients of the fleet, by ID; each keeps the handshake value it was last given. */
  let clients: Map<string, SimClient>;

  /**
   * A fleet whose devices have had their strategies delivered, stopped. Kiosk is D1's own
   * strategy, Desk its user's (D2), Servers its device group's (D3); D4's own strategy is disabled
   * (its user's Desk does not apply: the deciding level is D4's own); Late (D5) changed after
   * D5's last heartbeat; D6 has never been online; D7 and D8 get Default, which sets an option.
   */
  async function writeFleet(): Promise<void> {
    clients = new Map();
    const s = await start();
    try {
      await s.seedUsers(['alice']);
      const alice = (await s.store.users.getByName('alice'))!.guid;
      const st = s.store.strategies;
      const kiosk = await st.create('Kiosk', { 'enable-keyboard': 'N', 'enable-clipboard': 'N' });
      const desk = await st.create('Desk', { 'approve-mode': 'click' });
      const servers = await st.create('Servers', { 'enable-file-transfer': 'N' });
      const off = await st.create('Off', { 'enable-remote-restart': 'N' }, false);
      const late = await st.create('Late', { 'enable-audio': 'N' });
      const prod = await s.store.devices.createGroup('Production');
      await st.assign(desk, { peers: [], users: [alice], groups: [] });
      await st.assign(servers, { peers: [], users: [], groups: [prod] });
      for (const id of ['D1', 'D2', 'D3', 'D4', 'D5', 'D7', 'D8']) {
        const c = new SimClient(s.url, { id });
        clients.set(id, c);
        await c.heartbeat();
      }
      const guid = async (id: string) => (await s.store.devices.getById(id))!.guid;
      await st.assign(kiosk, { peers: [await guid('D1')], users: [], groups: [] });
      await s.store.devices.update([await guid('D2')], { user_guid: alice });
      await s.store.devices.update([await guid('D3')], { device_group_guid: prod });
      await s.store.devices.update([await guid('D4')], { user_guid: alice });
      await st.assign(off, { peers: [await guid('D4')], users: [], groups: [] });
      await st.assign(late, { peers: [await guid('D5')], users: [], groups: [] });
      await s.store.devices.create('D6', { uuid: 'never-online' });
      await st.assign(kiosk, { peers: [await guid('D6')], users: [], groups: [] });
      await st.update((await st.getByName('Default'))!.guid, { options: { 'allow-auto-disconnect': 'Y' } });
      tick();
      for (const c of clients.values()) await c.heartbeat();
      // Late changes while D5 is away: D5 has had its first version only.
      tick();
      await st.update(late, { options: { 'enable-audio': 'N', 'enable-camera': 'N' } });
      tick();
    } finally {
      await s.close();
    }
  }

  /** The same clients, talking to the server now running on the folder. */
  const reconnect = (s: TestServer) => {
    for (const [id, old] of clients) {
      const c = new SimClient(s.url, { id, uuid: old.info.uuid });
      c.modifiedAt = old.modifiedAt;
      clients.set(id, c);
    }
  };

  it('the keys of the strategy each device was sent are recorded, so an option no longer set is cleared', async () => {
    await writeFleet();
    // Before 0015: no strategy_keys (a build that sent options and remembered none of them).
    onDisk((db) => {
      db.exec('ALTER TABLE devices DROP COLUMN strategy_keys');
      forgetMigrations(db, '0015_strategy_keys', '0018_strategy_keys_sent');
    });
    const s = await start();
    try {
      expect(keysOf('D1')).toEqual(['enable-keyboard', 'enable-clipboard']);
      expect(keysOf('D2')).toEqual(['approve-mode']);
      expect(keysOf('D3')).toEqual(['enable-file-transfer']);
      expect(keysOf('D4')).toEqual([]); // its strategy is disabled: it was sent nothing
      expect(keysOf('D5')).toEqual([]); // Late changed since it was last online
      expect(keysOf('D6')).toEqual([]); // never online
      expect(keysOf('D7')).toEqual(['allow-auto-disconnect']);
      reconnect(s);
      // In step with what they hold: nothing is resent.
      for (const id of ['D1', 'D2', 'D3', 'D4', 'D7'])
        expect((await clients.get(id)!.heartbeat()).strategy, id).toBeUndefined();
      // D5 is behind: it gets Late as it is now, and those keys are recorded then.
      expect((await clients.get('D5')!.heartbeat()).strategy?.config_options).toEqual({
        'enable-audio': 'N',
        'enable-camera': 'N',
      });
      expect(keysOf('D5')).toEqual(['enable-audio', 'enable-camera']);

      const st = s.store.strategies;
      const guid = async (id: string) => (await s.store.devices.getById(id))!.guid;
      // D1 unassigned: back to Default, and Kiosk's options reach it empty (the audit's repro:
      // enable-keyboard=N stayed on the device, answered `config_options: {}`).
      await st.assign(null, { peers: [await guid('D1')], users: [], groups: [] });
      expect((await clients.get('D1')!.heartbeat()).strategy?.config_options).toEqual({
        'enable-keyboard': '',
        'enable-clipboard': '',
        'allow-auto-disconnect': 'Y',
      });
      // D4 leaves its disabled strategy for its user's: nothing of Off is cleared (it never had it).
      await st.assign(null, { peers: [await guid('D4')], users: [], groups: [] });
      expect((await clients.get('D4')!.heartbeat()).strategy?.config_options).toEqual({
        'approve-mode': 'click',
      });
      // An option removed from the user's strategy (D2), the group's disabled (D3).
      await st.update((await st.getByName('Desk'))!.guid, { options: {} });
      expect((await clients.get('D2')!.heartbeat()).strategy?.config_options).toEqual({ 'approve-mode': '' });
      await st.update((await st.getByName('Servers'))!.guid, { enabled: false });
      expect((await clients.get('D3')!.heartbeat()).strategy?.config_options).toEqual({
        'enable-file-transfer': '',
      });
    } finally {
      await s.close();
    }
  });

  it('a folder already migrated past 0015 gets the same repair; keys the heartbeat recorded stay as they are', async () => {
    await writeFleet();
    // What a build with 0015 and without 0018 left: '[]' for the devices of the old build, and
    // the keys a heartbeat recorded since for the others (D8: as if it had been sent more).
    onDisk((db) => {
      db.prepare("UPDATE devices SET strategy_keys = '[]' WHERE id <> 'D8'").run();
      db.prepare(
        `UPDATE devices SET strategy_keys = '["allow-auto-disconnect","enable-audio"]' WHERE id = 'D8'`,
      ).run();
      forgetMigrations(db, '0018_strategy_keys_sent');
    });
    const s = await start();
    try {
      expect(keysOf('D1')).toEqual(['enable-keyboard', 'enable-clipboard']);
      expect(keysOf('D3')).toEqual(['enable-file-transfer']);
      expect(keysOf('D4')).toEqual([]);
      expect(keysOf('D6')).toEqual([]);
      expect(keysOf('D8')).toEqual(['allow-auto-disconnect', 'enable-audio']);
      reconnect(s);
      const d1 = (await s.store.devices.getById('D1'))!.guid;
      await s.store.strategies.assign(null, { peers: [d1], users: [], groups: [] });
      expect((await clients.get('D1')!.heartbeat()).strategy?.config_options).toEqual({
        'enable-keyboard': '',
        'enable-clipboard': '',
        'allow-auto-disconnect': 'Y',
      });
    } finally {
      await s.close();
    }
  });
});

describe('device names an administrator set before migration 0017 (migration 0019)', () => {
  it('a name or username the console log shows an administrator set, and the device still has, stays over system info', async () => {
    const clients = new Map<string, SimClient>();
    let s = await start();
    try {
      for (const id of ['R1', 'R2', 'R3', 'R4', 'R5', 'R6', 'R7', 'R8']) {
        const c = new SimClient(s.url, { id });
        clients.set(id, c);
        await c.heartbeat(); // registers and uploads system info: host-R1, …
      }
      const rename = async (id: string, type: string, value: string) => {
        const guid = (await s.store.devices.getById(id))!.guid;
        const r = await s.call('POST', `/api/devices/${guid}/assign`, s.token, { type, value });
        expect(r.status, r.text).toBe(200);
      };
      await rename('R1', 'device_name', 'Front desk');
      expect((await clients.get('R2')!.assign(s.token, { device_name: 'Lab PC' })).status).toBe(200);
      await rename('R3', 'device_name', 'Overwritten');
      await rename('R4', 'device_name', "O'Brien's PC");
      // Made with a token, R8's record also reads as the name 'Desk' set by a token named
      // "x')' (API token 'all"; its client replaces the name with its host name, Desk (below).
      await rename('R8', 'device_name', "Desk' (API token 'x')");
      await rename('R5', 'device_username', 'kiosk-user');
      await rename('R6', 'device_name', 'Given back');
      await rename('R6', 'device_name', '-');
      // R7: an earlier device with this ID was renamed, then deleted; the machine registering with
      // the ID now happens to report that name as its host name.
      await rename('R7', 'device_name', 'Old R7');
      await s.store.devices.delete((await s.store.devices.getById('R7'))!.guid);
      tick();
      const again = new SimClient(s.url, { id: 'R7', hostname: 'Old R7' });
      clients.set('R7', again);
      await again.heartbeat();
    } finally {
      await s.close();
    }
    // Before 0017: no flags; a build then let the next system info replace the name (R3's did).
    onDisk((db) => {
      db.exec('ALTER TABLE devices DROP COLUMN device_name_set');
      db.exec('ALTER TABLE devices DROP COLUMN device_username_set');
      db.prepare("UPDATE devices SET device_name = 'host-R3' WHERE id = 'R3'").run();
      db.prepare("UPDATE devices SET device_name = 'Desk' WHERE id = 'R8'").run();
      forgetMigrations(db, '0017_device_name_set', '0019_device_names_set_before');
    });
    s = await start();
    try {
      for (const [id, old] of clients) {
        const c = new SimClient(s.url, {
          id,
          uuid: old.info.uuid,
          hostname: `new-host-${id}`,
          username: 'new-user',
        });
        expect(await c.sysinfo()).toBe('SYSINFO_UPDATED');
      }
      const names = Object.fromEntries(
        await Promise.all(
          [...clients.keys()].map(async (id) => {
            const d = (await s.store.devices.getById(id))!;
            return [id, [d.device_name, d.device_username]] as const;
          }),
        ),
      );
      expect(names).toEqual({
        R1: ['Front desk', 'new-user'],
        R2: ['Lab PC', 'new-user'],
        R3: ['new-host-R3', 'new-user'], // the client had replaced it already
        R4: ["O'Brien's PC", 'new-user'],
        R5: ['new-host-R5', 'kiosk-user'],
        R6: ['new-host-R6', 'new-user'], // given back to the client
        R7: ['new-host-R7', 'new-user'], // renamed as another device
        R8: ['new-host-R8', 'new-user'], // a record that reads two ways counts for neither
      });
    } finally {
      await s.close();
    }
  });
});

describe('device search text after a NUL, as builds before migration 0022 folded it', () => {
  it('is cut at the NUL, so a substring filter the trigram index answers alone matches as its LIKE does', async () => {
    let s = await start();
    try {
      await s.store.devices.create('N1', { device_name: 'a\0desk', device_username: '\0xxxyxxxXx' });
      await s.store.devices.create('N2', { device_username: 'x_xXxxy%' });
      await s.store.devices.create('N3', { device_name: 'plain' });
    } finally {
      await s.close();
    }
    // An older build kept the whole folded text (its update trigger re-indexes it).
    onDisk((db) => {
      db.prepare('UPDATE devices SET device_name_fold = ?, device_username_fold = ? WHERE id = ?').run(
        'a\0desk',
        '\0xxxyxxxxx',
        'N1',
      );
      forgetMigrations(db, '0022_device_folds_nul');
    });
    const found = async (srv: TestServer, f: Record<string, string>) => {
      const { rows, total } = await srv.store.devices.list(f, 0, 10);
      return { ids: rows.map((r) => r.id), total };
    };
    s = await start();
    try {
      expect(await found(s, { device_username: '%xxy%' })).toEqual({ ids: ['N2'], total: 1 });
      expect(await found(s, { device_name: '%des%' })).toEqual({ ids: [], total: 0 });
      const r = await s.call('GET', '/api/devices?device_username=%25xxy%25', s.token);
      expect(r.json).toMatchObject({ total: 1, data: [{ id: 'N2' }] });
      expect((await s.store.devices.getById('N1'))!.device_username).toBe('\0xxxyxxxXx');
    } finally {
      await s.close();
    }
    expect(
      onDisk((db) =>
        db.prepare("SELECT device_name_fold, device_username_fold FROM devices WHERE id = 'N1'").get(),
      ),
    ).toEqual({ device_name_fold: 'a', device_username_fold: '' });
  });
});
