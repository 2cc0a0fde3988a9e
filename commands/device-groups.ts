import { inBatches, type ReportSpec, sendTogether } from '../src/cli/bulk';
import type { Ctx } from '../src/cli/context';
import { AuthError, CliError, Exit, LookupError, UsageError } from '../src/cli/errors';
import { confirmNamed } from '../src/cli/select';
import { type AreaSpec, opt, selector, str, type VerbSpec } from '../src/cli/verb';
import { commaList, wildcard } from '../src/client/filters';
import { exactRows } from '../src/client/resolve';
import { formatRules } from '../src/wire/access';
import type { DeviceRow } from '../src/wire/devices';
import type { AccessibleRow, DeviceGroupRow } from '../src/wire/groups';
import {
  type GroupKind,
  groupMustExist,
  groupVerbs,
  mapLimit,
  prose,
  required,
  resolveGroup,
} from './groups-common';

// Mirrors device_group.py / device-groups.py: the same verbs and flags, plus `accessible` (the
// client endpoint the user docs describe). A group that is not found is an error (exit 1), not
// the script's message with exit 0 (D-11).

const AREA = 'device-groups';

export const deviceGroupKind: GroupKind<DeviceGroupRow> = {
  area: AREA,
  noun: ['device group', 'device groups'],
  api: (ctx) => ctx.api.deviceGroups,
  accessTo: false,
  columns: [
    { header: 'NAME', value: (g) => g.name },
    {
      header: 'DEVICES',
      value: (g) => (g.device_count === undefined || g.device_count === null ? '' : String(g.device_count)),
    },
    { header: 'ACCESSED FROM', value: (g) => formatRules(g.allowed_incomings) },
    { header: 'NOTE', value: (g) => g.note ?? '' },
  ],
  example: { name: 'Production', from: 'Admins' },
};

const idsOpts = [
  opt('name', '<group>', 'device group name (exact)'),
  opt('ids', '<ids>', 'comma-separated device IDs (RustDesk IDs, e.g. 123456789)'),
];

async function membersInput(ctx: Ctx, o: Record<string, unknown>, verb: string) {
  required(
    o,
    [
      ['name', '--name'],
      ['ids', '--ids'],
    ],
    verb,
    AREA,
  );
  const ids = commaList(str(o['ids']));
  if (ids.length === 0)
    throw new UsageError('--ids holds no device IDs', 'example: --ids "123456789,987654321"');
  const group = await resolveGroup(ctx, deviceGroupKind, str(o['name'])!);
  return { ids, group };
}

/** How the devices of a failed add-devices or remove-devices request are reported (sendTogether). */
function devicesReport(verb: 'add-devices' | 'remove-devices', group: DeviceGroupRow): ReportSpec<string> {
  const adding = verb === 'add-devices';
  return {
    done: adding ? 'Added' : 'Removed',
    verb: adding ? 'add' : 'remove',
    jsonAction: verb,
    noun: ['device', 'devices'],
    label: (id) => id,
    describe: (id) => ({ group: group.name, id }),
  };
}

/** At most 10 items of a list in a message, then how many more. */
function listed(items: string[]): string {
  return `${items.slice(0, 10).join(', ')}${items.length > 10 ? ` and ${items.length - 10} more` : ''}`;
}

/** What add-devices or remove-devices would change, found by reads only. */
interface Plan {
  /** The IDs the request would change (added or moved in; taken out). */
  change: string[];
  /** add-devices: the IDs already in the group, which it leaves alone. */
  unchanged: string[];
  /** add-devices: the devices that would leave another group. */
  moved: { id: string; from: string }[];
}

/**
 * The devices given, as they are now, held to the rules the server applies to the real run: every
 * ID must exist (and, to take it out, be in the group), else nothing changes (exit 1, naming them).
 * Reads only, each ID exactly. Undefined when the token may not read devices (device:r): a warning
 * says so, and the server checks the real run.
 */
async function planOf(
  ctx: Ctx,
  verb: 'add-devices' | 'remove-devices',
  ids: string[],
  group: DeviceGroupRow,
): Promise<Plan | undefined> {
  let rows: (DeviceRow | undefined)[];
  try {
    rows = await inBatches(ctx, ids.length, (parallel) =>
      mapLimit(ids, parallel, async (id) => {
        for await (const d of exactRows(
          id,
          (p) => ctx.api.devices.list({ id: p }),
          (d) => d.id,
        ))
          return d;
        return undefined;
      }),
    );
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
    ctx.out.warn(`could not check the devices (the server checks them when they are sent): ${err.message}`);
    return undefined;
  }
  const missing = ids.filter((_, i) => !rows[i]);
  if (missing.length) throw new LookupError(`device not found: ${listed(missing)}; nothing was changed`);
  const inGroup = (d: DeviceRow) => d.device_group_name === group.name;
  const found = rows as DeviceRow[];
  if (verb === 'remove-devices') {
    const outside = found.filter((d) => !inGroup(d));
    if (outside.length)
      throw new CliError(
        `not in device group '${group.name}': ${listed(
          outside.map(
            (d) => `${d.id} (${d.device_group_name ? `in '${d.device_group_name}'` : 'ungrouped'})`,
          ),
        )}; nothing was changed`,
        Exit.failed,
      );
    return { change: ids, unchanged: [], moved: [] };
  }
  const change = found.filter((d) => !inGroup(d));
  return {
    change: change.map((d) => d.id),
    unchanged: found.filter(inGroup).map((d) => d.id),
    moved: change.filter((d) => d.device_group_name).map((d) => ({ id: d.id, from: d.device_group_name! })),
  };
}

