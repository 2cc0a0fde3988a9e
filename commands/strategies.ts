import { type ReportSpec, sendTogether } from '../src/cli/bulk';
import type { Ctx } from '../src/cli/context';
import { CliError, Exit, LookupError, NotConfirmedError, NotFoundError, UsageError } from '../src/cli/errors';
import { ifExistsOn, ifExistsOpt, reportGone } from '../src/cli/if-exists';
import { EXISTED, ifNotExists, ifNotExistsOpt, shellWord } from '../src/cli/if-not-exists';
import { visible } from '../src/cli/output';
import { confirmNamed } from '../src/cli/select';
import { type AreaSpec, opt, selector, str, type VerbSpec } from '../src/cli/verb';
import { commaList } from '../src/client/filters';
import { resolveNameOrGuid } from '../src/client/resolve';
import type { StrategyRow } from '../src/wire/strategies';

// Mirrors strategies.py (list, view, enable, disable, assign, unassign) and adds create, update,
// delete and effective, so strategies can be managed without a web console.

async function byName(ctx: Ctx, name: string): Promise<StrategyRow> {
  const all = await ctx.api.strategies.list();
  const hit = all.filter((s) => s.name === name);
  if (hit.length === 1) return hit[0]!;
  if (hit.length > 1) throw new LookupError(`strategy name '${name}' is ambiguous`);
  throw new NotFoundError(
    `strategy '${name}' not found`,
    all.length ? `strategies: ${all.map((s) => s.name).join(', ')}` : undefined,
  );
}

/** What a real create or rename would be refused for, found by reading (a dry run's check). */
async function nameIsFree(ctx: Ctx, name: string): Promise<void> {
  if ((await ctx.api.strategies.list()).some((s) => s.name === name))
    throw new CliError(`a strategy named '${name}' already exists`, Exit.failed);
}

/** Whether two sets of client options are the same (keys and values; order aside). */
function sameOptions(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
}

/** create --if-not-exists: the options given are not those of the existing strategy. */
function optionsDiffer(s: StrategyRow, given: Record<string, string>) {
  const have = s.options ?? {};
  const changed = [...new Set([...Object.keys(have), ...Object.keys(given)])].filter(
    (k) => have[k] !== given[k],
  );
  const set = changed.filter((k) => Object.hasOwn(given, k));
  const unset = changed.filter((k) => !Object.hasOwn(given, k));
  return {
    field: `other options than given (${changed.map((k) => visible(k)).join(', ')} differ)`,
    how: [
      `rdadmin strategies update --name ${shellWord(s.name)}`,
      ...set.map((k) => `--option ${shellWord(`${k}=${given[k]}`)}`),
      ...(unset.length ? [`--unset ${shellWord(unset.join(','))}`] : []),
    ].join(' '),
  };
}

function needName(o: Record<string, unknown>, verb: string): string {
  const name = str(o['name'])?.trim();
  if (!name) throw new UsageError(`${verb} needs --name NAME`);
  return name;
}

/** `--option KEY=VALUE`, repeatable; a key given twice is refused (which value was meant?). */
function collectOption(value: string, previous: unknown): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new UsageError(`invalid --option '${value}': it must be KEY=VALUE`);
  const key = value.slice(0, eq).trim();
  const before = (previous as Record<string, string>) ?? {};
  if (Object.hasOwn(before, key))
    throw new UsageError(`--option ${key} is given twice: give each option once`);
  return { ...before, [key]: value.slice(eq + 1) };
}

/** The flags of a strategy's fields, for the messages of the server's checks. */
const CREATE_FLAGS = { name: '--name', options: '--option' };
const UPDATE_FLAGS = { name: '--new-name', options: '--option/--unset' };

function collectList(value: string, previous: unknown): string[] {
  return [...((previous as string[]) ?? []), ...commaList(value)];
}

const targetOpts = [
  selector('peers', '<ids>', 'device IDs (or device GUIDs), comma separated'),
  selector('users', '<names>', 'user names (or user GUIDs), comma separated'),
  selector('device-groups', '<names>', 'device group names (or GUIDs), comma separated'),
];

/** One resolved target: what it is, how it was named (device ID or name), its GUID. */
interface Target {
  type: 'device' | 'user' | 'device_group';
  key: string;
  guid: string;
  label: string;
}

