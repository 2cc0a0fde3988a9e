import { type Insertable, type Kysely, sql, type Transaction } from 'kysely';
import { type RuleSource, ruleTargets } from './access-rules';
import type { DeviceGroupRecord } from './devices';
import { newGuid } from './ids';
import { fold, likeFilter } from './like';
import type { AccessRuleTable, DB } from './schema';
import { transact } from './tx';
import type { GroupRecord } from './users';

/** One end of an access rule: 0 user group, 1 device group, 2 user. */
export interface Edge {
  type: number;
  guid: string;
}

/** A rule as rows show it: the other end, by name. */
export interface RuleView {
  type: number;
  name: string;
}

export type UserGroupView = GroupRecord & { user_count: number };
export type DeviceGroupView = DeviceGroupRecord & { device_count: number };

export interface GroupPatch {
  name?: string;
  note?: string;
  /** Replaces the sources that may access this group. */
  incomings?: Edge[];
  /** Replaces what this (user) group may access. */
  outgoings?: Edge[];
}

/** Outcome of a delete: the foreign-key case means something still refers to the group. */
export type DeleteOutcome = 'deleted' | 'missing' | 'referenced';

function isForeignKeyError(err: unknown): boolean {
  return String((err as { code?: string })?.code ?? '').startsWith('SQLITE_CONSTRAINT_FOREIGNKEY');
}

function byTypeThenName(a: RuleView, b: RuleView): number {
  return a.type - b.type || a.name.localeCompare(b.name);
}

function edgeRow(src: Edge, dst: Edge, ts: string): Insertable<AccessRuleTable> {
  return {
    src_type: src.type,
    src_user_group: src.type === 0 ? src.guid : null,
    src_user: src.type === 2 ? src.guid : null,
    dst_type: dst.type,
    dst_user_group: dst.type === 0 ? dst.guid : null,
    dst_device_group: dst.type === 1 ? dst.guid : null,
    created_at: ts,
  };
}

/**
 * User groups, device groups, their members, and the access rules between them. The basic
 * lookups devices need stay in UserRepo / DeviceRepo; this repo adds the rest.
 */
