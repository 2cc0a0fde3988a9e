import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { packageRoot } from '../package-root';
import { parseColor, parsePermission } from '../wire/ab-rules';
import { INCOMING_TYPES, OUTGOING_TYPES, RULE_TYPE_LABEL } from '../wire/access';
import { AREAS } from '../wire/scopes';
import { hashPassword, hashToken, newSecret } from './crypto';
import type { Store } from './store';
import { AuditLogRepo } from './store/audit-logs';
import type { Edge } from './store/groups';

const Minutes = z.number().int().min(0);
/** A position in the demo devices ordered by RustDesk ID. */
const DeviceRef = z.number().int().min(0);

/** fixtures/demo-audits.json: what stock clients would have posted. */
export const DemoAudits = z.object({
  connections: z.array(
    z.object({
      device: DeviceRef,
      peer_device: DeviceRef.optional(),
      peer_name: z.string().default(''),
      conn_id: z.number().int(),
      session_id: z.string(),
      ip: z.string(),
      type: z.number().int().optional(),
      primary_auth: z.number().int().optional(),
      two_factor: z.number().int().optional(),
      minutes_ago: Minutes,
      /** How long it lasted; absent: still open. */
      minutes: Minutes.optional(),
      note: z.string().optional(),
    }),
  ),
  files: z.array(
    z.object({
      device: DeviceRef,
      peer_device: DeviceRef,
      peer_name: z.string(),
      conn_id: z.number().int(),
      type: z.number().int(),
      path: z.string(),
      ip: z.string(),
      files: z.array(z.tuple([z.string(), z.number()])),
      minutes_ago: Minutes,
    }),
  ),
  alarms: z.array(
    z.object({
      device: DeviceRef,
      typ: z.number().int(),
      info: z.record(z.string(), z.unknown()),
      minutes_ago: Minutes,
    }),
  ),
});
export type DemoAudits = z.infer<typeof DemoAudits>;

export async function loadDemoAudits(
  file: string = join(packageRoot(), 'fixtures', 'demo-audits.json'),
): Promise<DemoAudits> {
  return DemoAudits.parse(JSON.parse(await readFile(file, 'utf8')));
}

/**
 * Seeds demo audit records (connections, file transfers, alarms) between demo devices, dated
 * relative to `now`, unless the connection log already holds records. Without enough devices,
 * made-up IDs stand in.
 */
export async function seedDemoAudits(store: Store, data: DemoAudits, now = new Date()): Promise<void> {
  if ((await store.auditLogs.listConn({}, 0, 1)).total > 0) return;
  const { rows } = await store.devices.list({}, 0, 100);
  const dev = (i: number) => {
    const d = rows[i];
    return d ? { id: d.id, uuid: d.uuid } : { id: String(900_000_000 + i), uuid: '' };
  };
  let at = now;
  const repo = new AuditLogRepo(store.database.db, () => at);
  const ago = (minutes: number, plusMs = 0) => new Date(now.getTime() - minutes * 60_000 + plusMs);
  for (const c of data.connections) {
    const d = dev(c.device);
    const base = { device_id: d.id, device_uuid: d.uuid, conn_id: c.conn_id, session_id: c.session_id };
    at = ago(c.minutes_ago);
    await repo.connEvent({ ...base, kind: 'new', ip: c.ip });
    if (c.peer_device !== undefined) {
      at = ago(c.minutes_ago, 4_000);
      await repo.connEvent({
        ...base,
        kind: 'auth',
        peer_id: dev(c.peer_device).id,
        peer_name: c.peer_name,
        conn_type: c.type ?? null,
        primary_auth: c.primary_auth ?? null,
        two_factor: c.two_factor ?? null,
      });
    }
    if (c.note) {
      const guid = await repo.activeConn(d.id, c.session_id);
      if (guid) await repo.setNote(guid, c.note);
    }
    if (c.minutes !== undefined) {
      at = ago(c.minutes_ago, c.minutes * 60_000 + 9_000);
      await repo.connEvent({ ...base, kind: 'close' });
    }
  }
  for (const f of data.files) {
    const d = dev(f.device);
    at = ago(f.minutes_ago);
    await repo.fileEvent({
      device_id: d.id,
      device_uuid: d.uuid,
      peer_id: dev(f.peer_device).id,
      peer_name: f.peer_name,
      conn_id: f.conn_id,
      type: f.type,
      path: f.path,
      is_file: f.files.length === 1 && f.files[0]![0] === '',
      num: f.files.length,
      ip: f.ip,
      info: JSON.stringify({ ip: f.ip, name: f.peer_name, num: f.files.length, files: f.files }),
    });
  }
  for (const a of data.alarms) {
    const d = dev(a.device);
    at = ago(a.minutes_ago);
    await repo.alarmEvent({
      device_id: d.id,
      device_uuid: d.uuid,
      typ: a.typ,
      ip: typeof a.info['ip'] === 'string' ? a.info['ip'] : '',
      info: JSON.stringify(a.info),
      conn_id: null,
      conn_audit_ref: null,
    });
  }
}

