import type { Context } from 'hono';
import { z } from 'zod';
import {
  DEFAULT_USER_GROUP,
  describeTypes,
  INCOMING_TYPES,
  OUTGOING_TYPES,
  RULE_TYPE_LABEL,
  type RuleEntry,
  RuleType,
} from '../../wire/access';
import { PageQuery } from '../../wire/common';
import {
  AccessibleList,
  AddDevicesResult,
  AddUsersResult,
  CreateDeviceGroupBody,
  CreateUserGroupBody,
  DeviceGroupList,
  DeviceGroupRow,
  DeviceIdArray,
  GroupFilterQuery,
  RemoveDevicesResult,
  UpdateDeviceGroupBody,
  UpdateUserGroupBody,
  UserGroupList,
  UserGroupRow,
  UserGuidArray,
} from '../../wire/groups';
import { changeRecorded } from '../audit-log';
import type { AppDeps, AppEnv } from '../context';
import { HttpError, readBody, readQuery } from '../http';
import type { RouteTable } from '../routes';
import type { Store } from '../store';
import { ConsoleOp, ConsoleType } from '../store/audit';
import { constraintViolation } from '../store/db';
import type { DeviceGroupView, Edge, RuleView, UserGroupView } from '../store/groups';

type Ctx = Context<AppEnv>;

const Ok = z.object({});

/** A catch handler: a name taken by another request meanwhile (a UNIQUE refusal) is a 409. */
function nameTaken(kind: string, name: string | undefined) {
  return (err: unknown): never => {
    throw constraintViolation(err) === 'unique'
      ? new HttpError(409, `a ${kind} named '${name}' already exists`)
      : err;
  };
}

function listNames(names: string[], max = 20): string {
  const shown = names.slice(0, max);
  return shown.join(', ') + (names.length > shown.length ? ` and ${names.length - shown.length} more` : '');
}

function describeRules(rules: { type: number; name: string }[]): string {
  return rules.length ? rules.map((r) => `${RULE_TYPE_LABEL[r.type]} '${r.name}'`).join(', ') : 'nobody';
}

export function userGroupRow(g: UserGroupView, rules?: { incomings: RuleView[]; outgoings: RuleView[] }) {
  return {
    guid: g.guid,
    name: g.name,
    note: g.note,
    allowed_incomings: rules?.incomings ?? [],
    allowed_outgoings: rules?.outgoings ?? [],
    user_count: g.user_count,
    created_at: g.created_at,
    updated_at: g.updated_at,
  };
}

export function deviceGroupRow(g: DeviceGroupView, rules?: { incomings: RuleView[] }) {
  return {
    guid: g.guid,
    name: g.name,
    note: g.note,
    allowed_incomings: rules?.incomings ?? [],
    device_count: g.device_count,
    created_at: g.created_at,
    updated_at: g.updated_at,
  };
}

