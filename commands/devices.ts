import { runBulk } from '../src/cli/bulk';
import type { Ctx } from '../src/cli/context';
import { csvLine } from '../src/cli/csv';
import {
  ApiError,
  AuthError,
  CliError,
  Exit,
  GatewayError,
  InterruptedError,
  LookupError,
  MissingEndpointError,
  PartialFailure,
  RateLimitedError,
  RequestInterruptedError,
  UsageError,
} from '../src/cli/errors';
import { absent, ifExistsOn, ifExistsOpt } from '../src/cli/if-exists';
import { visible } from '../src/cli/output';
import { confirmTargets } from '../src/cli/select';
import { offlineDays } from '../src/cli/time';
import { type AreaSpec, type OptSpec, opt, selector, str, type VerbSpec } from '../src/cli/verb';
import { type AccessAnswer, explainAccessVia, whoCanReach } from '../src/client/access-explain';
import { escapeLike, wildcard } from '../src/client/filters';
import { exactMatches, nameExists } from '../src/client/resolve';
import type { DeviceRow } from '../src/wire/devices';
import { ASSIGN_TYPES, type AssignType, BOOK_ENTRY_PARTS } from '../src/wire/rules';

// Mirrors devices.py (view, enable, disable, delete, assign) and adds disconnect, purge and export.

const NOUN: [string, string] = ['device', 'devices'];

function nonNegativeInt(flag: string) {
  return (v: string) => {
    if (!/^\d+$/.test(v.trim())) throw new UsageError(`${flag} must be a whole number of days (got '${v}')`);
    return Number(v);
  };
}

const filterOpts: OptSpec[] = [
  selector('id', '<id>', "device ID; a substring match unless it holds '%' ('-' = not set)"),
  selector('device_name', '<name>', 'device name (host name), substring match'),
  selector('user_name', '<user>', 'assigned user, substring match'),
  selector('group_name', '<group>', "the assigned user's user group, substring match"),
  selector('device_group_name', '<group>', "device group, substring match ('-' = in no device group)"),
  selector('device_username', '<name>', 'OS user logged in on the device, substring match'),
  opt('offline_days', '<days>', 'only devices offline for at least this many whole days (see --help)', {
    parser: nonNegativeInt('--offline_days'),
  }),
  opt('exact', undefined, '--id and --device_name must match the whole value exactly (case-sensitive)'),
];

const OFFLINE_HELP = `

--offline_days N keeps devices offline for N or more whole days, counted from last_online
(ISO 8601, with or without fractional seconds and zone; no zone means UTC). A device online
now counts 0 days; a device that was never online counts from the day it was created.
Rows whose last_online cannot be read are left out, with a warning.`;

const FILTER_KEYS = [
  'id',
  'deviceName',
  'userName',
  'groupName',
  'deviceGroupName',
  'deviceUsername',
] as const;

function hasFilter(o: Record<string, unknown>): boolean {
  return FILTER_KEYS.some((k) => str(o[k]) !== undefined) || o['offlineDays'] !== undefined;
}

/** Streams the devices matching the filters, with --offline_days applied client-side. */
async function* matching(ctx: Ctx, o: Record<string, unknown>): AsyncGenerator<DeviceRow> {
  const w = (k: string) => (str(o[k]) === undefined ? undefined : wildcard(str(o[k])!));
  // --exact: the server matches the text literally (case-insensitively); the rows are then held
  // to the exact value here.
  const id = str(o['id']);
  const name = str(o['deviceName']);
  const exact = o['exact'] === true;
  if (exact && id === undefined && name === undefined)
    throw new UsageError('--exact applies to --id and --device_name: give one of them');
  // With --exact, escaped first; raw (a pattern that matches itself) where a server ignores `\`.
  const list = (raw: boolean) => {
    const e = (v: string | undefined, k: string) =>
      exact && v !== undefined ? (raw ? v : escapeLike(v)) : w(k);
    return ctx.api.devices.list({
      id: e(id, 'id'),
      device_name: e(name, 'deviceName'),
      user_name: w('userName'),
      group_name: w('groupName'),
      device_group_name: w('deviceGroupName'),
      device_username: w('deviceUsername'),
    });
  };
  const rows = exact ? exactly(list, id, name) : list(false);
  const min = o['offlineDays'] as number | undefined;
  if (min === undefined) {
    yield* rows;
    return;
  }
  const now = Date.now();
  const unreadable: string[] = [];
  for await (const d of rows) {
    const age = offlineDays(d, now);
    if ('unreadable' in age) unreadable.push(`${d.id} (${age.unreadable})`);
    else if (age.days >= min) yield d;
  }
  if (unreadable.length) {
    ctx.out.warn(
      `left out ${unreadable.length} device(s) whose last_online could not be read: ${unreadable.slice(0, 5).join(', ')}`,
    );
  }
}

