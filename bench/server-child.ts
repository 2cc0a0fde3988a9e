import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, hashToken, newSecret } from '../src/server/crypto';
import { lineLog } from '../src/server/line-log';
import { startServer } from '../src/server/serve';
import { newGuid } from '../src/server/store/ids';
import { fold } from '../src/server/store/like';
import { AREAS, type Permissions } from '../src/wire/scopes';
import { deviceId, deviceInfo, prng, userName } from './fleet';

// The benchmark server: the same startServer() as `rdadmin serve`, on 127.0.0.1 only, with a fresh
// SQLite file, run in its own process (so it has a core to itself) and driven over IPC by
// bench/main.ts: it seeds fleets straight into the store and answers a few questions about its
// state. Its request log goes to stderr, which the driver discards (like a daemon's journal).

type Handler = (args: Record<string, unknown>) => unknown;

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'rdadmin-bench-'));
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    log: lineLog(process.stderr),
  });
  const { store } = server;
  const sqlite = store.database.sqlite;
  const admin = (await store.users.getByName('admin'))!;
  const token = newSecret('rdt');
  await store.auth.createToken({
    name: 'bench',
    tokenHash: hashToken(token),
    ownerGuid: admin.guid,
    permissions: JSON.stringify(Object.fromEntries(AREAS.map((a) => [a, 'rw'])) as Permissions),
    expiresAt: null,
  });
  const sharedHash = await hashPassword('password123');

  async function groupGuid(name: string): Promise<string> {
    const g = await store.users.getGroupByName(name);
    if (g) return g.guid;
    await store.users.createGroup(name);
    return (await store.users.getGroupByName(name))!.guid;
  }

  const handlers: Record<string, Handler> = {
    /** `n` users named <prefix><first>.<i> in `group`, in one transaction. */
    async seedUsers(a) {
      const n = Number(a['n']);
      const prefix = String(a['prefix'] ?? '');
      const g = await groupGuid(String(a['group']));
      const ts = new Date().toISOString();
      const insert = sqlite.prepare(
        `INSERT INTO users (guid, name, name_fold, display_name, email, note, status, is_admin, group_guid,
           password_hash, email_verification, tfa_enforced, tfa_enforce_url, created_at, updated_at)
         VALUES (?, ?, ?, '', ?, '', 1, 0, ?, ?, 0, 0, '', ?, ?)`,
      );
      sqlite.transaction(() => {
        for (let i = 0; i < n; i++) {
          const name = userName(prefix, i);
          insert.run(newGuid(), name, fold(name), `${name}@example.com`, g, sharedHash, ts, ts);
        }
      })();
      return n;
    },

    /**
     * `n` connection records, one a second going back from now, between devices of the fleet and
     * peers, in one transaction (what months of a busy fleet's connection log look like).
     */
    async seedConnAudits(a) {
      const n = Number(a['n']);
      const devices = Number(a['devices']);
      const insert = sqlite.prepare(
        `INSERT INTO audit_conn (guid, device_id, device_id_fold, conn_id, ip, peer_id, peer_id_fold,
           peer_name, conn_type, created_at, end_time)
         VALUES (?, ?, ?, ?, '10.0.0.1', ?, ?, '', 0, ?, ?)`,
      );
      const start = Date.now() - n * 1000;
      sqlite.transaction(() => {
        for (let i = 0; i < n; i++) {
          const device = deviceId((i * 7919) % devices);
          const peer = deviceId((i * 104729 + 1) % devices);
          const at = new Date(start + i * 1000);
          insert.run(
            newGuid(at.getTime()),
            device,
            device,
            i,
            peer,
            peer,
            at.toISOString(),
            new Date(at.getTime() + 600_000).toISOString(),
          );
        }
      })();
      return n;
    },

    /**
     * Devices 0…n-1 of the fleet (bench/fleet.ts) as registered clients that uploaded sysinfo; a
     * third assigned to users, half to one of 8 device groups, a few with their own strategy.
     */
    async seedDevices(a) {
      const n = Number(a['n']);
      const rand = prng(42);
      const users = sqlite
        .prepare('SELECT guid FROM users ORDER BY guid LIMIT 2000')
        .pluck()
        .all() as string[];
      const groups: string[] = [];
      for (let i = 0; i < 8; i++) {
        const name = `Site ${i + 1}`;
        const g =
          (await store.devices.getGroupByName(name)) ??
          (await store.devices.getGroupByGuid(await store.devices.createGroup(name)));
        groups.push(g!.guid);
      }
      const strategies: string[] = [];
      for (let i = 0; i < 4; i++) {
        const name = `Policy ${i + 1}`;
        const s = await store.strategies.getByName(name);
        strategies.push(
          s?.guid ?? (await store.strategies.create(name, { 'enable-clipboard': i % 2 ? 'N' : 'Y' })),
        );
      }
      // Device groups and users get strategies too, so every level of the precedence chain is used.
      await store.strategies.assign(strategies[0]!, {
        peers: [],
        users: users.slice(0, 50),
        groups: groups.slice(0, 2),
      });
      const now = Date.now();
      const insert = sqlite.prepare(
        `INSERT INTO devices (guid, id, id_fold, uuid, device_name, device_name_fold, device_username,
           device_username_fold, os, cpu, memory, version, ip, note, status, user_guid, device_group_guid,
           strategy_guid, last_online, sysinfo_at, conns, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '127.0.0.1', '', 1, ?, ?, ?, ?, ?, '[]', ?, ?)`,
      );
      sqlite.transaction(() => {
        for (let i = 0; i < n; i++) {
          const d = deviceInfo(i);
          const created = new Date(now - (30 + rand() * 300) * 86_400_000).toISOString();
          const seen = new Date(now - rand() * 60 * 86_400_000).toISOString();
          const user = rand() < 0.33 && users.length ? users[Math.floor(rand() * users.length)]! : null;
          const group = rand() < 0.5 ? groups[Math.floor(rand() * groups.length)]! : null;
          const strategy = rand() < 0.02 ? strategies[1 + Math.floor(rand() * 3)]! : null;
          insert.run(
            newGuid(Date.parse(created)),
            d.id,
            fold(d.id),
            d.uuid,
            d.hostname,
            fold(d.hostname),
            d.username,
            fold(d.username),
            d.os,
            d.cpu,
            d.memory,
            d.version,
            user,
            group,
            strategy,
            seen,
            seen,
            created,
            created,
          );
        }
      })();
      return n;
    },

    /** Sets the status of every user in `group` (to reset between runs of a bulk change). */
    async setGroupStatus(a) {
      const g = await groupGuid(String(a['group']));
      return sqlite.prepare('UPDATE users SET status = ? WHERE group_guid = ?').run(Number(a['status']), g)
        .changes;
    },

    /** How many users of `group` have `status`. */
    async countStatus(a) {
      const g = await groupGuid(String(a['group']));
      return sqlite
        .prepare('SELECT count(*) FROM users WHERE group_guid = ? AND status = ?')
        .pluck()
        .get(g, Number(a['status']));
    },

    /** SQLite's plans for the devices list (page and count) with this filter. */
    async explainDevices(a) {
      // (Measuring an older build for a before/after comparison: it may not have plan().)
      const repo = store.devices as Partial<Pick<typeof store.devices, 'plan'>>;
      return repo.plan ? repo.plan(a as Record<string, string>) : { rows: ['(no plan())'], count: [] };
    },

    async memory() {
      return process.memoryUsage().rss;
    },

    async close() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
      setImmediate(() => process.exit(0));
      return true;
    },
  };

  process.on('message', async (m: { id: number; cmd: string; args: Record<string, unknown> }) => {
    try {
      const handler = handlers[m.cmd];
      if (!handler) throw new Error(`unknown command ${m.cmd}`);
      process.send!({ id: m.id, result: await handler(m.args ?? {}) });
    } catch (err) {
      process.send!({ id: m.id, error: (err as Error).stack ?? String(err) });
    }
  });
  // The driver going away ends this server too.
  process.on('disconnect', () => {
    server
      .close()
      .finally(() => rm(dataDir, { recursive: true, force: true }).finally(() => process.exit(0)));
  });
  process.send!({ ready: true, url: server.url, token });
}

main().catch((err) => {
  process.stderr.write(`bench server failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
