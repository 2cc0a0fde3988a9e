import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { packageRoot } from '../cli/package-root';
import { INCOMING_TYPES, OUTGOING_TYPES, RULE_TYPE_LABEL } from '../wire/access';
import { AREAS } from '../wire/scopes';
import { hashPassword, hashToken, newSecret } from './crypto';
import type { Store } from './store';
import type { Edge } from './store/groups';

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
  await seedDemoGroups(store, await loadDemoGroups());
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
