import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseColor, parsePermission } from '../wire/ab-rules';
import { AREAS } from '../wire/scopes';
import { hashPassword, hashToken, newSecret } from './crypto';
import type { Store } from './store';

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
  await seedDemoAddressBooks(store, await loadDemoAddressBooks());
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
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'fixtures', 'demo-ab.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('demo fleet: fixtures/demo-ab.json not found');
    dir = up;
  }
  return DemoAddressBooks.parse(JSON.parse(await readFile(join(dir, 'fixtures', 'demo-ab.json'), 'utf8')));
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