export const DemoFleet = z.object({
  password: z.string(),
  user_groups: z.array(z.object({ name: z.string(), note: z.string().default('') })),
  users: z.array(
    z.object({
      name: z.string(),
      group: z.string(),
      email: z.string().default(''),
      note: z.string().default(''),
      status: z.union([z.literal(1), z.literal(0), z.literal(-1)]).default(1),
      is_admin: z.boolean().default(false),
    }),
  ),
});
export type DemoFleet = z.infer<typeof DemoFleet>;

export async function loadDemoFleet(file: URL | string): Promise<DemoFleet> {
  return DemoFleet.parse(JSON.parse(await readFile(file, 'utf8')));
}

/** A small deterministic PRNG, so every demo fleet is the same. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DEMO_OS = ['Windows 11 Pro', 'Windows 10 Pro', 'macOS 15.2', 'Ubuntu 24.04', 'Debian 12', 'Android 14'];
const DEMO_DEVICE_GROUPS = ['Production', 'Office PCs', 'Kiosks', 'Lab'];

/**
 * ~200 devices: varied OS; most assigned to a demo user and a device group, some not; half seen
 * in the last minute, some offline for days or weeks, a few never online.
 */
export async function seedDemoDevices(store: Store, fleet: DemoFleet, now: Date, count = 200): Promise<void> {
  if ((await store.devices.count()) > 0) return;
  const rand = mulberry32(21114);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const groups: string[] = [];
  for (const name of DEMO_DEVICE_GROUPS) {
    const g =
      (await store.devices.getGroupByName(name)) ??
      (await store.devices.getGroupByGuid(await store.devices.createGroup(name)));
    groups.push(g!.guid);
  }
  const userGuids: string[] = [];
  for (const u of fleet.users.filter((x) => x.status === 1)) {
    const rec = await store.users.getByName(u.name);
    if (rec) userGuids.push(rec.guid);
  }
  const ids = new Set<string>();
  while (ids.size < count) ids.add(String(100_000_000 + Math.floor(rand() * 899_999_999)));
  let i = 0;
  for (const id of ids) {
    i++;
    const os = pick(DEMO_OS);
    const kind = os.startsWith('Windows')
      ? 'DESKTOP'
      : os.startsWith('macOS')
        ? 'MacBook'
        : os.startsWith('Android')
          ? 'tablet'
          : 'srv';
    const r = rand();
    const ageMs =
      r < 0.5
        ? rand() * 30_000
        : r < 0.8
          ? (1 + rand() * 19) * 86_400_000
          : r < 0.95
            ? (30 + rand() * 90) * 86_400_000
            : -1;
    await store.devices.create(id, {
      uuid: Buffer.from(`demo-${id}`).toString('base64'),
      device_name: `${kind}-${String(i).padStart(3, '0')}`,
      device_username: kind === 'srv' ? 'root' : pick(['anna', 'ben', 'jo', 'sam', 'kim']),
      os,
      cpu: pick(['Intel Core i5-1240P', 'AMD Ryzen 7 5800U', 'Apple M3', 'ARM Cortex-A78']),
      memory: pick(['8GB', '16GB', '32GB']),
      version: pick(['1.4.3', '1.4.2', '1.3.9']),
      user_guid: rand() < 0.6 ? pick(userGuids) : null,
      device_group_guid: rand() < 0.7 ? pick(groups) : null,
      note: rand() < 0.1 ? 'loaner' : '',
      last_online: ageMs < 0 ? null : new Date(now.getTime() - ageMs).toISOString(),
      sysinfo_at: ageMs < 0 ? null : now.toISOString(),
    });
  }
}