/** The devices whose ID and name are exactly the ones given (see exactMatches for `list(raw)`). */
function exactly(
  list: (raw: boolean) => AsyncIterable<DeviceRow>,
  id: string | undefined,
  name: string | undefined,
): AsyncGenerator<DeviceRow> {
  return exactMatches(
    list,
    (d) => (id === undefined || d.id === id) && (name === undefined || d.info?.device_name === name),
    [id, name].some((v) => v !== undefined && escapeLike(v) !== v),
  );
}

function isExact(o: Record<string, unknown>, d: DeviceRow): boolean {
  return (
    (str(o['id']) !== undefined && d.id === str(o['id'])) ||
    (str(o['deviceName']) !== undefined && d.info?.device_name === str(o['deviceName']))
  );
}

/** A device in --json results and dry runs. */
const identity = (d: DeviceRow) => ({ guid: d.guid, id: d.id });

function label(d: DeviceRow): string {
  return d.info?.device_name ? `${d.id} (${d.info.device_name})` : d.id;
}

async function select(
  ctx: Ctx,
  o: Record<string, unknown>,
  verb: string,
  {
    always,
    narrow,
    serveOnly,
    refuse,
    dryRunCheck,
  }: {
    always?: string;
    narrow?: (rows: DeviceRow[]) => DeviceRow[] | null;
    /** The verb is rdadmin serve's own: checked once the devices are listed, before anything else. */
    serveOnly?: boolean;
    /** Why the server would refuse a device (a dry run names it, exit 1). */
    refuse?: (d: DeviceRow) => string | undefined;
    /** A dry run's check of what the verb would send, made once a device matches (reads only). */
    dryRunCheck?: () => Promise<void>;
  } = {},
): Promise<DeviceRow[] | null> {
  if (!hasFilter(o) && !ctx.flags.all) {
    throw new UsageError(
      `refusing to ${verb} every device: no filter given`,
      'select devices with --id, --device_name, --user_name, … or --offline_days, or pass --all',
    );
  }
  let rows: DeviceRow[] = [];
  for await (const d of matching(ctx, o)) rows.push(d);
  if (serveOnly) await ctx.api.transport.requireServe(`rdadmin devices ${verb}`);
  if (narrow) {
    const kept = narrow(rows);
    if (!kept) return null;
    rows = kept;
  }
  if (ctx.flags.dryRun && dryRunCheck && rows.length) await dryRunCheck();
  // --if-exists: the device named exactly is not there: already gone, exit 0.
  const what = named(o);
  const gone =
    what !== undefined && rows.length === 0 && ifExistsOn(o)
      ? [
          absent(`${what[0]!.toUpperCase()}${what.slice(1)}`, {
            ...(str(o['id']) !== undefined ? { id: str(o['id']) } : {}),
            ...(str(o['deviceName']) !== undefined ? { device_name: str(o['deviceName']) } : {}),
          }),
        ]
      : undefined;
  return confirmTargets(ctx, {
    noun: NOUN,
    verb,
    rows,
    label,
    describe: identity,
    exact: (d) => isExact(o, d),
    ...(always ? { always } : {}),
    ...(refuse ? { refuse } : {}),
    ...(what ? { named: what } : {}),
    ...(gone ? { absent: gone } : {}),
  });
}