interface Targets {
  peers: string[];
  users: string[];
  groups: string[];
  labels: string[];
  all: Target[];
}

interface TargetLists {
  peers: string[];
  users: string[];
  groups: string[];
}

/** The target flags, checked before any request (exit 2 when none names a target). */
function targetLists(o: Record<string, unknown>): TargetLists {
  const lists = {
    peers: commaList(str(o['peers'])),
    users: commaList(str(o['users'])),
    groups: commaList(str(o['deviceGroups'])),
  };
  if (!lists.peers.length && !lists.users.length && !lists.groups.length) {
    throw new UsageError('at least one of --peers, --users, or --device-groups is required');
  }
  return lists;
}

/** Resolves every target exactly before anything is sent (D-2, D-3); one unknown → nothing sent. */
async function resolveTargets(ctx: Ctx, { peers, users, groups }: TargetLists): Promise<Targets> {
  const out: Targets = { peers: [], users: [], groups: [], labels: [], all: [] };
  const add = (list: string[], t: Target) => {
    list.push(t.guid);
    out.labels.push(t.label);
    out.all.push(t);
  };
  const failures: string[] = [];
  for (const p of peers) {
    try {
      const d = await resolveNameOrGuid(
        'device',
        p,
        (pat) => ctx.api.devices.list({ id: pat }),
        (d) => d.id,
      );
      add(out.peers, { type: 'device', key: d.id, guid: d.guid, label: `device ${d.id}` });
    } catch (err) {
      if (!(err instanceof LookupError)) throw err;
      failures.push(err.hint ? `${err.message} (${err.hint})` : err.message);
    }
  }
  for (const u of users) {
    try {
      const r = await resolveNameOrGuid('user', u, (pat) => ctx.api.users.list({ name: pat }));
      add(out.users, { type: 'user', key: r.name, guid: r.guid, label: `user ${r.name}` });
    } catch (err) {
      if (!(err instanceof LookupError)) throw err;
      failures.push(err.hint ? `${err.message} (${err.hint})` : err.message);
    }
  }
  for (const g of groups) {
    try {
      const r = await resolveNameOrGuid('device group', g, (pat) => ctx.api.deviceGroups.list({ name: pat }));
      add(out.groups, { type: 'device_group', key: r.name, guid: r.guid, label: `device group ${r.name}` });
    } catch (err) {
      if (!(err instanceof LookupError)) throw err;
      failures.push(err.hint ? `${err.message} (${err.hint})` : err.message);
    }
  }
  if (failures.length) throw new LookupError(`${failures.join('; ')}; nothing was changed`);
  return out;
}