/**
 * Checks the devices, by reads, where it matters before anything is sent: for a dry run (which
 * refuses what the real run would be refused), and before a confirmation (which counts only the
 * devices that would change). Then the dry run's report, or the confirmation. Returns false when
 * nothing is to be sent (a dry run).
 */
async function checkAndConfirm(
  ctx: Ctx,
  verb: 'add-devices' | 'remove-devices',
  ids: string[],
  group: DeviceGroupRow,
): Promise<boolean> {
  const adding = verb === 'add-devices';
  const asking = ids.length > 1 && !ctx.flags.yes;
  const plan = ctx.flags.dryRun || asking ? await planOf(ctx, verb, ids, group) : undefined;
  const change = plan?.change ?? ids;
  if (ctx.flags.dryRun) {
    if (ctx.out.json)
      ctx.out.jsonValue({
        group: group.name,
        action: verb,
        ids,
        ...(plan
          ? adding
            ? { added: change.length, moved: plan.moved, unchanged: plan.unchanged }
            : { removed: change.length }
          : {}),
        dry_run: true,
      });
    else {
      for (const id of change) ctx.out.data(id);
      for (const m of plan?.moved ?? []) ctx.out.info(`${m.id} would move from '${m.from}'`);
      for (const id of plan?.unchanged ?? []) ctx.out.info(`${id}: already in '${group.name}'`);
    }
    const already = plan?.unchanged.length ?? 0;
    ctx.out.info(
      `Dry run: would ${adding ? 'add' : 'remove'} ${change.length} device(s) ${adding ? 'to' : 'from'} '${
        group.name
      }'${already ? ` (${already} already in it)` : ''}; nothing was changed.`,
    );
    return false;
  }
  await confirmNamed(ctx, {
    verb: adding ? 'add' : 'remove',
    noun: ['device', 'devices'],
    labels: change,
    question: adding
      ? `Put ${change.length} devices into '${group.name}'?`
      : `Take ${change.length} devices out of '${group.name}'?`,
  });
  return true;
}

const addDevices: VerbSpec = {
  name: 'add-devices',
  summary: 'Put devices into a device group (a device is in at most one group)',
  description: prose(`Put devices into a device group by device ID (the RustDesk ID, not a GUID). A device
that is in another group moves (reported). Every ID must exist, or nothing changes. More than one
device to put in is confirmed on a terminal (devices already in the group are not counted); without
one, pass --yes. --dry-run looks every ID up (reads only, with device:r) and refuses as the real
run would.`),
  options: idsOpts,
  examples: [
    'rdadmin device-groups add-devices --name "Production" --ids "123456789,987654321"',
    'rdadmin device-groups add-devices --name "Production" --ids 123456789 --json',
  ],
  async run(ctx, o) {
    const { ids, group } = await membersInput(ctx, o, 'add-devices');
    if (!(await checkAndConfirm(ctx, 'add-devices', ids, group))) return;
    const sent = await sendTogether(ctx, ids, devicesReport('add-devices', group), () =>
      ctx.api.deviceGroups.addDevices(group.guid, ids),
    );
    if ('code' in sent) return sent.code;
    const res = sent.answer;
    if (ctx.out.json) {
      ctx.out.jsonValue({ group: group.name, ids, ...(res ?? {}) });
      return;
    }
    for (const m of res?.moved ?? []) ctx.out.data(`Moved ${m.id} from '${m.from}'`);
    const added = typeof res?.added === 'number' ? res.added : ids.length;
    const unchanged = ids.length - added;
    ctx.out.success(
      `Added ${added} device(s) to device group '${group.name}'${
        unchanged > 0 ? ` (${unchanged} already in it)` : ''
      }.`,
    );
  },
};

const removeDevices: VerbSpec = {
  name: 'remove-devices',
  summary: 'Take devices out of a device group (they become ungrouped)',
  description: prose(`Take devices out of a device group by device ID. Every device must exist and be in
that group, or nothing changes (the error names the devices). More than one device is confirmed on
a terminal; without one, pass --yes. --dry-run looks every ID up (reads only, with device:r) and
refuses as the real run would.`),
  options: idsOpts,
  examples: ['rdadmin device-groups remove-devices --name "Production" --ids "123456789,987654321"'],
  async run(ctx, o) {
    const { ids, group } = await membersInput(ctx, o, 'remove-devices');
    if (!(await checkAndConfirm(ctx, 'remove-devices', ids, group))) return;
    const sent = await sendTogether(ctx, ids, devicesReport('remove-devices', group), () =>
      ctx.api.deviceGroups.removeDevices(group.guid, ids),
    );
    if ('code' in sent) return sent.code;
    const res = sent.answer;
    if (ctx.out.json) {
      ctx.out.jsonValue({ group: group.name, ids, ...(res ?? {}) });
      return;
    }
    ctx.out.success(`Removed ${ids.length} device(s) from device group '${group.name}'.`);
  },
};