/**
 * With --exact, the device the command names (--id, --device_name), for "not found"; only when
 * nothing else narrows the match (--offline_days, --user_name, …): then no match may just mean
 * the device does not qualify, which is "Found 0", as for any filter.
 */
function named(o: Record<string, unknown>): string | undefined {
  if (o['exact'] !== true) return undefined;
  const narrowed =
    o['offlineDays'] !== undefined ||
    FILTER_KEYS.some((k) => k !== 'id' && k !== 'deviceName' && str(o[k]) !== undefined);
  if (narrowed) return undefined;
  const id = str(o['id']);
  const name = str(o['deviceName']);
  if (id === undefined && name === undefined) return undefined;
  return `device ${[id !== undefined ? `'${id}'` : '', name !== undefined ? `named '${name}'` : ''].filter(Boolean).join(' ')}`;
}

function lastSeen(d: DeviceRow): string {
  if (d.is_online) return 'online';
  return d.last_online ?? 'never';
}

const STATUS: Record<number, string> = { 1: 'enabled', 0: 'disabled' };

const columns = [
  { header: 'ID', value: (d: DeviceRow) => d.id },
  { header: 'NAME', value: (d: DeviceRow) => d.info?.device_name ?? '' },
  { header: 'USER', value: (d: DeviceRow) => d.user_name ?? '' },
  { header: 'USER GROUP', value: (d: DeviceRow) => d.group_name ?? '' },
  { header: 'DEVICE GROUP', value: (d: DeviceRow) => d.device_group_name ?? '' },
  { header: 'OS', value: (d: DeviceRow) => d.info?.os ?? '' },
  { header: 'STATUS', value: (d: DeviceRow) => STATUS[d.status ?? -1] ?? String(d.status ?? '') },
  { header: 'LAST ONLINE', value: lastSeen },
];

function perDevice(
  name: string,
  done: string,
  summary: string,
  call: (ctx: Ctx, d: DeviceRow) => Promise<unknown>,
  {
    serveOnly = false,
    refuse,
    ifExists = false,
  }: {
    serveOnly?: boolean;
    refuse?: (d: DeviceRow) => string | undefined;
    /** Takes --if-exists (delete): a device named with --exact that is not there is already gone. */
    ifExists?: boolean;
  } = {},
): VerbSpec {
  const gone = ifExists
    ? ` With --exact and only --id or --device_name, a device named that is not there is an error (exit 1); with --if-exists too, it is reported as already gone ("Device '123456789' is not there; nothing to ${name}.") and is not an error, exit 0 (--json: [{"id": …, "action": "${name}", "ok": true, "attempted": false, "outcome": "absent"}]), so a teardown job can run again. --if-exists needs that --exact.`
    : '';
  return {
    name,
    summary,
    description: `${summary}. Matching devices are listed first; more than one, or a non-exact match, is confirmed.${gone}${OFFLINE_HELP}`,
    options: [...filterOpts, ...(ifExists ? [ifExistsOpt()] : [])],
    examples: [
      `rdadmin devices ${name} --id 123456789`,
      `rdadmin devices ${name} --offline_days 90 --dry-run`,
      ...(ifExists ? [`rdadmin devices ${name} --id 123456789 --exact --if-exists`] : []),
    ],
    async run(ctx, o) {
      if (ifExistsOn(o) && named(o) === undefined)
        throw new UsageError(
          '--if-exists needs --exact with --id or --device_name and no other filter (a filter that matches nothing already exits 0: Found 0)',
          `rdadmin devices ${name} --id ID --exact --if-exists`,
        );
      const rows = await select(ctx, o, name, { serveOnly, ...(refuse ? { refuse } : {}) });
      if (!rows) return;
      return runBulk(ctx, rows, {
        done,
        verb: name,
        noun: NOUN,
        label,
        describe: identity,
        action: (d) => call(ctx, d),
      });
    },
  };
}