/** "1 device, 2 users, 0 device groups": what an assignment names or a strategy is assigned to. */
function targetCounts(c: { peers: number; users: number; groups: number }): string {
  return [
    plural(c.peers, 'device', 'devices'),
    plural(c.users, 'user', 'users'),
    plural(c.groups, 'device group', 'device groups'),
  ].join(', ');
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

async function runAssign(ctx: Ctx, o: Record<string, unknown>, assign: boolean): Promise<number | undefined> {
  if (!assign && str(o['name']) !== undefined)
    throw new UsageError('unassign takes no --name: it removes whatever strategy the targets have');
  const name = assign ? needName(o, 'assign') : undefined;
  const lists = targetLists(o);
  const strategy = name === undefined ? undefined : await byName(ctx, name);
  const t = await resolveTargets(ctx, lists);
  if (ctx.flags.dryRun) {
    if (ctx.out.json)
      ctx.out.jsonValue({
        strategy: strategy?.name ?? null,
        action: assign ? 'assign' : 'unassign',
        targets: t.labels,
        peers: t.peers,
        users: t.users,
        groups: t.groups,
        dry_run: true,
      });
    else for (const l of t.labels) ctx.out.data(l);
    ctx.out.info(
      `Dry run: would ${assign ? `assign '${strategy!.name}' to` : 'unassign'} ${t.labels.length} target(s); nothing was changed.`,
    );
    return;
  }
  const n = t.labels.length;
  await confirmNamed(ctx, {
    verb: assign ? 'assign' : 'unassign',
    noun: ['target', 'targets'],
    labels: t.labels,
    question: assign ? `Assign '${strategy!.name}' to ${n} targets?` : `Remove the strategy of ${n} targets?`,
  });
  // One request for every target: when it fails, each target is reported as a bulk run's would be.
  const report: ReportSpec<Target> = {
    done: assign ? 'Assigned' : 'Unassigned',
    verb: assign ? 'assign' : 'unassign',
    noun: ['target', 'targets'],
    label: (x) => x.label,
    describe: (x) => ({
      strategy: strategy?.name ?? null,
      type: x.type,
      [x.type === 'device' ? 'id' : 'name']: x.key,
      guid: x.guid,
    }),
  };
  const sent = await sendTogether(ctx, t.all, report, () =>
    ctx.api.strategies.assign(strategy?.guid, t.peers, t.users, t.groups),
  );
  if ('code' in sent) return sent.code;
  const r = sent.answer;
  const applied = {
    peers: r?.peers ?? t.peers.length,
    users: r?.users ?? t.users.length,
    groups: r?.groups ?? t.groups.length,
  };
  if (ctx.out.json) {
    ctx.out.jsonValue({
      strategy: strategy?.name ?? null,
      ...applied,
      confirmed_by_server: typeof r?.peers === 'number',
    });
    return;
  }
  const what = targetCounts(applied);
  ctx.out.success(
    assign ? `Assigned strategy '${strategy!.name}' to ${what}.` : `Unassigned the strategy of ${what}.`,
  );
  if (typeof r?.peers !== 'number')
    ctx.out.warn('the server did not report what it applied; the counts are what was sent');
}

/** What a strategy is assigned to, when the server says (rdadmin serve does; Pro may not). */
function assignedCounts(s: StrategyRow): { peers: number; users: number; groups: number } | undefined {
  const a = (s as { assigned?: unknown }).assigned as Record<string, unknown> | undefined;
  if (!a || typeof a !== 'object') return undefined;
  const { peers, users, groups } = a;
  return typeof peers === 'number' && typeof users === 'number' && typeof groups === 'number'
    ? { peers, users, groups }
    : undefined;
}

function showStrategy(ctx: Ctx, s: StrategyRow): void {
  if (ctx.out.json) {
    ctx.out.jsonValue(s);
    return;
  }
  // One field a line: a line break or a tab in a value is shown escaped (--json keeps it exact).
  ctx.out.data(`name\t${visible(s.name)}`);
  ctx.out.data(`guid\t${visible(s.guid)}`);
  if (s.enabled !== undefined && s.enabled !== null) ctx.out.data(`enabled\t${s.enabled ? 'yes' : 'no'}`);
  const assigned = assignedCounts(s);
  if (assigned) ctx.out.data(`assigned\t${targetCounts(assigned)}`);
  for (const [k, v] of Object.entries(s.options ?? {})) ctx.out.data(`option\t${visible(k)}=${visible(v)}`);
}

const verbs: VerbSpec[] = [
  {
    name: 'list',
    summary: 'List strategies',
    examples: ['rdadmin strategies list', 'rdadmin strategies list --json'],
    async run(ctx) {
      const all = await ctx.api.strategies.list();
      if (ctx.out.json) {
        ctx.out.jsonValue(all);
        return;
      }
      await ctx.out.table(
        [
          { header: 'NAME', value: (s: StrategyRow) => s.name },
          { header: 'ENABLED', value: (s: StrategyRow) => (s.enabled === false ? 'no' : 'yes') },
          { header: 'OPTIONS', value: (s: StrategyRow) => String(Object.keys(s.options ?? {}).length) },
          { header: 'GUID', value: (s: StrategyRow) => s.guid },
        ],
        all,
      );
    },
  },
  {
    name: 'view',
    summary: 'Show one strategy (by --name or --guid)',
    options: [
      selector('name', '<name>', 'strategy name'),
      selector('guid', '<guid>', 'strategy GUID (wins over --name)'),
    ],
    examples: [
      'rdadmin strategies view --name "Default"',
      'rdadmin strategies view --guid "01983006-fcca-7c12-9a91-b1df483c6073"',
    ],
    async run(ctx, o) {
      const guid = str(o['guid']) ?? (str(o['name']) ? (await byName(ctx, str(o['name'])!)).guid : undefined);
      if (!guid) throw new UsageError('view needs --name or --guid');
      showStrategy(ctx, await ctx.api.strategies.get(guid));
    },
  },
  ...(['enable', 'disable'] as const).map(
    (verb): VerbSpec => ({
      name: verb,
      summary: `${verb === 'enable' ? 'Enable' : 'Disable'} a strategy`,
      options: [opt('name', '<name>', 'strategy name')],
      examples: [`rdadmin strategies ${verb} --name "NomeEstrategia"`],
      async run(ctx, o) {
        const s = await byName(ctx, needName(o, verb));
        if (ctx.flags.dryRun) {
          if (ctx.out.json) ctx.out.jsonValue({ name: s.name, guid: s.guid, action: verb, dry_run: true });
          ctx.out.info(`Dry run: would ${verb} strategy '${s.name}'; nothing was changed.`);
          return;
        }
        await ctx.api.strategies.setStatus(s.guid, verb === 'enable');
        if (ctx.out.json) ctx.out.jsonValue({ name: s.name, guid: s.guid, enabled: verb === 'enable' });
        else ctx.out.success(`${verb === 'enable' ? 'Enabled' : 'Disabled'} strategy '${s.name}'.`);
      },
    }),
  ),
  {
    name: 'assign',
    summary: 'Assign a strategy to devices, users and device groups',
    description: `Assign a strategy. Targets are given by device ID, user name or device-group name (or by
GUID); each is resolved exactly before anything is sent, and an unknown or ambiguous target is
reported with nothing changed. More than one target is confirmed on a terminal; without one, pass
--yes. The summary counts what the server applied.`,
    options: [opt('name', '<name>', 'strategy name'), ...targetOpts],
    examples: [
      'rdadmin strategies assign --name "Default" --peers "1849118658,1337348840"',
      'rdadmin strategies assign --name "Default" --users "admin,user1"',
      'rdadmin strategies assign --name "Default" --device-groups "device_group1,Production"',
      'rdadmin strategies assign --name "Default" --peers "1849118658" --users "admin" --device-groups "device_group1"',
    ],
    run: (ctx, o) => runAssign(ctx, o, true),
  },
  {
    name: 'unassign',
    summary: 'Remove the strategy of devices, users and device groups',
    description: `Remove the strategy assigned to devices, users and device groups (they fall back to the
next level). Targets are resolved exactly first, as for assign; more than one is confirmed on a
terminal; without one, pass --yes.`,
    options: targetOpts,
    examples: [
      'rdadmin strategies unassign --peers "1849118658,1337348840"',
      'rdadmin strategies unassign --users "admin"',
      'rdadmin strategies unassign --device-groups "device_group1"',
    ],
    run: (ctx, o) => runAssign(ctx, o, false),
  },
  {
    name: 'create',
    summary: 'Create a strategy from client options',
    description: `Create a strategy. --option KEY=VALUE (repeatable) takes the client's advanced-settings keys,
e.g. enable-file-transfer=N, allow-remote-config-modification=N, approve-mode=password.
With --if-not-exists, a strategy that already has that exact name is left as it is (a warning says
when its options differ from those given), exit 0, so a provisioning job can run again.`,
    options: [
      opt('name', '<name>', 'strategy name'),
      opt('option', '<key=value>', 'a client option (repeatable)', { parser: collectOption }),
      ifNotExistsOpt(),
    ],
    examples: [
      'rdadmin strategies create --name Kiosk --option enable-file-transfer=N --option approve-mode=password',
      'rdadmin strategies create --name Kiosk --option enable-file-transfer=N --if-not-exists --json',
    ],
    async run(ctx, o) {
      // Checked, and the name trimmed, as the server does: a dry run refuses what it would refuse.
      const { name, options } = ctx.api.strategies.checkCreate(
        { name: needName(o, 'create'), options: (o['option'] as Record<string, string>) ?? {} },
        CREATE_FLAGS,
      );
      await ctx.api.transport.requireServe('rdadmin strategies create');
      const once = ifNotExists(ctx, o, {
        what: `Strategy '${name}'`,
        find: async () => (await ctx.api.strategies.list()).find((s) => s.name === name),
        json: (s) => s,
        differs: (s) => (sameOptions(s.options ?? {}, options) ? [] : [optionsDiffer(s, options)]),
      });
      if (await once.found()) return;
      if (ctx.flags.dryRun) {
        await nameIsFree(ctx, name);
        if (ctx.out.json)
          ctx.out.jsonValue({ name, options, action: 'create', ...once.created, dry_run: true });
        ctx.out.info(
          `Dry run: would create strategy '${name}' with ${plural(Object.keys(options).length, 'option', 'options')}; nothing was changed.`,
        );
        return;
      }
      const s = await once.create(() => ctx.api.strategies.create(name, options));
      if (s === EXISTED) return;
      if (ctx.out.json) ctx.out.jsonValue({ ...s, ...once.created });
      else
        ctx.out.success(
          `Created strategy '${s.name}' with ${plural(Object.keys(options).length, 'option', 'options')}.`,
        );
    },
  },
  {
    name: 'update',
    summary: 'Rename a strategy, set or remove options',
    options: [
      opt('name', '<name>', 'strategy name'),
      opt('new-name', '<name>', 'new name'),
      opt('option', '<key=value>', 'set a client option (repeatable)', { parser: collectOption }),
      opt('unset', '<key>', 'remove a client option (repeatable, or comma separated)', {
        parser: collectList,
      }),
    ],
    examples: [
      'rdadmin strategies update --name Kiosk --option enable-audio=N --unset approve-mode',
      'rdadmin strategies update --name Kiosk --new-name Kiosks',
    ],
    async run(ctx, o) {
      const name = needName(o, 'update');
      const set = (o['option'] as Record<string, string>) ?? {};
      const unset = (o['unset'] as string[]) ?? [];
      const newName = str(o['newName'])?.trim();
      if (!newName && !Object.keys(set).length && !unset.length) {
        throw new UsageError(
          'update needs something to change: --new-name, --option KEY=VALUE or --unset KEY',
        );
      }
      const both = unset.filter((k) => k in set);
      if (both.length) throw new UsageError(`option(s) both set and unset: ${both.join(', ')}`);
      const options: Record<string, string | null> = { ...set };
      for (const k of unset) options[k] = null;
      ctx.api.strategies.checkUpdate(
        { ...(newName ? { name: newName } : {}), ...(Object.keys(options).length ? { options } : {}) },
        UPDATE_FLAGS,
      );
      await ctx.api.transport.requireServe('rdadmin strategies update');
      const s = await byName(ctx, name);
      // Removing an option the strategy does not have changes nothing: said, not sent. Like other
      // changes that find nothing to do (a user already in the group), that is a success (exit 0).
      const absent = unset.filter((k) => !Object.hasOwn(s.options ?? {}, k));
      for (const k of absent) {
        delete options[k];
        ctx.out.warn(`strategy '${s.name}' has no option '${k}': nothing to remove`);
      }
      const patch = {
        ...(newName ? { name: newName } : {}),
        ...(Object.keys(options).length ? { options } : {}),
      };
      if (Object.keys(patch).length === 0) {
        if (ctx.out.json)
          ctx.out.jsonValue({ ...s, changed: false, ...(ctx.flags.dryRun ? { dry_run: true } : {}) });
        ctx.out.info(`Strategy '${s.name}' is unchanged.`);
        return;
      }
      if (ctx.flags.dryRun) {
        if (newName && newName !== s.name) await nameIsFree(ctx, newName);
        if (ctx.out.json)
          ctx.out.jsonValue({ guid: s.guid, name: s.name, changes: patch, action: 'update', dry_run: true });
        ctx.out.info(
          `Dry run: would update strategy '${s.name}' with ${JSON.stringify(patch)}; nothing was changed.`,
        );
        return;
      }
      const r = await ctx.api.strategies.update(s.guid, patch);
      if (ctx.out.json) ctx.out.jsonValue(r);
      else ctx.out.success(`Updated strategy '${r.name}'.`);
    },
  },
  {
    name: 'delete',
    summary: 'Delete a strategy (what it was assigned to falls back to the next level)',
    description: `Delete a strategy by its exact name. One that is assigned to something is confirmed on
a terminal (without one, pass --yes). With --if-exists, a strategy that is not there is reported as
already gone ("Strategy 'X' is not there; nothing to delete."), exit 0 (--json: "existed": false;
a strategy deleted then has "existed": true), so a teardown job can run again.`,
    options: [opt('name', '<name>', 'strategy name'), ifExistsOpt()],
    examples: [
      'rdadmin strategies delete --name Kiosk --yes',
      'rdadmin strategies delete --name Kiosk --yes --if-exists --json',
    ],
    async run(ctx, o) {
      const name = needName(o, 'delete');
      await ctx.api.transport.requireServe('rdadmin strategies delete');
      const on = ifExistsOn(o);
      let s: StrategyRow;
      try {
        s = await byName(ctx, name);
      } catch (err) {
        if (!on || !(err instanceof NotFoundError)) throw err;
        reportGone(ctx, `Strategy '${name}'`, 'delete', { name, guid: null, deleted: false });
        return;
      }
      const existed = on ? { existed: true } : {};
      // One exact name: asked only when the strategy is assigned to something (deleting it then
      // changes what those devices get), or when the server does not say.
      const assigned = assignedCounts(await ctx.api.strategies.get(s.guid));
      const uses = assigned ? assigned.peers + assigned.users + assigned.groups : undefined;
      const what = assigned ? targetCounts(assigned) : 'targets the server does not list';
      if (ctx.flags.dryRun) {
        if (ctx.out.json)
          ctx.out.jsonValue({
            name: s.name,
            guid: s.guid,
            action: 'delete',
            assigned: assigned ?? null,
            ...existed,
            dry_run: true,
          });
        ctx.out.info(
          `Dry run: would delete strategy '${s.name}' (assigned to ${what}); nothing was changed.`,
        );
        return;
      }
      if (!ctx.flags.yes && uses !== 0) {
        const why = `strategy '${s.name}' is assigned to ${what}`;
        if (!ctx.interactive)
          throw new NotConfirmedError(
            `${why}; deleting it needs confirmation and there is no terminal to ask`,
            'pass --yes to delete it; those targets fall back to the next level',
          );
        ctx.out.info(`${why[0]!.toUpperCase()}${why.slice(1)}; they fall back to the next level.`);
        if (!(await ctx.confirm(`Delete strategy '${s.name}'?`)))
          throw new NotConfirmedError('cancelled; nothing was changed');
      }
      await ctx.api.strategies.delete(s.guid);
      if (ctx.out.json) ctx.out.jsonValue({ name: s.name, guid: s.guid, deleted: true, ...existed });
      else ctx.out.success(`Deleted strategy '${s.name}'.`);
    },
  },
  {
    name: 'effective',
    summary: 'Show the strategy a device gets, and why',
    description: `Show the strategy that applies to a device (--peer DEVICE_ID): the device's own strategy,
else its user's, else its device group's, else Default. The first level that has a strategy
decides; if that strategy is disabled, the device is managed by no strategy.`,
    options: [opt('peer', '<id>', 'device ID')],
    examples: [
      'rdadmin strategies effective --peer 123456789',
      'rdadmin strategies effective --peer 123456789 --json',
    ],
    async run(ctx, o) {
      const peer = str(o['peer'])?.trim();
      if (!peer) throw new UsageError('effective needs --peer DEVICE_ID');
      const e = await ctx.api.strategies.effective(peer);
      if (ctx.out.json) {
        ctx.out.jsonValue({
          peer,
          name: e.strategy?.name ?? null,
          options: e.strategy?.options ?? {},
          level: e.level,
          managed: e.managed,
          chain: e.chain,
        });
        return;
      }
      const from = {
        device: 'its own assignment',
        user: 'its user',
        device_group: 'its device group',
        default: 'the default',
      }[e.level];
      // One fact a line: a line break or a tab in a name or value is shown escaped.
      const device = visible(peer);
      if (!e.strategy) ctx.out.data(`Device ${device} gets no strategy (there is none to fall back to).`);
      else if (!e.managed) {
        ctx.out.data(
          `Device ${device} is managed by no strategy: '${visible(e.strategy.name)}' (from ${from}) is disabled.`,
        );
      } else ctx.out.data(`Device ${device} gets strategy '${visible(e.strategy.name)}' from ${from}.`);
      for (const level of ['device', 'user', 'device_group', 'default'] as const) {
        const holder = e.chain[level];
        ctx.out.data(
          `  ${level.padEnd(12)} ${holder == null ? '-' : visible(holder)}${level === e.level ? '   ← decides' : ''}`,
        );
      }
      for (const [k, v] of Object.entries(e.strategy?.options ?? {}))
        ctx.out.data(`  option ${visible(k)}=${visible(v)}`);
    },
  },
];

export const strategiesArea: AreaSpec = {
  name: 'strategies',
  aliases: ['strategy'],
  summary: 'Manage strategies (strategies.py): client option sets for devices, users, device groups',
  verbs,
};
