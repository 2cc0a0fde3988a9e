import { readFile } from 'node:fs/promises';
import { z } from 'zod';
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