export function registerGroupRoutes(r: RouteTable, deps: AppDeps): void {
  const { store } = deps;

  /**
   * Validates one rule list of a request body: each entry's type must suit the list, and its name
   * must name an existing record. Errors are 400s naming the entry. Returns the rule ends by GUID
   * (duplicates dropped), or undefined when the list was not given. Names are looked up in `from`
   * (inside a change: the transaction's store).
   */
  async function resolveRules(
    list: RuleEntry[] | undefined,
    field: 'allowed_incomings' | 'allowed_outgoings',
    owner: { kind: string; type: number; guid?: string },
    from: Store = store,
  ): Promise<Edge[] | undefined> {
    if (list === undefined) return undefined;
    const allowed = field === 'allowed_incomings' ? INCOMING_TYPES : OUTGOING_TYPES;
    const entries = list.map((e) => ({ type: e.type, name: e.name.trim() }));
    const at = (i: number) => `${field}[${i}] ${JSON.stringify(list[i])}`;
    entries.forEach((e, i) => {
      if (!allowed.includes(e.type)) {
        const label = RULE_TYPE_LABEL[e.type];
        throw new HttpError(
          400,
          `${at(i)}: type ${e.type}${label ? ` (${label})` : ''} is not allowed in ${field} of a ${owner.kind}; use ${describeTypes(allowed)}`,
        );
      }
      if (!e.name) throw new HttpError(400, `${at(i)}: name must not be empty`);
    });
    const guids = await from.groups.findRuleTargets(entries);
    const missing = entries
      .map((e, i) =>
        guids[i] ? undefined : `${at(i)}: ${RULE_TYPE_LABEL[e.type]} '${e.name}' does not exist`,
      )
      .filter((m): m is string => m !== undefined);
    if (missing.length) {
      throw new HttpError(
        400,
        missing.slice(0, 5).join('; ') + (missing.length > 5 ? ` (and ${missing.length - 5} more)` : ''),
      );
    }
    const seen = new Set<string>();
    const edges: Edge[] = [];
    entries.forEach((e, i) => {
      const guid = guids[i]!;
      if (owner.guid && e.type === owner.type && guid === owner.guid) {
        throw new HttpError(
          400,
          `${at(i)}: a group needs no rule for itself (members of a group always reach each other)`,
        );
      }
      const key = `${e.type}:${guid}`;
      if (!seen.has(key)) {
        seen.add(key);
        edges.push({ type: e.type, guid });
      }
    });
    return edges;
  }

  function nothingToUpdate(fields: string[]): HttpError {
    return new HttpError(400, `nothing to update: give at least one of ${fields.join(', ')}`);
  }

  // ---------------------------------------------------------------- user groups

  /** The user group, read from `from` (inside a change: the transaction's store), or a 404. */
  async function loadUserGroup(guid: string, from: Store = store): Promise<UserGroupView> {
    const g = await from.groups.getUserGroup(guid);
    if (!g) throw new HttpError(404, `user group not found: ${guid}`);
    return g;
  }

  async function userGroupAnswer(guid: string, from: Store = store) {
    const g = (await from.groups.getUserGroup(guid))!;
    return userGroupRow(g, (await from.groups.userGroupRules([guid])).get(guid));
  }

  r.add(
    {
      method: 'GET',
      path: '/api/user-groups',
      tag: 'user groups',
      summary:
        "List user groups with their access rules (`allowed_incomings`: who may access the group's devices; `allowed_outgoings`: what its members may access) and member count. `name` is a case-insensitive LIKE pattern.",
      access: { area: 'user_group', level: 'r' },
      query: PageQuery.extend(GroupFilterQuery.shape),
      response: UserGroupList,
    },
    async (c) => {
      const page = readQuery(c, PageQuery);
      const f = readQuery(c, GroupFilterQuery);
      const { rows, total } = await store.groups.listUserGroups(
        f,
        (page.current - 1) * page.pageSize,
        page.pageSize,
      );
      const rules = await store.groups.userGroupRules(rows.map((g) => g.guid));
      return c.json({ data: rows.map((g) => userGroupRow(g, rules.get(g.guid))), total });
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/user-groups',
      tag: 'user groups',
      summary:
        'Create a user group. Rule entries are `{type, name}`: `allowed_incomings` takes 0 (user group) or 2 (user), `allowed_outgoings` 0 (user group) or 1 (device group); every name must exist.',
      access: { area: 'user_group', level: 'rw' },
      body: CreateUserGroupBody,
      response: UserGroupRow,
    },
    async (c) => {
      const body = await readBody(c, CreateUserGroupBody);
      if (await store.users.getGroupByName(body.name))
        throw new HttpError(409, `a user group named '${body.name}' already exists`);
      const owner = { kind: 'user group', type: RuleType.userGroup };
      const incomings = await resolveRules(body.allowed_incomings, 'allowed_incomings', owner);
      const outgoings = await resolveRules(body.allowed_outgoings, 'allowed_outgoings', owner);
      const row = await changeRecorded(
        deps,
        c,
        ConsoleType.group,
        ConsoleOp.addGroup,
        async (tx) =>
          userGroupAnswer(
            await tx.groups.createUserGroup(body.name, body.note ?? '', { incomings, outgoings }),
            tx,
          ),
        (row) =>
          `created user group '${body.name}'; accessed from: ${describeRules(row.allowed_incomings)}; access to: ${describeRules(row.allowed_outgoings)}`,
      ).catch(nameTaken('user group', body.name));
      return c.json(row);
    },
  );

  r.add(
    {
      method: 'PATCH',
      path: '/api/user-groups/{guid}',
      tag: 'user groups',
      summary:
        'Update a user group: only the keys given change; a rule list given as `[]` is cleared. The `Default` group cannot be renamed. An empty body is refused.',
      access: { area: 'user_group', level: 'rw' },
      body: UpdateUserGroupBody,
      response: UserGroupRow,
    },
    async (c) => {
      // The body first; then the checks and the write in one transaction, from the group as it is
      // now: a slow body must not leave a copy read before it, of a group deleted meanwhile.
      const body = await readBody(c, UpdateUserGroupBody);
      if (Object.keys(body).length === 0)
        throw nothingToUpdate(['name', 'note', 'allowed_incomings', 'allowed_outgoings']);
      const guid = c.req.param('guid') ?? '';
      const { row } = await changeRecorded(
        deps,
        c,
        ConsoleType.group,
        ConsoleOp.updateGroup,
        async (tx) => {
          const group = await loadUserGroup(guid, tx);
          if (body.name !== undefined && body.name !== group.name) {
            if (group.name === DEFAULT_USER_GROUP)
              throw new HttpError(400, `the '${DEFAULT_USER_GROUP}' user group cannot be renamed`);
            if (await tx.users.getGroupByName(body.name))
              throw new HttpError(409, `a user group named '${body.name}' already exists`);
          }
          const owner = { kind: 'user group', type: RuleType.userGroup, guid: group.guid };
          const incomings = await resolveRules(body.allowed_incomings, 'allowed_incomings', owner, tx);
          const outgoings = await resolveRules(body.allowed_outgoings, 'allowed_outgoings', owner, tx);
          await tx.groups.updateUserGroup(group.guid, {
            name: body.name,
            note: body.note,
            incomings,
            outgoings,
          });
          return { group, row: await userGroupAnswer(group.guid, tx), incomings, outgoings };
        },
        ({ group, row, incomings, outgoings }) => {
          const changes = [
            body.name !== undefined && body.name !== group.name ? `renamed to '${body.name}'` : '',
            body.note !== undefined ? 'note changed' : '',
            incomings ? `accessed from: ${describeRules(row.allowed_incomings)}` : '',
            outgoings ? `access to: ${describeRules(row.allowed_outgoings)}` : '',
          ].filter(Boolean);
          return `updated user group '${group.name}': ${changes.join('; ') || 'no change'}`;
        },
      ).catch(nameTaken('user group', body.name));
      return c.json(row);
    },
  );

  r.add(
    {
      method: 'DELETE',
      path: '/api/user-groups/{guid}',
      tag: 'user groups',
      summary:
        'Delete a user group and its access rules. Refused for `Default`, and for a group that still has users (409: move them to another group first); users are never moved implicitly.',
      access: { area: 'user_group', level: 'rw' },
      response: Ok,
    },
    async (c) => {
      const group = await loadUserGroup(c.req.param('guid') ?? '');
      if (group.name === DEFAULT_USER_GROUP)
        throw new HttpError(400, `the '${DEFAULT_USER_GROUP}' user group cannot be deleted`);
      const refuse = (n: number) =>
        new HttpError(
          409,
          `user group '${group.name}' still has ${n} user${n === 1 ? '' : 's'}: move them to another group first (add them to it, e.g. to '${DEFAULT_USER_GROUP}'), then delete the group`,
        );
      if (group.user_count > 0) throw refuse(group.user_count);
      await changeRecorded(
        deps,
        c,
        ConsoleType.group,
        ConsoleOp.deleteGroups,
        async (tx) => {
          // Throwing rolls the transaction back: a refused delete records nothing.
          const outcome = await tx.groups.deleteUserGroup(group.guid);
          if (outcome === 'missing') throw new HttpError(404, `user group not found: ${group.guid}`);
          if (outcome === 'referenced') {
            const now = await tx.groups.getUserGroup(group.guid);
            if (now && now.user_count > 0) throw refuse(now.user_count);
            throw new HttpError(409, `user group '${group.name}' is still referenced and cannot be deleted`);
          }
        },
        `deleted user group '${group.name}'`,
      );
      return c.json({});
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/user-groups/{guid}',
      tag: 'user groups',
      summary:
        'Move users into this group (body: a JSON array of user GUIDs). A user is in exactly one group, so they leave their previous one. All GUIDs must exist, else nothing changes (404 naming them).',
      access: { area: 'user_group', level: 'rw' },
      body: UserGuidArray,
      response: AddUsersResult,
    },
    async (c) => {
      // The body first; then the group and the users as they are now, in the transaction that
      // moves them: a slow body must not leave copies read before it (a group deleted meanwhile).
      const guids = [...new Set(await readBody(c, UserGuidArray))];
      const guid = c.req.param('guid') ?? '';
      const { moving } = await changeRecorded(
        deps,
        c,
        ConsoleType.group,
        ConsoleOp.updateGroup,
        async (tx) => {
          const group = await loadUserGroup(guid, tx);
          const users = await tx.users.getByGuids(guids);
          if (users.length !== guids.length) {
            const known = new Set(users.map((u) => u.guid));
            throw new HttpError(
              404,
              `user not found: ${listNames(
                guids.filter((g) => !known.has(g)),
                10,
              )}`,
            );
          }
          const moving = users.filter((u) => u.group_guid !== group.guid);
          await tx.groups.moveUsers(
            group.guid,
            moving.map((u) => u.guid),
          );
          return { group, users, moving };
        },
        ({ group, users, moving }) =>
          `added ${listNames(users.map((u) => u.name))} to user group '${group.name}'` +
          (moving.length < users.length ? ` (${users.length - moving.length} already members)` : ''),
      );
      return c.json({
        added: moving.length,
        moved: moving.map((u) => ({ name: u.name, from: u.group_name })),
      });
    },
  );

  // ---------------------------------------------------------------- device groups

  /** The device group, read from `from` (inside a change: the transaction's store), or a 404. */
  async function loadDeviceGroup(guid: string, from: Store = store): Promise<DeviceGroupView> {
    const g = await from.groups.getDeviceGroup(guid);
    if (!g) throw new HttpError(404, `device group not found: ${guid}`);
    return g;
  }

  async function deviceGroupAnswer(guid: string, from: Store = store) {
    const g = (await from.groups.getDeviceGroup(guid))!;
    return deviceGroupRow(g, (await from.groups.deviceGroupRules([guid])).get(guid));
  }

  r.add(
    {
      method: 'GET',
      path: '/api/device-groups',
      tag: 'device groups',
      summary:
        'List device groups with who may access them (`allowed_incomings`, including user groups whose `allowed_outgoings` name the group) and device count. `name` is a case-insensitive LIKE pattern.',
      access: { area: 'device_group', level: 'r' },
      query: PageQuery.extend(GroupFilterQuery.shape),
      response: DeviceGroupList,
    },
    async (c) => {
      const page = readQuery(c, PageQuery);
      const f = readQuery(c, GroupFilterQuery);
      const { rows, total } = await store.groups.listDeviceGroups(
        f,
        (page.current - 1) * page.pageSize,
        page.pageSize,
      );
      const rules = await store.groups.deviceGroupRules(rows.map((g) => g.guid));
      return c.json({ data: rows.map((g) => deviceGroupRow(g, rules.get(g.guid))), total });
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/device-groups',
      tag: 'device groups',
      summary:
        'Create a device group. `allowed_incomings` entries are `{type, name}` with type 0 (user group) or 2 (user); every name must exist. Device groups have no `allowed_outgoings`.',
      access: { area: 'device_group', level: 'rw' },
      body: CreateDeviceGroupBody,
      response: DeviceGroupRow,
    },
    async (c) => {
      const body = await readBody(c, CreateDeviceGroupBody);
      if (await store.groups.getDeviceGroupByName(body.name))
        throw new HttpError(409, `a device group named '${body.name}' already exists`);
      const incomings = await resolveRules(body.allowed_incomings, 'allowed_incomings', {
        kind: 'device group',
        type: RuleType.deviceGroup,
      });
      const row = await changeRecorded(
        deps,
        c,
        ConsoleType.group,
        ConsoleOp.addGroup,
        async (tx) =>
          deviceGroupAnswer(await tx.groups.createDeviceGroup(body.name, body.note ?? '', { incomings }), tx),
        (row) =>
          `created device group '${body.name}'; accessed from: ${describeRules(row.allowed_incomings)}`,
      ).catch(nameTaken('device group', body.name));
      return c.json(row);
    },
  );

  r.add(
    {
      method: 'PATCH',
      path: '/api/device-groups/{guid}',
      tag: 'device groups',
      summary:
        'Update a device group: only the keys given change; `allowed_incomings: []` clears the rules. An empty body is refused.',
      access: { area: 'device_group', level: 'rw' },
      body: UpdateDeviceGroupBody,
      response: DeviceGroupRow,
    },
    async (c) => {
      // The body first; then the checks and the write in one transaction, from the group as it is
      // now: a slow body must not leave a copy read before it, of a group deleted meanwhile.
      const body = await readBody(c, UpdateDeviceGroupBody);
      if (Object.keys(body).length === 0) throw nothingToUpdate(['name', 'note', 'allowed_incomings']);
      const guid = c.req.param('guid') ?? '';
      const { row } = await changeRecorded(
        deps,
        c,
        ConsoleType.group,
        ConsoleOp.updateGroup,
        async (tx) => {
          const group = await loadDeviceGroup(guid, tx);
          if (body.name !== undefined && body.name !== group.name) {
            if (await tx.groups.getDeviceGroupByName(body.name))
              throw new HttpError(409, `a device group named '${body.name}' already exists`);
          }
          const incomings = await resolveRules(
            body.allowed_incomings,
            'allowed_incomings',
            { kind: 'device group', type: RuleType.deviceGroup, guid: group.guid },
            tx,
          );
          await tx.groups.updateDeviceGroup(group.guid, { name: body.name, note: body.note, incomings });
          return { group, row: await deviceGroupAnswer(group.guid, tx), incomings };
        },
        ({ group, row, incomings }) => {
          const changes = [
            body.name !== undefined && body.name !== group.name ? `renamed to '${body.name}'` : '',
            body.note !== undefined ? 'note changed' : '',
            incomings ? `accessed from: ${describeRules(row.allowed_incomings)}` : '',
          ].filter(Boolean);
          return `updated device group '${group.name}': ${changes.join('; ') || 'no change'}`;
        },
      ).catch(nameTaken('device group', body.name));
      return c.json(row);
    },
  );

  r.add(
    {
      method: 'DELETE',
      path: '/api/device-groups/{guid}',
      tag: 'device groups',
      summary: 'Delete a device group and its access rules; its devices become ungrouped.',
      access: { area: 'device_group', level: 'rw' },
      response: Ok,
    },
    async (c) => {
      const group = await loadDeviceGroup(c.req.param('guid') ?? '');
      await changeRecorded(
        deps,
        c,
        ConsoleType.group,
        ConsoleOp.deleteGroups,
        async (tx) => {
          const outcome = await tx.groups.deleteDeviceGroup(group.guid);
          if (outcome === 'missing') throw new HttpError(404, `device group not found: ${group.guid}`);
          if (outcome === 'referenced')
            throw new HttpError(
              409,
              `device group '${group.name}' is still referenced and cannot be deleted`,
            );
        },
        `deleted device group '${group.name}'` +
          (group.device_count
            ? ` (${group.device_count} device${group.device_count === 1 ? '' : 's'} now ungrouped)`
            : ''),
      );
      return c.json({});
    },
  );

  /** The device IDs of a request body (duplicates dropped). */
  async function readIds(c: Ctx): Promise<string[]> {
    return [...new Set(await readBody(c, DeviceIdArray))];
  }

  /**
   * Loads devices by peer ID from `from` (inside a change: the transaction's store), or fails
   * naming the unknown ones (nothing changes).
   */
  async function loadDevices(ids: string[], from: Store) {
    const devices = await from.devices.getByIds(ids);
    if (devices.length !== ids.length) {
      const known = new Set(devices.map((d) => d.id));
      throw new HttpError(
        404,
        `device not found: ${listNames(
          ids.filter((id) => !known.has(id)),
          10,
        )}`,
      );
    }
    return devices;
  }

  r.add(
    {
      method: 'POST',
      path: '/api/device-groups/{guid}',
      tag: 'device groups',
      summary:
        'Put devices into this group (body: a JSON array of device IDs, the RustDesk peer IDs). A device is in at most one group: one in another group moves (listed in `moved`). All IDs must exist, else nothing changes (404 naming them).',
      access: { area: 'device_group', level: 'rw' },
      body: DeviceIdArray,
      response: AddDevicesResult,
    },
    async (c) => {
      // The body first; then the group and the devices as they are now, in the transaction that
      // moves them: a slow body must not leave copies read before it (a group deleted meanwhile).
      const ids = await readIds(c);
      const guid = c.req.param('guid') ?? '';
      const { changing, moved } = await changeRecorded(
        deps,
        c,
        ConsoleType.group,
        ConsoleOp.updateGroup,
        async (tx) => {
          const group = await loadDeviceGroup(guid, tx);
          const devices = await loadDevices(ids, tx);
          const changing = devices.filter((d) => d.device_group_guid !== group.guid);
          const moved = changing
            .filter((d) => d.device_group_name !== null)
            .map((d) => ({ id: d.id, from: d.device_group_name! }));
          await tx.groups.setDevicesGroup(
            group.guid,
            changing.map((d) => d.guid),
          );
          return { group, devices, changing, moved };
        },
        ({ group, devices, moved }) =>
          `added devices ${listNames(devices.map((d) => d.id))} to device group '${group.name}'` +
          (moved.length ? ` (moved from: ${listNames(moved.map((m) => `${m.id} ← '${m.from}'`))})` : ''),
      );
      return c.json({ added: changing.length, moved });
    },
  );

  r.add(
    {
      method: 'DELETE',
      path: '/api/device-groups/{guid}/devices',
      tag: 'device groups',
      summary:
        'Take devices out of this group (body: a JSON array of device IDs); they become ungrouped. Every device must exist and be in this group, else nothing changes (404/400 naming them).',
      access: { area: 'device_group', level: 'rw' },
      body: DeviceIdArray,
      response: RemoveDevicesResult,
    },
    async (c) => {
      // The body first; then the group and the devices as they are now, in the transaction that
      // takes them out: a slow body must not leave copies read before it.
      const ids = await readIds(c);
      const guid = c.req.param('guid') ?? '';
      const { devices } = await changeRecorded(
        deps,
        c,
        ConsoleType.group,
        ConsoleOp.updateGroup,
        async (tx) => {
          const group = await loadDeviceGroup(guid, tx);
          const devices = await loadDevices(ids, tx);
          const outside = devices.filter((d) => d.device_group_guid !== group.guid);
          if (outside.length) {
            throw new HttpError(
              400,
              `not in device group '${group.name}': ${listNames(
                outside.map(
                  (d) => `${d.id} (${d.device_group_name ? `in '${d.device_group_name}'` : 'ungrouped'})`,
                ),
                10,
              )}; nothing was changed`,
            );
          }
          await tx.groups.setDevicesGroup(
            null,
            devices.map((d) => d.guid),
          );
          return { group, devices };
        },
        ({ group, devices }) =>
          `removed devices ${listNames(devices.map((d) => d.id))} from device group '${group.name}'`,
      );
      return c.json({ removed: devices.length });
    },
  );

  r.add(
    {
      method: 'GET',
      path: '/api/device-group/accessible',
      tag: 'device groups',
      summary:
        "The device groups the caller may reach, paginated: those whose `allowed_incomings` name the caller's user or user group. For an API token, the token's owner; administrators reach every device group.",
      access: { area: 'device_group', level: 'r', allowUserSession: true },
      query: PageQuery,
      response: AccessibleList,
    },
    async (c) => {
      const page = readQuery(c, PageQuery);
      const user = c.get('principal')!.user;
      const { rows, total } = await store.groups.accessibleDeviceGroups(
        user.is_admin ? 'all' : { userGuid: user.guid, groupGuid: user.group_guid },
        (page.current - 1) * page.pageSize,
        page.pageSize,
      );
      return c.json({ data: rows.map((g) => ({ guid: g.guid, name: g.name, note: g.note })), total });
    },
  );
}
