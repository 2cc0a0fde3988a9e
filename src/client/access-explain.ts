import { ApiError, AuthError } from '../cli/errors';
import type { DeviceGroupRow, RuleEntryRow, UserGroupRow } from '../wire/groups';
import type { Api } from './index';
import { resolveExact } from './resolve';

// "Why can (or can't) user U connect to device D?" — the access rules of server-model §1.5 applied
// to what the admin API shows (users, devices, and the groups' allowed_incomings), so the answer
// comes from a real Pro server as well as from rdadmin serve:
//   1. a disabled user or device, or a device whose user is disabled, cannot be reached;
//   2. a device assigned to user V is reachable by V, by V's group-mates, and by whoever a rule
//      gives V's user group (a rule from U's user group, or from U alone);
//   3. a device in device group G is reachable by whoever a rule gives G;
//   4. grants are a union;
//   5. a device with no user and no device group is reachable by everyone, unless the server's
//      "Only admin can access unassigned devices" is on.

/** The records the answer is drawn from. */
export interface AccessFacts {
  user: { name: string; status: number; isAdmin: boolean; group: string | null };
  device: { id: string; status: number | null; user: string | null; deviceGroup: string | null };
  /** The device's user, when it has one. */
  owner: { name: string; status: number; group: string | null } | null;
  /** The owner's user group (its allowed_incomings: who a rule gives it). */
  ownerGroup: Pick<UserGroupRow, 'name' | 'allowed_incomings'> | null;
  deviceGroup: Pick<DeviceGroupRow, 'name' | 'allowed_incomings'> | null;
  /** The server's only_admin_unassigned; undefined when this server or token cannot tell. */
  onlyAdminUnassigned: boolean | undefined;
}

export interface AccessAnswer {
  user: string;
  device: string;
  /** By the rules: no blocker, and at least one grant. */
  reachable: boolean;
  /** Each way the rules let the user in. */
  grants: string[];
  /** What stops it regardless of grants. */
  blockers: string[];
  /** What the answer cannot know, or what it does not cover. */
  notes: string[];
}

const DISABLED = 0;
const ENABLED = 1;

/** The rule entries of a target (allowed_incomings) that come from this user or their group. */
function rulesFrom(entries: readonly RuleEntryRow[] | null | undefined, u: AccessFacts['user']) {
  const out: string[] = [];
  for (const e of entries ?? []) {
    if (e.type === 0 && u.group !== null && e.name === u.group)
      out.push(`user group '${e.name}' (${u.name}'s group)`);
    if (e.type === 2 && e.name === u.name) out.push(`user ${u.name}`);
  }
  return out;
}

/** The answer for these facts (a pure function: the rules, nothing fetched). */
export function explainAccess(f: AccessFacts): AccessAnswer {
  const { user: u, device: d, owner } = f;
  const blockers: string[] = [];
  const grants: string[] = [];
  const notes: string[] = [];
  if (u.status !== ENABLED) blockers.push(`user ${u.name} is disabled`);
  if (d.status === DISABLED) blockers.push(`device ${d.id} is disabled`);
  if (owner && owner.status !== ENABLED) blockers.push(`the device's user ${owner.name} is disabled`);

  if (owner) {
    if (owner.name === u.name) grants.push(`the device is assigned to ${u.name}`);
    else if (owner.group !== null && owner.group === u.group)
      grants.push(`the device is assigned to ${owner.name}, a member of ${u.name}'s user group '${u.group}'`);
    if (owner.name !== u.name && f.ownerGroup)
      for (const from of rulesFrom(f.ownerGroup.allowed_incomings, u))
        grants.push(
          `a rule gives ${from} access to user group '${f.ownerGroup.name}' (${owner.name}'s group)`,
        );
  }
  if (f.deviceGroup)
    for (const from of rulesFrom(f.deviceGroup.allowed_incomings, u))
      grants.push(`a rule gives ${from} access to device group '${f.deviceGroup.name}'`);
  if (d.user === null && d.deviceGroup === null) {
    if (f.onlyAdminUnassigned === true)
      notes.push(
        'the device has no user and no device group, and the server lets only administrators reach such devices (only_admin_unassigned)',
      );
    else {
      grants.push('the device has no user and no device group, so everyone may reach it');
      if (f.onlyAdminUnassigned === undefined)
        notes.push(
          'unless the server\'s "Only admin can access unassigned devices" is on: this server or token does not show it',
        );
    }
  }
  if (u.isAdmin)
    notes.push(
      `${u.name} is an administrator: rdadmin serve lists every device for administrators; Pro's documentation does not say whether administrators bypass the rules`,
    );
  return {
    user: u.name,
    device: d.id,
    reachable: blockers.length === 0 && grants.length > 0,
    grants,
    blockers,
    notes,
  };
}

type UserRowT = Awaited<ReturnType<typeof resolveUser>>;
type DeviceRowT = Awaited<ReturnType<typeof resolveDevice>>;
type UserGroupT = Pick<UserGroupRow, 'name' | 'allowed_incomings'>;
type DeviceGroupT = Pick<DeviceGroupRow, 'name' | 'allowed_incomings'>;