/** Strategies at each level: a device group's, a user's, and a device's own (disabled one too). */
export async function seedDemoStrategies(store: Store): Promise<void> {
  if ((await store.strategies.list()).length > 1) return;
  const servers = await store.strategies.create('Servers', {
    'allow-remote-config-modification': 'N',
    'enable-file-transfer': 'N',
  });
  const support = await store.strategies.create('Support desk', {
    'approve-mode': 'click',
    'enable-audio': 'Y',
  });
  const kiosk = await store.strategies.create('Kiosk lock', {
    'enable-keyboard': 'N',
    'enable-clipboard': 'N',
  });
  await store.strategies.create('Lockdown (disabled)', { 'enable-remote-restart': 'N' }, false);
  const prod = await store.devices.getGroupByName('Production');
  const lead = await store.users.getByName('support_lead');
  const kiosks = (await store.devices.list({ device_name: 'tablet%' }, 0, 3)).rows.map((d) => d.guid);
  await store.strategies.assign(servers, { peers: [], users: [], groups: prod ? [prod.guid] : [] });
  await store.strategies.assign(support, { peers: [], users: lead ? [lead.guid] : [], groups: [] });
  await store.strategies.assign(kiosk, { peers: kiosks, users: [], groups: [] });
}

/**
 * Seeds the demo fleet into a fresh store and creates an `all:rw` API token named `demo`.
 * Returns the token (the only time it exists in clear), or null when the store was seeded before.
 */
export async function seedDemo(store: Store, fleet: DemoFleet): Promise<string | null> {
  if (await store.auth.getLiveTokenByName('demo')) return null;
  // One hash for every demo user: scrypt is slow on purpose, and this is throwaway data.
  const hash = await hashPassword(fleet.password);
  for (const g of fleet.user_groups) {
    if (!(await store.users.getGroupByName(g.name))) await store.users.createGroup(g.name, g.note);
  }
  for (const u of fleet.users) {
    if (await store.users.getByName(u.name)) continue;
    const group = await store.users.getGroupByName(u.group);
    if (!group) throw new Error(`demo fleet: user '${u.name}' names unknown group '${u.group}'`);
    await store.users.create({
      name: u.name,
      password_hash: u.status === -1 ? null : hash,
      group_guid: group.guid,
      email: u.email,
      note: u.note,
      status: u.status,
      is_admin: u.is_admin,
    });
  }
  await seedDemoGroups(store, await loadDemoGroups());
  const admin = await store.users.getByName('admin');
  if (!admin) throw new Error('demo fleet: the administrator is missing');
  await seedDemoDevices(store, fleet, new Date());
  await seedDemoAddressBooks(store, await loadDemoAddressBooks());
  await seedDemoStrategies(store);
  await seedDemoAudits(store, await loadDemoAudits());
  const token = newSecret('rdt');
  await store.auth.createToken({
    name: 'demo',
    tokenHash: hashToken(token),
    ownerGuid: admin.guid,
    permissions: JSON.stringify(Object.fromEntries(AREAS.map((a) => [a, 'rw']))),
    expiresAt: null,
  });
  return token;
}

const DemoRules = z.array(z.object({ type: z.number().int(), name: z.string() })).default([]);

/** fixtures/demo-groups.json: extra user groups, device groups, and access rules between them. */
export const DemoGroups = z.object({
  user_groups: z.array(
    z.object({
      name: z.string(),
      note: z.string().optional(),
      allowed_incomings: DemoRules,
      allowed_outgoings: DemoRules,
    }),
  ),
  device_groups: z.array(
    z.object({ name: z.string(), note: z.string().default(''), allowed_incomings: DemoRules }),
  ),
});
export type DemoGroups = z.infer<typeof DemoGroups>;

export async function loadDemoGroups(
  file: string = join(packageRoot(), 'fixtures', 'demo-groups.json'),
): Promise<DemoGroups> {
  return DemoGroups.parse(JSON.parse(await readFile(file, 'utf8')));
}

/**
 * Creates the demo's missing user and device groups, then adds their access rules (added, never
 * replaced: a fixture may give one rule from both sides). Safe to run again.
 */
export async function seedDemoGroups(store: Store, demo: DemoGroups): Promise<void> {
  for (const g of demo.user_groups) {
    if (!(await store.users.getGroupByName(g.name))) await store.groups.createUserGroup(g.name, g.note ?? '');
  }
  for (const g of demo.device_groups) {
    if (!(await store.groups.getDeviceGroupByName(g.name)))
      await store.groups.createDeviceGroup(g.name, g.note);
  }
  const edges: { src: Edge; dst: Edge }[] = [];
  const resolve = async (
    owner: string,
    rules: { type: number; name: string }[],
    allowed: readonly number[],
  ): Promise<Edge[]> => {
    const guids = await store.groups.findRuleTargets(rules);
    return rules.map((r, i) => {
      if (!allowed.includes(r.type) || !guids[i]) {
        throw new Error(
          `demo groups: '${owner}' names unknown ${RULE_TYPE_LABEL[r.type] ?? r.type} '${r.name}'`,
        );
      }
      return { type: r.type, guid: guids[i]! };
    });
  };
  for (const g of demo.user_groups) {
    const self: Edge = { type: 0, guid: (await store.users.getGroupByName(g.name))!.guid };
    for (const src of await resolve(g.name, g.allowed_incomings, INCOMING_TYPES))
      edges.push({ src, dst: self });
    for (const dst of await resolve(g.name, g.allowed_outgoings, OUTGOING_TYPES))
      edges.push({ src: self, dst });
  }
  for (const g of demo.device_groups) {
    const self: Edge = { type: 1, guid: (await store.groups.getDeviceGroupByName(g.name))!.guid };
    for (const src of await resolve(g.name, g.allowed_incomings, INCOMING_TYPES))
      edges.push({ src, dst: self });
  }
  await store.groups.addRules(edges);
}

