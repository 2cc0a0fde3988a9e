import { inBatches, runBulk } from '../src/cli/bulk';
import type { Ctx } from '../src/cli/context';
import { AuthError, CliError, Exit, LookupError, NotFoundError, UsageError } from '../src/cli/errors';
import { absent, ifExistsOn, ifExistsOpt } from '../src/cli/if-exists';
import {
  type Difference,
  EXISTED,
  firstOf,
  ifNotExists,
  ifNotExistsOpt,
  shellWord,
  shown,
} from '../src/cli/if-not-exists';
import { type Column, visible } from '../src/cli/output';
import { confirmTargets, type DryRunCheck, runChecks } from '../src/cli/select';
import { type OptSpec, opt, selector, str, type VerbSpec } from '../src/cli/verb';
import { commaList } from '../src/client/filters';
import { exactRows, nameExists, resolveExact } from '../src/client/resolve';
import {
  DEFAULT_USER_GROUP,
  formatRules,
  groupNameProblem,
  INCOMING_TYPES,
  OUTGOING_TYPES,
  parseRuleList,
  RULE_TYPE_LABEL,
  type RuleEntry,
  RuleType,
} from '../src/wire/access';

// What user-groups and device-groups share: the four group verbs (view, add, update, delete),
// access-rule flags, and exact-name lookups. The member verbs live in each area's module.

export interface GroupRow {
  guid: string;
  name: string;
  note?: string | null;
  allowed_incomings?: RuleEntry[] | null;
  allowed_outgoings?: RuleEntry[] | null;
}

interface GroupApi<R extends GroupRow> {
  list(f: { name?: string }): AsyncIterable<R>;
  create(body: Record<string, unknown> & { name: string }): Promise<unknown>;
  update(guid: string, body: Record<string, unknown>): Promise<unknown>;
  delete(guid: string): Promise<unknown>;
}

export interface GroupKind<R extends GroupRow> {
  /** The area as typed: 'user-groups'. */
  area: string;
  /** ['user group', 'user groups'] */
  noun: [string, string];
  api(ctx: Ctx): GroupApi<R>;
  /** User groups also have "access to" rules; device groups only "accessed from". */
  accessTo: boolean;
  columns: Column<R>[];
  /** Example names for help texts. */
  example: { name: string; from: string; to?: string };
  /**
   * Why the server would refuse to delete this group, found by reads only (a dry run's check);
   * undefined when nothing is known against it.
   */
  deleteRefusal?: (ctx: Ctx, group: R) => Promise<string | undefined>;
}