/** `type=value` of --assign_to, checked before any request (D-7, D-8). */
export function parseAssignTo(text: string | undefined): { type: AssignType; value: string } {
  if (text === undefined) {
    throw new UsageError('assign needs --assign_to TYPE=VALUE', `TYPE is one of ${ASSIGN_TYPES.join(', ')}`);
  }
  const eq = text.indexOf('=');
  if (eq < 0)
    throw new UsageError(
      `invalid --assign_to '${text}': it must be TYPE=VALUE`,
      `TYPE is one of ${ASSIGN_TYPES.join(', ')}`,
    );
  const type = text.slice(0, eq).trim();
  const value = text.slice(eq + 1);
  if (!(ASSIGN_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`invalid --assign_to type '${type}'`, `TYPE is one of ${ASSIGN_TYPES.join(', ')}`);
  }
  if (type === 'ab' && !value.split(',')[0]?.trim()) {
    throw new UsageError(
      '--assign_to ab=… needs an address book name: ab=BOOK[,TAG[,ALIAS[,PASSWORD[,NOTE]]]]',
    );
  }
  // The server splits the value at every comma: a sixth part would be lost, and a comma inside
  // the alias or password would shift the fields after it.
  const parts = type === 'ab' ? value.split(',').length : 0;
  if (parts > BOOK_ENTRY_PARTS) {
    throw new UsageError(
      `invalid --assign_to ab=…: ${parts} comma-separated parts, at most ${BOOK_ENTRY_PARTS} (BOOK,TAG,ALIAS,PASSWORD,NOTE)`,
      'the parts are separated by commas, so none of them may hold a comma; set such a note or alias afterwards with rdadmin ab update-peer',
    );
  }
  return { type: type as AssignType, value };
}

/**
 * A dry run's check of --assign_to, by reads only: the user, device group, strategy or shared
 * address book it names exists, as the server checks each device's assignment (names are exact and
 * case-sensitive). One the token may not read is not checked, with a warning.
 */
async function assignTargetExists(ctx: Ctx, type: AssignType, value: string): Promise<void> {
  const clear = value.trim() === '' || value.trim() === '-';
  let what: string;
  let exists: () => Promise<boolean>;
  switch (type) {
    case 'user_name':
      what = `user '${value}'`;
      exists = () => nameExists(value, (p) => ctx.api.users.list({ name: p }));
      break;
    case 'device_group_name':
      what = `device group '${value}'`;
      exists = () => nameExists(value, (p) => ctx.api.deviceGroups.list({ name: p }));
      break;
    case 'strategy_name':
      what = `strategy '${value}'`;
      exists = async () => (await ctx.api.strategies.list()).some((st) => st.name === value);
      break;
    case 'ab': {
      const book = value.split(',')[0]!.trim();
      what = `shared address book '${book}'`;
      exists = () => nameExists(book, (p) => ctx.api.ab.listShared(p));
      break;
    }
    default:
      return; // note, device_name, device_username: any text
  }
  if (clear && type !== 'ab') return;
  try {
    if (!(await exists()))
      throw new LookupError(
        `${visible(what)} does not exist (--assign_to ${type}=…): the real run would fail for every device`,
        'names are exact and case-sensitive',
      );
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
    ctx.out.warn(`could not check that ${visible(what)} exists: ${err.message}`);
  }
}

const view: VerbSpec = {
  name: 'view',
  aliases: ['list'],
  summary: 'List devices',
  description: `List devices, all of them or those matching the filters.${OFFLINE_HELP}`,
  options: filterOpts,
  examples: [
    'rdadmin devices view --user_name mike',
    'rdadmin devices view --device_group_name -        # devices in no device group',
    'rdadmin devices view --offline_days 30 --json',
  ],
  async run(ctx, o) {
    if (ctx.out.json) {
      const arr = ctx.out.jsonArray();
      for await (const d of matching(ctx, o)) arr.push(d);
      arr.end();
      return;
    }
    const n = await ctx.out.table(columns, matching(ctx, o));
    if (n === 0) ctx.out.info('Found 0 devices');
  },
};