// ---- address books (fixtures/demo-ab.json) ----

const DemoAbPeer = z.object({
  id: z.string(),
  alias: z.string().optional(),
  tags: z.array(z.string()).optional(),
  note: z.string().optional(),
  password: z.string().optional(),
});
export const DemoAddressBooks = z.object({
  /** A few devices the books point at; created only if their ID is not registered yet. */
  devices: z.array(
    z.object({
      id: z.string(),
      device_name: z.string(),
      device_username: z.string(),
      os: z.string(),
      user: z.string().optional(),
    }),
  ),
  books: z.array(
    z.object({
      name: z.string(),
      owner: z.string(),
      note: z.string().default(''),
      password: z.string().optional(),
      tags: z.array(z.object({ name: z.string(), color: z.string() })),
      peers: z.array(DemoAbPeer),
      rules: z.array(
        z.object({
          user: z.string().optional(),
          group: z.string().optional(),
          everyone: z.literal(true).optional(),
          rule: z.string(),
        }),
      ),
    }),
  ),
  personal: z.array(z.object({ user: z.string(), peers: z.array(DemoAbPeer) })),
});
export type DemoAddressBooks = z.infer<typeof DemoAddressBooks>;

/** fixtures/demo-ab.json, found from the sources and from the bundle alike. */
export async function loadDemoAddressBooks(): Promise<DemoAddressBooks> {
  const file = join(packageRoot(), 'fixtures', 'demo-ab.json');
  return DemoAddressBooks.parse(JSON.parse(await readFile(file, 'utf8')));
}

/** Shared books with peers, tags and rules, and a personal book; books that exist are left alone. */
export async function seedDemoAddressBooks(store: Store, data: DemoAddressBooks): Promise<void> {
  const userGuid = async (name: string) => {
    const u = await store.users.getByName(name);
    if (!u) throw new Error(`demo address books: unknown user '${name}'`);
    return u.guid;
  };
  for (const d of data.devices) {
    if (await store.devices.getById(d.id)) continue;
    await store.devices.create(d.id, {
      device_name: d.device_name,
      device_username: d.device_username,
      os: d.os,
      user_guid: d.user ? await userGuid(d.user) : null,
    });
  }
  const ab = store.addressBooks;
  // What a client would sync into the entry from the device itself.
  const synced = async (p: z.infer<typeof DemoAbPeer>) => {
    const d = await store.devices.getById(p.id);
    if (!d) return p;
    const os = d.os.toLowerCase();
    const platform = os.startsWith('windows') ? 'Windows' : os.startsWith('mac') ? 'Mac OS' : 'Linux';
    return { ...p, hostname: d.device_name, username: d.device_username, platform };
  };
  for (const b of data.books) {
    if (await ab.getSharedByName(b.name)) continue;
    const guid = await ab.createShared({
      name: b.name,
      note: b.note,
      password: b.password,
      ownerGuid: await userGuid(b.owner),
    });
    const ref = { guid, label: `demo address book '${b.name}'` };
    for (const t of b.tags) await ab.addTag(ref, t.name, parseColor(t.color));
    for (const p of b.peers) await ab.addPeer(ref, p.id, await synced(p));
    for (const r of b.rules) {
      const rule = parsePermission(r.rule);
      if (!rule) throw new Error(`demo address books: bad rule '${r.rule}'`);
      let groupGuid: string | null = null;
      if (r.group) {
        const g = await store.users.getGroupByName(r.group);
        if (!g) throw new Error(`demo address books: unknown group '${r.group}'`);
        groupGuid = g.guid;
      }
      await ab.addRule(guid, { userGuid: r.user ? await userGuid(r.user) : null, groupGuid }, rule);
    }
  }
  for (const p of data.personal) {
    const guid = await ab.personalGuid(await userGuid(p.user));
    const ref = { guid, label: `the personal address book of '${p.user}'` };
    for (const peer of p.peers)
      if (!(await ab.getPeer(guid, peer.id))) await ab.addPeer(ref, peer.id, await synced(peer));
  }
}