/** Help text: single line breaks become spaces, so commander can wrap paragraphs to the terminal. */
export function prose(text: string): string {
  return text.replace(/([^\n])\n(?!\n)/g, '$1 ');
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of results. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

export function required(o: Record<string, unknown>, flags: [string, string][], verb: string, area: string) {
  const missing = flags.filter(([key]) => !str(o[key])?.trim()).map(([, flag]) => flag);
  if (missing.length)
    throw new UsageError(`${verb} needs ${missing.join(' and ')}`, `see rdadmin ${area} ${verb} --help`);
}

export function resolveGroup<R extends GroupRow>(ctx: Ctx, kind: GroupKind<R>, name: string): Promise<R> {
  const api = kind.api(ctx);
  return resolveExact(kind.noun[0], name, (pattern) => api.list({ name: pattern }));
}

/**
 * After a listing by exact group name came back empty: a group that does not exist is an error
 * (exit 1, with similar names), not an empty group. A caller whose token cannot read groups (the
 * listing needs user:r or device:r only) keeps the empty answer: it cannot be told apart.
 */
export async function groupMustExist<R extends GroupRow>(ctx: Ctx, kind: GroupKind<R>, name: string) {
  try {
    await resolveGroup(ctx, kind, name);
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
  }
}

const accessedFromOpt = (noun: string) =>
  opt(
    'accessed-from',
    '<rules>',
    `who may access this ${noun}: JSON '[{"type":0,"name":"Admins"},{"type":2,"name":"john"}]' (0 user group, 2 user) or user-group:Admins,user:john; '[]' clears`,
  );
const accessToOpt = opt(
  'access-to',
  '<rules>',
  `what this user group may access: JSON '[{"type":0,"name":"Support"},{"type":1,"name":"Servers"}]' (0 user group, 1 device group) or user-group:Support,device-group:Servers; '[]' clears`,
);

/** Parses the rule flags given (D-21: invalid JSON or entries are a usage error, before any request). */
function ruleFields(o: Record<string, unknown>, accessTo: boolean): Record<string, RuleEntry[]> {
  const out: Record<string, RuleEntry[]> = {};
  const parse = (key: string, flag: string, types: readonly number[], field: string) => {
    const text = str(o[key]);
    if (text === undefined) return;
    try {
      out[field] = parseRuleList(text, flag, types);
    } catch (err) {
      throw new UsageError((err as Error).message, 'entries name groups and users by name; see --help');
    }
  };
  parse('accessedFrom', '--accessed-from', INCOMING_TYPES, 'allowed_incomings');
  if (accessTo) parse('accessTo', '--access-to', OUTGOING_TYPES, 'allowed_outgoings');
  return out;
}

/**
 * A dry run's checks of a create or an update, by reads only: the name is free (`name`, when it
 * changes) and every name a rule gives exists, as the server checks them on a real run. A list the
 * token may not read is not checked (a warning says so); the real run is checked by the server.
 */
async function dryRunChecks<R extends GroupRow>(
  ctx: Ctx,
  kind: GroupKind<R>,
  o: { name?: string; current?: string; rules: Record<string, RuleEntry[]> },
): Promise<void> {
  const [one] = kind.noun;
  const api = kind.api(ctx);
  const { name, current, rules } = o;
  const ownType = kind.accessTo ? RuleType.userGroup : RuleType.deviceGroup;
  if (name !== undefined && current === DEFAULT_USER_GROUP && kind.accessTo)
    throw new CliError(`the '${DEFAULT_USER_GROUP}' user group cannot be renamed`, Exit.failed);
  const lists: Record<number, (p: string) => AsyncIterable<{ name: string }>> = {
    [RuleType.userGroup]: (p) => ctx.api.userGroups.list({ name: p }),
    [RuleType.deviceGroup]: (p) => ctx.api.deviceGroups.list({ name: p }),
    [RuleType.user]: (p) => ctx.api.users.list({ name: p }),
  };
  const checks: DryRunCheck[] = [];
  if (name !== undefined) {
    checks.push([
      `${one} names`,
      async () => {
        if (await nameExists(name, (p) => api.list({ name: p })))
          throw new CliError(`a ${one} named '${name}' already exists`, Exit.failed);
      },
    ]);
  }
  for (const [field, entries] of Object.entries(rules)) {
    for (const { type, name: raw } of entries) {
      const target = raw.trim(); // as the server reads it
      const what = RULE_TYPE_LABEL[type] ?? String(type);
      const list = lists[type];
      if (!list) continue;
      if (type === ownType && target === current)
        throw new CliError(
          `${field}: a group needs no rule for itself (members of a group always reach each other)`,
          Exit.failed,
        );
      checks.push([
        `${what} '${target}'`,
        async () => {
          if (!(await nameExists(target, list)))
            throw new LookupError(`${what} '${target}' does not exist (${field})`);
        },
      ]);
    }
  }
  await runChecks(ctx, checks);
}

function checkName(flag: string, value: string): string {
  const problem = groupNameProblem(value);
  if (problem) throw new UsageError(`${flag} ${problem}`);
  return value.trim();
}

/** A group's fields as a dry run reports them: what it would be after the change. */
interface GroupShape {
  name: string;
  note: string;
  allowed_incomings: RuleEntry[];
  allowed_outgoings?: RuleEntry[];
}

function groupShape(
  fields: { name: string; note?: string | null; rules: Record<string, RuleEntry[] | null | undefined> },
  accessTo: boolean,
): GroupShape {
  return {
    name: fields.name,
    note: fields.note ?? '',
    allowed_incomings: fields.rules['allowed_incomings'] ?? [],
    ...(accessTo ? { allowed_outgoings: fields.rules['allowed_outgoings'] ?? [] } : {}),
  };
}

/** The fields of a group update, in a dry run's summary. */
const FIELD_WORDS: Record<string, string> = {
  name: 'name',
  note: 'note',
  allowed_incomings: "'accessed from' rules",
  allowed_outgoings: "'access to' rules",
};

/** A dry run's lines under its summary: the group's fields as the view shows them. */
function describeShape(ctx: Ctx, g: GroupShape, accessTo: boolean, changed?: ReadonlySet<string>): void {
  const mark = (field: string) => (changed && !changed.has(field) ? ' (unchanged)' : '');
  ctx.out.info(`  name: ${visible(g.name)}${mark('name')}`);
  ctx.out.info(`  note: ${g.note === '' ? '(none)' : visible(g.note)}${mark('note')}`);
  ctx.out.info(
    `  accessed from: ${formatRules(g.allowed_incomings) || '(nobody)'}${mark('allowed_incomings')}`,
  );
  if (accessTo)
    ctx.out.info(
      `  access to: ${formatRules(g.allowed_outgoings) || '(nothing)'}${mark('allowed_outgoings')}`,
    );
}

function summarizeRules(ctx: Ctx, row: GroupRow | undefined, accessTo: boolean): void {
  if (!row || typeof row !== 'object') return;
  if (Array.isArray(row.allowed_incomings))
    ctx.out.info(`  accessed from: ${formatRules(row.allowed_incomings) || '(nobody)'}`);
  if (accessTo && Array.isArray(row.allowed_outgoings))
    ctx.out.info(`  access to: ${formatRules(row.allowed_outgoings) || '(nothing)'}`);
}

/** add --if-not-exists: what was given that the existing group does not have. */
function groupDifferences(
  area: string,
  g: GroupRow,
  note: string | undefined,
  rules: Record<string, RuleEntry[]>,
): Difference[] {
  const out: Difference[] = [];
  const update = `rdadmin ${area} update --name ${shellWord(g.name)}`;
  if (note !== undefined && (g.note ?? '') !== note)
    out.push({ field: 'note', have: shown(g.note), given: shown(note), how: `${update} --note …` });
  const key = (list: readonly RuleEntry[] | null | undefined) =>
    (list ?? [])
      .map((r) => `${r.type}:${r.name.trim()}`)
      .sort()
      .join('\n');
  for (const [field, flag] of [
    ['allowed_incomings', '--accessed-from'],
    ['allowed_outgoings', '--access-to'],
  ] as const) {
    const given = rules[field];
    if (given === undefined || key(given) === key(g[field])) continue;
    out.push({
      field: `${FIELD_WORDS[field]}`,
      have: `[${formatRules(g[field])}]`,
      given: `[${formatRules(given)}]`,
      how: `${update} ${flag} …`,
    });
  }
  return out;
}

export function groupVerbs<R extends GroupRow>(kind: GroupKind<R>): VerbSpec[] {
  const [one, many] = kind.noun;
  const area = kind.area;
  const ex = kind.example;
  const ruleOpts: OptSpec[] = [accessedFromOpt(one)];
  if (kind.accessTo) ruleOpts.push(accessToOpt);
  const toExample = kind.accessTo && ex.to ? ` --access-to '[{"type":1,"name":"${ex.to}"}]'` : '';

  const view: VerbSpec = {
    name: 'view',
    aliases: ['list'],
    summary: `List ${many} with their access rules`,
    description: prose(`List ${many} (all, or the one named by --name), with their access rules.
--name is an exact, case-sensitive name; a value holding '%' is used as a LIKE pattern.`),
    options: [selector('name', '<name>', `${one} name (exact)`)],
    examples: [
      `rdadmin ${area} view`,
      `rdadmin ${area} view --name "${ex.name}"`,
      `rdadmin ${area} view --json`,
    ],
    async run(ctx, o) {
      const name = str(o['name']);
      const api = kind.api(ctx);
      const rows: AsyncIterable<R> =
        name === undefined
          ? api.list({})
          : name.includes('%')
            ? api.list({ name })
            : exactRows(
                name,
                (p) => api.list({ name: p }),
                (r) => r.name,
              );
      if (ctx.out.json) {
        const arr = ctx.out.jsonArray();
        for await (const r of rows) arr.push(r);
        arr.end();
        return;
      }
      const n = await ctx.out.table(kind.columns, rows);
      if (n === 0) ctx.out.info(`Found 0 ${many}`);
    },
  };

  const add: VerbSpec = {
    name: 'add',
    aliases: ['create'],
    summary: `Create a ${one}`,
    description: prose(`Create a ${one}. --name is required. Access rules name groups and users by name, in
the scripts' JSON or the shorter KIND:NAME form; they are checked before anything is sent.
With --if-not-exists, a ${one} that already has that exact name is left as it is (a warning names
a note or rules given that differ), exit 0, so a provisioning job can run again.`),
    options: [
      opt('name', '<name>', `the new ${one} name`),
      opt('note', '<note>', 'note'),
      ...ruleOpts,
      ifNotExistsOpt(),
    ],
    examples: [
      `rdadmin ${area} add --name "${ex.name}" --note "description"`,
      `rdadmin ${area} add --name "${ex.name}" --accessed-from '[{"type":0,"name":"${ex.from}"}]'${toExample}`,
      `rdadmin ${area} add --name "${ex.name}" --accessed-from user-group:${ex.from},user:john`,
      `rdadmin ${area} add --name "${ex.name}" --if-not-exists --json`,
    ],
    async run(ctx, o) {
      required(o, [['name', '--name']], 'add', area);
      const name = checkName('--name', str(o['name'])!);
      const rules = ruleFields(o, kind.accessTo);
      const note = str(o['note']);
      const body = { name, ...(note !== undefined ? { note } : {}), ...rules };
      const once = ifNotExists(ctx, o, {
        what: `${one[0]!.toUpperCase()}${one.slice(1)} '${name}'`,
        find: () =>
          firstOf(
            exactRows(
              name,
              (p) => kind.api(ctx).list({ name: p }),
              (r) => r.name,
            ),
          ),
        json: (r) => ({ ...r }),
        differs: (r) => groupDifferences(area, r, note, rules),
      });
      if (await once.found()) return;
      if (ctx.flags.dryRun) {
        await dryRunChecks(ctx, kind, { name, rules });
        const would = groupShape({ name, note, rules }, kind.accessTo);
        if (ctx.out.json) ctx.out.jsonValue({ ...would, action: 'add', ...once.created, dry_run: true });
        ctx.out.info(`Dry run: would create ${one} '${name}'; nothing was changed.`);
        describeShape(ctx, would, kind.accessTo);
        return;
      }
      const created = (await once.create(() => kind.api(ctx).create(body))) as R | undefined | typeof EXISTED;
      if (created === EXISTED) return;
      if (ctx.out.json) {
        ctx.out.jsonValue({ ...(created ?? { name }), ...once.created });
        return;
      }
      ctx.out.success(`Created ${one} '${name}'.`);
      summarizeRules(ctx, created, kind.accessTo);
    },
  };

  const update: VerbSpec = {
    name: 'update',
    summary: `Change a ${one}'s name, note or access rules`,
    description: prose(`Change a ${one}: only what is given changes. A rule flag replaces that whole list
('[]' clears it). With nothing to change it is a usage error (exit 2), not an empty request.`),
    options: [
      opt('name', '<name>', `the ${one} (exact name)`),
      opt('new-name', '<name>', 'rename it'),
      opt('note', '<note>', "new note ('' clears it)"),
      ...ruleOpts,
    ],
    examples: [
      `rdadmin ${area} update --name "${ex.name}" --new-name "New name" --note "new note"`,
      `rdadmin ${area} update --name "${ex.name}" --accessed-from user-group:${ex.from}`,
      `rdadmin ${area} update --name "${ex.name}" --accessed-from '[]'`,
    ],
    async run(ctx, o) {
      required(o, [['name', '--name']], 'update', area);
      const newName = str(o['newName']);
      const note = str(o['note']);
      const rules = ruleFields(o, kind.accessTo);
      const body: Record<string, unknown> = {
        ...(newName !== undefined ? { name: checkName('--new-name', newName) } : {}),
        ...(note !== undefined ? { note } : {}),
        ...rules,
      };
      if (Object.keys(body).length === 0) {
        const flags = ['--new-name', '--note', '--accessed-from', ...(kind.accessTo ? ['--access-to'] : [])];
        throw new UsageError(
          `update needs something to change: ${flags.join(', ')}`,
          `see rdadmin ${area} update --help`,
        );
      }
      const name = str(o['name'])!;
      const group = await resolveGroup(ctx, kind, name);
      if (ctx.flags.dryRun) {
        const renamed = typeof body['name'] === 'string' && body['name'] !== name ? body['name'] : undefined;
        await dryRunChecks(ctx, kind, { name: renamed, current: group.name, rules });
        // The group as it would be: the fields given, the others as they are now.
        const would = groupShape(
          {
            name: typeof body['name'] === 'string' ? body['name'] : group.name,
            note: note ?? group.note,
            rules: {
              allowed_incomings: rules['allowed_incomings'] ?? group.allowed_incomings,
              allowed_outgoings: rules['allowed_outgoings'] ?? group.allowed_outgoings,
            },
          },
          kind.accessTo,
        );
        if (ctx.out.json)
          ctx.out.jsonValue({ guid: group.guid, name, changes: body, group: would, dry_run: true });
        const fields = Object.keys(body).map((k) => FIELD_WORDS[k] ?? k);
        ctx.out.info(
          `Dry run: would update ${one} '${name}' (${fields.join(', ')} ${fields.length === 1 ? 'changes' : 'change'}); nothing was changed.`,
        );
        describeShape(ctx, would, kind.accessTo, new Set(Object.keys(body)));
        return;
      }
      const updated = (await kind.api(ctx).update(group.guid, body)) as R | undefined;
      if (ctx.out.json) {
        ctx.out.jsonValue(updated ?? { guid: group.guid, ...body });
        return;
      }
      ctx.out.success(
        `Updated ${one} '${name}'${newName && newName !== name ? ` (now '${newName.trim()}')` : ''}.`,
      );
      summarizeRules(ctx, updated, kind.accessTo);
    },
  };

  const del: VerbSpec = {
    name: 'delete',
    summary: `Delete ${many} (a comma list of exact names)`,
    description: prose(`Delete ${many}. --name takes one exact name or a comma list. Every name is looked up
before anything is deleted: a name that is not found deletes nothing (exit 1). More than one group
is confirmed on a terminal; without one, pass --yes. With --if-exists, a name that is not there
is reported as already gone ("${one[0]!.toUpperCase()}${one.slice(1)} 'X' is not there; nothing to
delete.") and is not an error: the others are deleted, exit 0 (--json: its entry has "ok": true,
"attempted": false, "outcome": "absent"), so a teardown job can run again.${
      kind.accessTo
        ? '\nA user group that still has users is refused: move them first (add-users to another group).\nThe Default group cannot be deleted.'
        : '\nThe devices of a deleted device group become ungrouped.'
    }`),
    options: [opt('name', '<names>', `${one} name, or a comma list of names`), ifExistsOpt()],
    examples: [
      `rdadmin ${area} delete --name "${ex.name}"`,
      `rdadmin ${area} delete --name "Group1,Group2,Group3" --yes`,
      `rdadmin ${area} delete --name "Group1,Group2" --dry-run`,
      `rdadmin ${area} delete --name "${ex.name}" --if-exists --json`,
    ],
    async run(ctx, o) {
      required(o, [['name', '--name']], 'delete', area);
      const names = commaList(str(o['name']));
      if (names.length === 0)
        throw new UsageError('--name holds no names', 'example: --name "Group1,Group2"');
      const found = await inBatches(ctx, names.length, (parallel) =>
        mapLimit(names, parallel, async (n) => {
          try {
            return await resolveGroup(ctx, kind, n);
          } catch (err) {
            if (err instanceof LookupError) return err;
            throw err;
          }
        }),
      );
      // --if-exists: a name not found is gone (reported, not an error); an ambiguous one still fails.
      const gone = ifExistsOn(o) ? names.filter((_, i) => found[i] instanceof NotFoundError) : [];
      const goneAbsent = gone.map((n) =>
        absent(`${one[0]!.toUpperCase()}${one.slice(1)} '${n}'`, { name: n }),
      );
      const missing = found.filter(
        (f): f is LookupError => f instanceof LookupError && !(gone.length && f instanceof NotFoundError),
      );
      if (missing.length) {
        throw new LookupError(
          `${missing.map((e) => e.message).join('; ')}: nothing was deleted`,
          missing
            .map((e) => e.hint)
            .filter(Boolean)
            .join('; ') || `list them with rdadmin ${area} view`,
        );
      }
      const there = found.filter((f): f is R => !(f instanceof LookupError));
      // A dry run refuses what the real run would be refused, group by group.
      const refusals = new Map<string, string>();
      if (ctx.flags.dryRun && kind.deleteRefusal) {
        const check = kind.deleteRefusal;
        const reasons = await mapLimit(there, ctx.config.concurrency, (g) => check(ctx, g));
        there.forEach((g, i) => {
          if (reasons[i] !== undefined) refusals.set(g.guid, reasons[i]!);
        });
      }
      const rows = await confirmTargets(ctx, {
        noun: kind.noun,
        verb: 'delete',
        rows: there,
        absent: goneAbsent,
        label: (g) => g.name,
        describe: (g) => ({ guid: g.guid, name: g.name }),
        exact: () => true,
        refuse: (g) => refusals.get(g.guid),
      });
      if (!rows) return;
      const api = kind.api(ctx);
      return runBulk(ctx, rows, {
        done: 'Deleted',
        verb: 'delete',
        noun: kind.noun,
        label: (g) => g.name,
        describe: (g) => ({ guid: g.guid, name: g.name }),
        absent: goneAbsent,
        action: (g) => api.delete(g.guid),
      });
    },
  };

  return [view, add, update, del];
}