const explainAccessVerb: VerbSpec = {
  name: 'explain-access',
  aliases: ['why'],
  summary: 'Say whether a user may connect to a device, and why',
  description: `Whether user --user_name may connect to device --id (both exact), by the access rules: a device is reachable by its user, the user's group-mates, whoever a rule gives its user's group or its device group, and, when it has neither user nor device group, by everyone (unless "Only admin can access unassigned devices" is on); a disabled user or device is reachable by no one. Every grant and blocker is listed. Works against Pro and rdadmin serve alike (it reads users, devices and groups); the exit code is 0 either way, --json carries "reachable".`,
  options: [
    selector('id', '<id>', 'the device (RustDesk ID, exact)'),
    selector('user_name', '<name>', 'the user who would connect (exact name)'),
  ],
  examples: [
    'rdadmin devices explain-access --id 123456789 --user_name alice',
    'rdadmin devices why --id 123456789 --user_name alice --json',
  ],
  async run(ctx, o) {
    const id = str(o['id']);
    const user = str(o['userName']);
    if (!id || !user) throw new UsageError('explain-access needs --id and --user_name');
    const a = await explainAccessVia(ctx.api, user, id);
    if (ctx.out.json) {
      ctx.out.jsonValue(a);
      return;
    }
    ctx.out.data(`${a.user} ${a.reachable ? 'can' : 'cannot'} connect to device ${a.device}`);
    for (const b of a.blockers) ctx.out.data(`  - ${b}`);
    for (const g of a.grants) ctx.out.data(`  + ${g}`);
    if (!a.grants.length && !a.blockers.length)
      ctx.out.data(
        `  - no rule gives ${a.user} or their user group access to the device, its user's group or its device group`,
      );
    for (const n of a.notes) ctx.out.data(`  note: ${n}`);
  },
};

const whoCan: VerbSpec = {
  name: 'who-can',
  summary: 'List the users who may connect to a device, and why',
  description: `Every user who may connect to device --id (exact) by the access rules, with the grants that let them in (see explain-access). Reads every user and group once; works against Pro and rdadmin serve alike. A summary goes to stderr.`,
  options: [selector('id', '<id>', 'the device (RustDesk ID, exact)')],
  examples: ['rdadmin devices who-can --id 123456789', 'rdadmin devices who-can --id 123456789 --json'],
  async run(ctx, o) {
    const id = str(o['id']);
    if (!id) throw new UsageError('who-can needs --id');
    const all = await whoCanReach(ctx.api, id);
    const can = all.filter((a) => a.reachable);
    if (ctx.out.json) ctx.out.jsonValue(can);
    else
      await ctx.out.table(
        [
          { header: 'USER', value: (a: AccessAnswer) => a.user },
          { header: 'WHY', value: (a: AccessAnswer) => a.grants.join('; ') },
        ],
        can,
      );
    ctx.out.info(`${can.length} of ${all.length} users may connect to device ${id}.`);
  },
};