export class GroupRepo {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly now: () => Date,
  ) {}

  // ---- user groups

  private userGroups() {
    return this.db
      .selectFrom('user_groups')
      .selectAll('user_groups')
      .select((eb) =>
        eb
          .selectFrom('users')
          .select((e) => e.fn.countAll<number>().as('n'))
          .whereRef('users.group_guid', '=', 'user_groups.guid')
          .as('user_count'),
      );
  }

  async listUserGroups(
    f: { name?: string },
    offset: number,
    limit: number,
  ): Promise<{ rows: UserGroupView[]; total: number }> {
    const cond = likeFilter(sql.ref<string>('user_groups.name_fold'), f.name);
    let q = this.userGroups();
    if (cond) q = q.where(cond);
    let c = this.db.selectFrom('user_groups').select((eb) => eb.fn.countAll<number>().as('n'));
    if (cond) c = c.where(cond);
    const [rows, count] = await Promise.all([
      q.orderBy('user_groups.name_fold').orderBy('user_groups.guid').offset(offset).limit(limit).execute(),
      c.executeTakeFirstOrThrow(),
    ]);
    return {
      rows: rows.map((r) => ({ ...r, user_count: Number(r.user_count ?? 0) })),
      total: Number(count.n),
    };
  }

  async getUserGroup(guid: string): Promise<UserGroupView | undefined> {
    const r = await this.userGroups().where('user_groups.guid', '=', guid).executeTakeFirst();
    return r && { ...r, user_count: Number(r.user_count ?? 0) };
  }

  async getUserGroupByName(name: string): Promise<UserGroupView | undefined> {
    const r = await this.userGroups().where('user_groups.name', '=', name).executeTakeFirst();
    return r && { ...r, user_count: Number(r.user_count ?? 0) };
  }

  createUserGroup(name: string, note: string, p: GroupPatch = {}): Promise<string> {
    return this.createGroup('user_groups', 0, name, note, p);
  }

  updateUserGroup(guid: string, p: GroupPatch): Promise<void> {
    return this.updateGroup('user_groups', 0, guid, p);
  }

  deleteUserGroup(guid: string): Promise<DeleteOutcome> {
    return this.deleteGroup('user_groups', guid);
  }

  /** Moves users into a group (a user is in exactly one group); returns how many changed. */
  async moveUsers(groupGuid: string, userGuids: readonly string[]): Promise<number> {
    if (userGuids.length === 0) return 0;
    const r = await this.db
      .updateTable('users')
      .set({ group_guid: groupGuid, updated_at: this.now().toISOString() })
      .where('guid', 'in', [...userGuids])
      .where('group_guid', '!=', groupGuid)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  // ---- device groups

  private deviceGroups() {
    return this.db
      .selectFrom('device_groups')
      .selectAll('device_groups')
      .select((eb) =>
        eb
          .selectFrom('devices')
          .select((e) => e.fn.countAll<number>().as('n'))
          .whereRef('devices.device_group_guid', '=', 'device_groups.guid')
          .as('device_count'),
      );
  }

  async listDeviceGroups(
    f: { name?: string },
    offset: number,
    limit: number,
  ): Promise<{ rows: DeviceGroupView[]; total: number }> {
    const cond = likeFilter(sql.ref<string>('device_groups.name_fold'), f.name);
    let q = this.deviceGroups();
    if (cond) q = q.where(cond);
    let c = this.db.selectFrom('device_groups').select((eb) => eb.fn.countAll<number>().as('n'));
    if (cond) c = c.where(cond);
    const [rows, count] = await Promise.all([
      q
        .orderBy('device_groups.name_fold')
        .orderBy('device_groups.guid')
        .offset(offset)
        .limit(limit)
        .execute(),
      c.executeTakeFirstOrThrow(),
    ]);
    return {
      rows: rows.map((r) => ({ ...r, device_count: Number(r.device_count ?? 0) })),
      total: Number(count.n),
    };
  }

  async getDeviceGroup(guid: string): Promise<DeviceGroupView | undefined> {
    const r = await this.deviceGroups().where('device_groups.guid', '=', guid).executeTakeFirst();
    return r && { ...r, device_count: Number(r.device_count ?? 0) };
  }

  async getDeviceGroupByName(name: string): Promise<DeviceGroupView | undefined> {
    const r = await this.deviceGroups().where('device_groups.name', '=', name).executeTakeFirst();
    return r && { ...r, device_count: Number(r.device_count ?? 0) };
  }

  createDeviceGroup(name: string, note: string, p: GroupPatch = {}): Promise<string> {
    return this.createGroup('device_groups', 1, name, note, p);
  }

  updateDeviceGroup(guid: string, p: GroupPatch): Promise<void> {
    return this.updateGroup('device_groups', 1, guid, p);
  }

  /** Deletes a device group; its devices become ungrouped and its rules go with it. */
  deleteDeviceGroup(guid: string): Promise<DeleteOutcome> {
    return this.deleteGroup('device_groups', guid);
  }

  // User groups and device groups share their columns; these serve both (`type`: 0 user group,
  // 1 device group, as in the access rules).

  private async createGroup(
    table: 'user_groups' | 'device_groups',
    type: 0 | 1,
    name: string,
    note: string,
    p: GroupPatch,
  ): Promise<string> {
    const ts = this.now().toISOString();
    const guid = newGuid(this.now().getTime());
    await transact(this.db, async (trx) => {
      await trx
        .insertInto(table)
        .values({ guid, name, name_fold: fold(name), note, created_at: ts, updated_at: ts })
        .execute();
      await this.applyRules(trx, { type, guid }, p, ts);
    });
    return guid;
  }

  private async updateGroup(
    table: 'user_groups' | 'device_groups',
    type: 0 | 1,
    guid: string,
    p: GroupPatch,
  ): Promise<void> {
    const ts = this.now().toISOString();
    await transact(this.db, async (trx) => {
      await trx
        .updateTable(table)
        .set({
          ...(p.name !== undefined ? { name: p.name, name_fold: fold(p.name) } : {}),
          ...(p.note !== undefined ? { note: p.note } : {}),
          updated_at: ts,
        })
        .where('guid', '=', guid)
        .execute();
      await this.applyRules(trx, { type, guid }, p, ts);
    });
  }

  private async deleteGroup(table: 'user_groups' | 'device_groups', guid: string): Promise<DeleteOutcome> {
    try {
      const r = await this.db.deleteFrom(table).where('guid', '=', guid).executeTakeFirst();
      return Number(r.numDeletedRows) > 0 ? 'deleted' : 'missing';
    } catch (err) {
      if (isForeignKeyError(err)) return 'referenced';
      throw err;
    }
  }

  /** Puts devices into a device group, or takes them out of any (`null`), in one statement. */
  async setDevicesGroup(groupGuid: string | null, deviceGuids: readonly string[]): Promise<number> {
    if (deviceGuids.length === 0) return 0;
    const r = await this.db
      .updateTable('devices')
      .set({ device_group_guid: groupGuid, updated_at: this.now().toISOString() })
      .where('guid', 'in', [...deviceGuids])
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /**
   * Device groups a user may reach through access rules: a rule from the user or from the user's
   * group to the device group. `all` (administrators) lists every device group.
   */
  async accessibleDeviceGroups(
    who: RuleSource | 'all',
    offset: number,
    limit: number,
  ): Promise<{ rows: DeviceGroupRecord[]; total: number }> {
    const base = this.db
      .selectFrom('device_groups')
      .where(
        who === 'all'
          ? sql<boolean>`1 = 1`
          : sql<boolean>`device_groups.guid IN (${ruleTargets('deviceGroups', who)})`,
      );
    const [rows, count] = await Promise.all([
      base
        .selectAll('device_groups')
        .orderBy('device_groups.name_fold')
        .orderBy('device_groups.guid')
        .offset(offset)
        .limit(limit)
        .execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  // ---- access rules

  /** Finds each rule entry's record by exact name: its GUID, or undefined when there is none. */
  async findRuleTargets(entries: readonly { type: number; name: string }[]): Promise<(string | undefined)[]> {
    const names = (type: number) => [...new Set(entries.filter((e) => e.type === type).map((e) => e.name))];
    const lookup = async (table: 'user_groups' | 'device_groups' | 'users', list: string[]) => {
      if (list.length === 0) return new Map<string, string>();
      const rows = await this.db
        .selectFrom(table)
        .select(['guid', 'name'])
        .where('name', 'in', list)
        .execute();
      return new Map(rows.map((r) => [r.name, r.guid]));
    };
    const [ug, dg, u] = await Promise.all([
      lookup('user_groups', names(0)),
      lookup('device_groups', names(1)),
      lookup('users', names(2)),
    ]);
    const maps: Record<number, Map<string, string>> = { 0: ug, 1: dg, 2: u };
    return entries.map((e) => maps[e.type]?.get(e.name));
  }

  /** The rules of user groups, from both sides of the one edge set, by group GUID. */
  async userGroupRules(
    guids: readonly string[],
  ): Promise<Map<string, { incomings: RuleView[]; outgoings: RuleView[] }>> {
    const out = new Map(guids.map((g) => [g, { incomings: [] as RuleView[], outgoings: [] as RuleView[] }]));
    if (guids.length === 0) return out;
    const [inc, outg] = await Promise.all([
      this.incomingRows('dst_user_group', guids),
      this.db
        .selectFrom('access_rules as r')
        .leftJoin('user_groups as tg', 'tg.guid', 'r.dst_user_group')
        .leftJoin('device_groups as td', 'td.guid', 'r.dst_device_group')
        .select(['r.src_user_group as owner', 'r.dst_type as type', 'tg.name as g', 'td.name as d'])
        .where('r.src_user_group', 'in', [...guids])
        .execute(),
    ]);
    for (const r of inc) out.get(r.owner!)?.incomings.push({ type: r.type, name: (r.g ?? r.u)! });
    for (const r of outg) out.get(r.owner!)?.outgoings.push({ type: r.type, name: (r.g ?? r.d)! });
    for (const v of out.values()) {
      v.incomings.sort(byTypeThenName);
      v.outgoings.sort(byTypeThenName);
    }
    return out;
  }

  /** Who may access each device group (by group GUID). */
  async deviceGroupRules(guids: readonly string[]): Promise<Map<string, { incomings: RuleView[] }>> {
    const out = new Map(guids.map((g) => [g, { incomings: [] as RuleView[] }]));
    if (guids.length === 0) return out;
    for (const r of await this.incomingRows('dst_device_group', guids)) {
      out.get(r.owner!)?.incomings.push({ type: r.type, name: (r.g ?? r.u)! });
    }
    for (const v of out.values()) v.incomings.sort(byTypeThenName);
    return out;
  }

  private incomingRows(column: 'dst_user_group' | 'dst_device_group', guids: readonly string[]) {
    return this.db
      .selectFrom('access_rules as r')
      .leftJoin('user_groups as sg', 'sg.guid', 'r.src_user_group')
      .leftJoin('users as su', 'su.guid', 'r.src_user')
      .select([`r.${column} as owner`, 'r.src_type as type', 'sg.name as g', 'su.name as u'])
      .where(`r.${column}`, 'in', [...guids])
      .execute();
  }

  /** Adds rules (source may access target) to those there are; existing ones are kept as they are. */
  async addRules(edges: readonly { src: Edge; dst: Edge }[]): Promise<void> {
    if (edges.length === 0) return;
    const ts = this.now().toISOString();
    await this.db
      .insertInto('access_rules')
      .values(edges.map((e) => edgeRow(e.src, e.dst, ts)))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  /** Replaces the given rule lists of a group (inside the caller's transaction). */
  private async applyRules(trx: Transaction<DB>, group: Edge, p: GroupPatch, ts: string): Promise<void> {
    if (p.incomings !== undefined) {
      await trx
        .deleteFrom('access_rules')
        .where(group.type === 0 ? 'dst_user_group' : 'dst_device_group', '=', group.guid)
        .execute();
      if (p.incomings.length) {
        await trx
          .insertInto('access_rules')
          .values(p.incomings.map((src) => edgeRow(src, group, ts)))
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    }
    if (p.outgoings !== undefined && group.type === 0) {
      await trx.deleteFrom('access_rules').where('src_user_group', '=', group.guid).execute();
      if (p.outgoings.length) {
        await trx
          .insertInto('access_rules')
          .values(p.outgoings.map((dst) => edgeRow(group, dst, ts)))
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    }
  }
}