const resolveUser = (api: Api, name: string) =>
  resolveExact('user', name, (p) => api.users.list({ name: p }));
const resolveDevice = (api: Api, id: string) =>
  resolveExact(
    'device',
    id,
    (p) => api.devices.list({ id: p }),
    (r) => r.id,
  );

/** The value kept for `key`, loaded on first use. */
function memo<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let v = map.get(key);
  if (!v) {
    v = load();
    map.set(key, v);
  }
  return v;
}

/**
 * The records answers are drawn from, fetched once each: exactly by name on demand (one user, one
 * device), or every user and every group up front when many answers are wanted.
 */
export class AccessDirectory {
  private readonly users = new Map<string, Promise<UserRowT>>();
  private readonly userGroups = new Map<string, Promise<UserGroupT>>();
  private readonly deviceGroups = new Map<string, Promise<DeviceGroupT>>();
  private setting: Promise<boolean | undefined> | undefined;

  constructor(private readonly api: Api) {}

  /** Loads every user and every group in three listings (for fleet-wide answers). */
  async preload(): Promise<UserRowT[]> {
    const all: UserRowT[] = [];
    for await (const u of this.api.users.list({})) {
      all.push(u);
      this.users.set(u.name, Promise.resolve(u));
    }
    for await (const g of this.api.userGroups.list({})) this.userGroups.set(g.name, Promise.resolve(g));
    for await (const g of this.api.deviceGroups.list({})) this.deviceGroups.set(g.name, Promise.resolve(g));
    return all;
  }

  user(name: string): Promise<UserRowT> {
    return memo(this.users, name, () => resolveUser(this.api, name));
  }

  private userGroup(name: string): Promise<UserGroupT> {
    return memo(this.userGroups, name, () =>
      resolveExact('user group', name, (p) => this.api.userGroups.list({ name: p })),
    );
  }

  private deviceGroup(name: string): Promise<DeviceGroupT> {
    return memo(this.deviceGroups, name, () =>
      resolveExact('device group', name, (p) => this.api.deviceGroups.list({ name: p })),
    );
  }

  private unassigned(): Promise<boolean | undefined> {
    this.setting ??= unassignedSetting(this.api);
    return this.setting;
  }

  /** The facts about this user and this device. */
  async facts(user: UserRowT, device: DeviceRowT): Promise<AccessFacts> {
    const ownerName = device.user_name || null;
    const owner = ownerName ? await this.user(ownerName) : null;
    const ownerGroupName = owner?.group_name || null;
    const deviceGroupName = device.device_group_name || null;
    const [ownerGroup, deviceGroup, onlyAdminUnassigned] = await Promise.all([
      ownerGroupName ? this.userGroup(ownerGroupName) : null,
      deviceGroupName ? this.deviceGroup(deviceGroupName) : null,
      deviceGroupName || ownerName ? undefined : this.unassigned(),
    ]);
    return {
      user: {
        name: user.name,
        status: user.status,
        isAdmin: user.is_admin === true,
        group: user.group_name || null,
      },
      device: {
        id: device.id,
        status: typeof device.status === 'number' ? device.status : null,
        user: ownerName,
        deviceGroup: deviceGroupName,
      },
      owner: owner ? { name: owner.name, status: owner.status, group: owner.group_name || null } : null,
      ownerGroup,
      deviceGroup,
      onlyAdminUnassigned,
    };
  }
}

/** Fetches the facts for a user name and a device ID (both exact) and answers. */
export async function explainAccessVia(api: Api, userName: string, deviceId: string): Promise<AccessAnswer> {
  const dir = new AccessDirectory(api);
  const [user, device] = await Promise.all([dir.user(userName), resolveDevice(api, deviceId)]);
  return explainAccess(await dir.facts(user, device));
}

/** Every user's answer for one device (ID exact), in the server's user order. */
export async function whoCanReach(api: Api, deviceId: string): Promise<AccessAnswer[]> {
  const dir = new AccessDirectory(api);
  const [users, device] = await Promise.all([dir.preload(), resolveDevice(api, deviceId)]);
  const out: AccessAnswer[] = [];
  for (const u of users) out.push(explainAccess(await dir.facts(u, device)));
  return out;
}

/** One user's answer for every device, as the devices are listed (streamed). */
export async function* reachableBy(api: Api, userName: string): AsyncGenerator<AccessAnswer> {
  const dir = new AccessDirectory(api);
  await dir.preload();
  const user = await dir.user(userName);
  for await (const d of api.devices.list({})) yield explainAccess(await dir.facts(user, d));
}

/** only_admin_unassigned, where the server shows it to this caller (rdadmin serve, an admin session). */
async function unassignedSetting(api: Api): Promise<boolean | undefined> {
  try {
    const s = (await api.settings.get()) as { only_admin_unassigned?: unknown };
    return typeof s.only_admin_unassigned === 'boolean' ? s.only_admin_unassigned : false;
  } catch (err) {
    // Not this caller's to read (401/403), or no such endpoint (Pro): unknown. Other failures stand.
    if (err instanceof AuthError || (err instanceof ApiError && err.status === 404)) return undefined;
    throw err;
  }
}