const assignVerb: VerbSpec = {
  name: 'assign',
  summary: 'Assign devices to a user, device group, strategy or address book, or set a field',
  description: `Assign the matching devices. --assign_to TYPE=VALUE with TYPE one of:
  user_name, device_group_name, strategy_name   (an empty VALUE or - clears)
  ab       VALUE = BOOK[,TAG[,ALIAS[,PASSWORD[,NOTE]]]]
  note, device_username, device_name

The value is checked before any request.${OFFLINE_HELP}`,
  options: [...filterOpts, opt('assign_to', '<type=value>', 'what to assign, e.g. user_name=mike')],
  examples: [
    'rdadmin devices assign --device_name PC01 --assign_to user_name=mike',
    'rdadmin devices assign --id 123456789 --assign_to device_group_name=Production',
    "rdadmin devices assign --user_name mike --assign_to 'ab=Team,servers,web-1' --yes",
  ],
  async run(ctx, o) {
    const { type, value } = parseAssignTo(str(o['assignTo']));
    const rows = await select(ctx, o, 'assign', {
      dryRunCheck: () => assignTargetExists(ctx, type, value),
    });
    if (!rows) return;
    return runBulk(ctx, rows, {
      done: `Assigned ${type}=${value} to`,
      verb: 'assign',
      noun: NOUN,
      label,
      describe: (d) => ({ guid: d.guid, id: d.id, type, value }),
      action: (d) => ctx.api.devices.assign(d.guid, type, value),
    });
  },
};

/** --conn of disconnect: connection ids (RustDesk's are 32-bit integers), checked before any request. */
export function parseConns(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const hint = "connection ids are the CONN column of 'rdadmin audits view-conn --remote ID'";
  if (!parts.length) throw new UsageError('--conn needs connection ids, e.g. --conn 3 or --conn 3,5', hint);
  return parts.map((p) => {
    const n = Number(p);
    if (!/^\d+$/.test(p) || n < 1 || n > 2147483647)
      throw new UsageError(`invalid --conn '${p}': a connection id is a whole number from 1`, hint);
    return n;
  });
}

const disconnectVerb: VerbSpec = {
  name: 'disconnect',
  summary: "Disconnect devices' running connections (rdadmin serve)",
  description: `Ask the matching devices to drop their running connections, as the console's Disconnect
does. Each device drops them at its next heartbeat (every 3 s while it has connections), so a
result line says what was asked, not that the connection has already ended: its record in
'rdadmin audits view-conn' gets its end time when it has. Offline devices have no live connection
and are left out. --conn IDS drops only those connections (the CONN column of 'rdadmin audits
view-conn', conn_id with --json) of the one device given by its exact --id; a connection that is
not live is refused. rdadmin serve only: Pro keeps this action to its web console, and rdadmin
says so (exit 1) before it asks or changes anything.${OFFLINE_HELP}`,
  options: [
    ...filterOpts,
    opt('conn', '<ids>', 'only these connection ids (comma list), of the device given by --id'),
  ],
  examples: [
    'rdadmin devices disconnect --id 123456789',
    'rdadmin devices disconnect --id 123456789 --conn 3',
    'rdadmin devices disconnect --user_name mike --yes --json',
  ],
  async run(ctx, o) {
    const conns = parseConns(str(o['conn']));
    const id = str(o['id']);
    if (conns && id === undefined)
      throw new UsageError(
        "--conn needs the device's exact --id",
        'rdadmin devices disconnect --id ID --conn 3',
      );
    const rows = await select(ctx, o, 'disconnect', {
      serveOnly: true,
      narrow: (all) => {
        if (conns) {
          // One device: the server checks that the connections are live on it.
          const exact = all.filter((d) => d.id === id);
          if (!exact.length) throw new LookupError(`no device has the ID '${visible(id!)}'`);
          return exact;
        }
        const online = all.filter((d) => d.is_online);
        const offline = all.length - online.length;
        if (offline && online.length)
          ctx.out.info(`Left out ${offline} offline device${offline === 1 ? '' : 's'}: no live connection.`);
        if (offline && !online.length) {
          if (ctx.out.json) ctx.out.jsonValue([]);
          ctx.out.info(
            offline === 1
              ? `${visible(label(all[0]!))} is offline: no live connection to drop.`
              : `All ${offline} matching devices are offline: no live connection to drop.`,
          );
          return null;
        }
        return online;
      },
    });
    if (!rows) return;
    return runBulk(ctx, rows, {
      done: 'Asked to disconnect',
      verb: 'disconnect',
      noun: NOUN,
      label,
      describe: identity,
      action: (d) => ctx.api.devices.disconnect(d.guid, conns),
      report: (answer) => {
        const dropped = (answer as { conns: number[] }).conns;
        return {
          text: dropped.length
            ? `${dropped.length === 1 ? 'connection' : 'connections'} ${dropped.join(', ')}`
            : 'it has no live connection',
          json: { conns: dropped },
        };
      },
    });
  },
};