const deviceColumns = [
  { header: 'ID', value: (d: DeviceRow) => d.id },
  { header: 'NAME', value: (d: DeviceRow) => d.info?.device_name ?? '' },
  { header: 'USER', value: (d: DeviceRow) => d.user_name ?? '' },
  { header: 'DEVICE USERNAME', value: (d: DeviceRow) => d.info?.username ?? '' },
  { header: 'OS', value: (d: DeviceRow) => d.info?.os ?? '' },
  { header: 'DEVICE GROUP', value: (d: DeviceRow) => d.device_group_name ?? '' },
];

const viewDevices: VerbSpec = {
  name: 'view-devices',
  summary: 'List the devices of a device group (needs the device:r permission)',
  description: prose(`List devices with their device group. --name is the device group (exact,
case-sensitive; '-' lists the devices in no group). --id, --device-name, --user-name (the
assigned user) and --device-username (the OS user on the device) are substring matches (a value
holding '%' is a LIKE pattern, '-' means "not set"). Without any filter, every device is listed.`),
  options: [
    selector('name', '<group>', "device group name (exact; '-' = in no group)"),
    selector('id', '<id>', 'device ID, substring match'),
    selector('device-name', '<name>', 'device name, substring match'),
    selector('user-name', '<user>', 'assigned user (owner), substring match'),
    selector('device-username', '<name>', 'OS user logged in on the device, substring match'),
  ],
  examples: [
    'rdadmin device-groups view-devices --name Production',
    'rdadmin device-groups view-devices --device-name server',
    'rdadmin device-groups view-devices --name Production --user-name john --json',
  ],
  async run(ctx, o) {
    const w = (k: string) => (str(o[k]) === undefined ? undefined : wildcard(str(o[k])!));
    const filter = {
      id: w('id'),
      device_name: w('deviceName'),
      user_name: w('userName'),
      device_username: w('deviceUsername'),
    };
    const group = str(o['name']) || undefined;
    const rows: AsyncIterable<DeviceRow> =
      group === undefined || group === '-'
        ? ctx.api.devices.list({ ...filter, device_group_name: group })
        : exactRows(
            group,
            (p) => ctx.api.devices.list({ ...filter, device_group_name: p }),
            (d) => d.device_group_name,
          );
    // A group that does not exist is an error (exit 1), not an empty group.
    const named = group !== undefined && group !== '-' ? group : undefined;
    let n = 0;
    if (ctx.out.json) {
      const arr = ctx.out.jsonArray();
      for await (const d of rows) {
        arr.push(d);
        n++;
      }
      if (n === 0 && named !== undefined) await groupMustExist(ctx, deviceGroupKind, named);
      arr.end();
      return;
    }
    n = await ctx.out.table(deviceColumns, rows);
    if (n === 0 && named !== undefined) await groupMustExist(ctx, deviceGroupKind, named);
    if (n === 0) ctx.out.info('Found 0 devices');
  },
};

const accessible: VerbSpec = {
  name: 'accessible',
  summary: 'List the device groups you may access',
  description: prose(`List the device groups the current user may access through access rules
(GET /api/device-group/accessible). With an API token, that is the token's owner; administrators
reach every device group. Works with a non-admin user's session (rdadmin login).`),
  options: [],
  examples: ['rdadmin device-groups accessible', 'rdadmin device-groups accessible --json'],
  async run(ctx) {
    const rows = ctx.api.deviceGroups.accessible();
    if (ctx.out.json) {
      const arr = ctx.out.jsonArray();
      for await (const g of rows) arr.push(g);
      arr.end();
      return;
    }
    const n = await ctx.out.table<AccessibleRow>(
      [
        { header: 'NAME', value: (g) => g.name },
        { header: 'NOTE', value: (g) => String(g['note'] ?? '') },
      ],
      rows,
    );
    if (n === 0) ctx.out.info('Found 0 device groups');
  },
};

export const deviceGroupsArea: AreaSpec = {
  name: 'device-groups',
  aliases: ['device_group', 'device-group', 'device_groups'],
  summary: 'Manage device groups, their devices and access rules (device_group.py)',
  description: prose(`Manage device groups, like device_group.py (device-groups.py upstream). A device is in
at most one device group. --accessed-from lists who may access the group's devices (0 user group,
2 user), as the scripts' JSON or as user-group:NAME,user:NAME. Permissions: view/add/update/delete/
add-devices/remove-devices need device_group; view-devices needs device:r; accessible needs
device_group:r or a user session.`),
  verbs: [...groupVerbs(deviceGroupKind), viewDevices, addDevices, removeDevices, accessible],
};
