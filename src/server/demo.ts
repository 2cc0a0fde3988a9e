import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { AREAS } from '../wire/scopes';
import { hashPassword, hashToken, newSecret } from './crypto';
import type { Store } from './store';
import { AuditLogRepo } from './store/audit-logs';

const Minutes = z.number().int().min(0);
const Poster = { device: z.string(), uuid: z.string(), minutes_ago: Minutes };

/** fixtures/demo-audits.json: what stock clients would have posted. */
export const DemoAudits = z.object({
  connections: z.array(
    z.object({
      ...Poster,
      conn_id: z.number().int(),
      session_id: z.string(),
      ip: z.string(),
      peer: z.tuple([z.string(), z.string()]).optional(),
      type: z.number().int().optional(),
      primary_auth: z.number().int().optional(),
      two_factor: z.number().int().optional(),
      /** How long it lasted; absent: still open. */
      minutes: Minutes.optional(),
      note: z.string().optional(),
    }),
  ),
  files: z.array(
    z.object({
      ...Poster,
      peer_id: z.string(),
      peer_name: z.string(),
      conn_id: z.number().int(),
      type: z.number().int(),
      path: z.string(),
      ip: z.string(),
      files: z.array(z.tuple([z.string(), z.number()])),
    }),
  ),
  alarms: z.array(z.object({ ...Poster, typ: z.number().int(), info: z.record(z.string(), z.unknown()) })),
});
export type DemoAudits = z.infer<typeof DemoAudits>;

/**
 * Seeds demo audit records (connections, file transfers, alarms) dated relative to `now`, unless
 * the connection log already holds records.
 */
export async function seedDemoAudits(store: Store, data: DemoAudits, now = new Date()): Promise<void> {
  if ((await store.auditLogs.listConn({}, 0, 1)).total > 0) return;
  let at = now;
  const repo = new AuditLogRepo(store.database.db, () => at);
  const ago = (minutes: number, plusMs = 0) => new Date(now.getTime() - minutes * 60_000 + plusMs);
  for (const c of data.connections) {
    const base = { device_id: c.device, device_uuid: c.uuid, conn_id: c.conn_id, session_id: c.session_id };
    at = ago(c.minutes_ago);
    await repo.connEvent({ ...base, kind: 'new', ip: c.ip });
    if (c.peer) {
      at = ago(c.minutes_ago, 4_000);
      await repo.connEvent({
        ...base,
        kind: 'auth',
        peer_id: c.peer[0],
        peer_name: c.peer[1],
        conn_type: c.type ?? null,
        primary_auth: c.primary_auth ?? null,
        two_factor: c.two_factor ?? null,
      });
    }
    if (c.note) {
      const guid = await repo.activeConn(c.device, c.session_id);
      if (guid) await repo.setNote(guid, c.note);
    }
    if (c.minutes !== undefined) {
      at = ago(c.minutes_ago, c.minutes * 60_000 + 9_000);
      await repo.connEvent({ ...base, kind: 'close' });
    }
  }
  for (const f of data.files) {
    at = ago(f.minutes_ago);
    await repo.fileEvent({
      device_id: f.device,
      device_uuid: f.uuid,
      peer_id: f.peer_id,
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
    at = ago(a.minutes_ago);
    await repo.alarmEvent({
      device_id: a.device,
      device_uuid: a.uuid,
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
  /** Read from demo-audits.json next to the fleet file. */
  audits: DemoAudits.optional(),
});
export type DemoFleet = z.infer<typeof DemoFleet>;

export async function loadDemoFleet(file: URL | string): Promise<DemoFleet> {
  const fleet = DemoFleet.parse(JSON.parse(await readFile(file, 'utf8')));
  const audits = new URL('demo-audits.json', typeof file === 'string' ? pathToFileURL(file) : file);
  fleet.audits = DemoAudits.parse(JSON.parse(await readFile(audits, 'utf8')));
  return fleet;
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
  if (fleet.audits) await seedDemoAudits(store, fleet.audits);
  const admin = await store.users.getByName('admin');
  if (!admin) throw new Error('demo fleet: the administrator is missing');
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