const purge: VerbSpec = {
  name: 'purge',
  summary: 'Disable, then delete, devices offline for N days (--offline_days required; confirmed, resumable)',
  description: `Clean up stale devices: each matching device is disabled (if it is enabled) and then
deleted, as Pro requires. --offline_days N (1 or more) is required: purge only takes devices offline
for at least N days, narrowed further by the other filters if given. Always confirmed (or --yes);
--dry-run lists what would go. A run that is interrupted can simply be run again: it picks up the
devices that are left.${OFFLINE_HELP}`,
  options: filterOpts.map((f) =>
    f.flags.startsWith('--offline_days')
      ? { ...f, description: 'required: only devices offline for at least this many whole days (1 or more)' }
      : f,
  ),
  examples: [
    'rdadmin devices purge --offline_days 30 --dry-run',
    'rdadmin devices purge --offline_days 90 --yes --json',
  ],
  async run(ctx, o) {
    const days = o['offlineDays'] as number | undefined;
    if (days === undefined || days < 1) throw new UsageError('purge needs --offline_days N (1 or more)');
    const rows = await select(ctx, o, 'purge', { always: 'purging deletes it for good' });
    if (!rows) return;
    // The devices this run disabled and could not delete: changed in part, and said so.
    const disabledOnly = new Set<string>();
    try {
      return await runBulk(ctx, rows, {
        done: 'Purged',
        verb: 'purge',
        noun: NOUN,
        label,
        describe: (d) => ({ ...identity(d), ...(disabledOnly.has(d.guid) ? { disabled: true } : {}) }),
        action: async (d) => {
          if (d.status !== 0) await ctx.api.devices.disable(d.guid);
          await ctx.api.devices.delete(d.guid).catch((err: unknown) => {
            if (d.status === 0) throw err;
            const partly = partlyPurged(err);
            if (!partly) throw err;
            disabledOnly.add(d.guid);
            throw partly;
          });
        },
      });
    } catch (err) {
      throw withDisabledCount(err, disabledOnly.size);
    }
  },
};

/**
 * A delete that failed after the disable went through, as the device's result: `disabled, not
 * deleted: …` when the delete was refused (by the server, or by a signal before it was sent).
 * Undefined when the failure says something else: the delete's outcome is unknown, or it stops the
 * run (401/403, the server gone or asking to slow down), or the device is gone (404).
 */
function partlyPurged(err: unknown): CliError | undefined {
  if (err instanceof RequestInterruptedError)
    return err.unknown ? undefined : new CliError(`disabled, not deleted: ${err.message}`, Exit.failed);
  if (
    !(err instanceof ApiError) ||
    err instanceof GatewayError ||
    err instanceof RateLimitedError ||
    err instanceof MissingEndpointError ||
    err.status === 404
  )
    return undefined;
  return new ApiError(`disabled, not deleted: ${err.message}`, err.status, err.hint);
}

/** The summary of a purge that disabled devices it could not delete: it counts them apart. */
function withDisabledCount(err: unknown, n: number): unknown {
  if (!n || !(err instanceof PartialFailure || err instanceof InterruptedError)) return err;
  // "Purged 1 of 4 devices; 3 failed. 3 of them were disabled but not deleted."
  const message = `${err.message} ${n} of them ${n === 1 ? 'was' : 'were'} disabled but not deleted.`;
  const hint =
    err.hint ?? 'run the same purge again once the cause is fixed: it picks up the devices that are left';
  return err instanceof InterruptedError
    ? new InterruptedError(err.signal, message, hint)
    : new PartialFailure(message, hint);
}

const CSV_COLUMNS: [string, (d: DeviceRow) => unknown][] = [
  ['guid', (d) => d.guid],
  ['id', (d) => d.id],
  ['device_name', (d) => d.info?.device_name],
  ['device_username', (d) => d.info?.username],
  ['os', (d) => d.info?.os],
  ['user_name', (d) => d.user_name],
  ['group_name', (d) => d.group_name],
  ['device_group_name', (d) => d.device_group_name],
  ['strategy_name', (d) => d.strategy_name],
  ['status', (d) => d.status],
  ['is_online', (d) => d.is_online],
  ['last_online', (d) => d.last_online],
  ['note', (d) => d.note],
  ['created_at', (d) => d.created_at],
];

function cellText(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

const exportVerb: VerbSpec = {
  name: 'export',
  summary: 'Export the (filtered) device list as CSV or JSON, streamed',
  description: `Write every matching device to stdout as it is read, page by page: CSV with a header
row (default), or a JSON array (--format json).${OFFLINE_HELP}`,
  options: [...filterOpts, opt('format', '<csv|json>', 'output format (default csv; json with --json)')],
  examples: [
    'rdadmin devices export > devices.csv',
    'rdadmin devices export --device_group_name Production --format json',
  ],
  async run(ctx, o) {
    const given = str(o['format']);
    if (given !== undefined && given !== 'csv' && given !== 'json')
      throw new UsageError(`invalid --format '${given}': csv or json`);
    if (ctx.out.json && given === 'csv')
      throw new UsageError('--json and --format csv contradict each other: give one of them');
    const format = given ?? (ctx.out.json ? 'json' : 'csv');
    let n = 0;
    if (format === 'json') {
      const arr = ctx.out.jsonArray();
      for await (const d of matching(ctx, o)) {
        arr.push(d);
        n++;
      }
      arr.end();
    } else {
      ctx.out.data(csvLine(CSV_COLUMNS.map(([h]) => h)));
      for await (const d of matching(ctx, o)) {
        ctx.out.data(csvLine(CSV_COLUMNS.map(([, f]) => cellText(f(d)))));
        n++;
      }
    }
    ctx.out.info(`Exported ${n} device${n === 1 ? '' : 's'}.`);
  },
};

export const devicesArea: AreaSpec = {
  name: 'devices',
  aliases: ['device'],
  summary: 'Manage devices (devices.py), purge stale ones, export the list, explain who may connect',
  description: `Manage devices, like devices.py. Filters are substring matches (a value holding '%' is
a LIKE pattern; '_' matches any one character, so --exact takes --id and --device_name literally;
'-' means "not set"). Verbs that change devices list their targets first and ask
before touching more than one device or a non-exact match; without a terminal they need --yes.${OFFLINE_HELP}`,
  verbs: [
    view,
    perDevice('enable', 'Enabled', 'Enable devices', (ctx, d) => ctx.api.devices.enable(d.guid)),
    perDevice('disable', 'Disabled', 'Disable devices', (ctx, d) => ctx.api.devices.disable(d.guid)),
    perDevice(
      'delete',
      'Deleted',
      'Delete devices (a device must be disabled first, as in Pro)',
      (ctx, d) => ctx.api.devices.delete(d.guid),
      // As the server (and Pro) rule: a device is disabled before it is deleted.
      {
        refuse: (d) =>
          d.status === 1 ? `device ${d.id} is enabled: disable it first, then delete it` : undefined,
        ifExists: true,
      },
    ),
    perDevice(
      'reset-uuid',
      'Reset the uuid of',
      "Let a reinstalled or replaced machine take over a device's ID (rdadmin serve): its next contact registers its uuid, and the device keeps its user, groups and history",
      (ctx, d) => ctx.api.devices.resetUuid(d.guid),
      { serveOnly: true },
    ),
    assignVerb,
    disconnectVerb,
    explainAccessVerb,
    whoCan,
    purge,
    exportVerb,
  ],
};
