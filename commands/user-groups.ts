import { type BulkResult, endRun, type Failure, failureOf, inBatches, resultLine } from '../src/cli/bulk';
import { AuthError, LookupError, PartialFailure, UsageError } from '../src/cli/errors';
import { confirmNamed } from '../src/cli/select';
import { type AreaSpec, opt, selector, str, type VerbSpec } from '../src/cli/verb';
import { commaList, wildcard } from '../src/client/filters';
import { exactRows, resolveExact } from '../src/client/resolve';
import { DEFAULT_USER_GROUP, formatRules } from '../src/wire/access';
import type { UserGroupRow } from '../src/wire/groups';
import { USER_STATUS_LABEL } from '../src/wire/rules';
import type { UserRow } from '../src/wire/users';
import {
  type GroupKind,
  groupMustExist,
  groupVerbs,
  mapLimit,
  prose,
  required,
  resolveGroup,
} from './groups-common';

// Mirrors user_group.py / user-groups.py: the same verbs and flags, with access rules checked
// before any request (D-21), `update` refusing to send nothing (D-22), `delete` resolving every
// name first (D-6) and `add-users` finding users exactly, across every page (D-2).

const AREA = 'user-groups';

export const userGroupKind: GroupKind<UserGroupRow> = {
  area: AREA,
  noun: ['user group', 'user groups'],
  api: (ctx) => ctx.api.userGroups,
  accessTo: true,
  columns: [
    { header: 'NAME', value: (g) => g.name },
    {
      header: 'USERS',
      value: (g) => (g.user_count === undefined || g.user_count === null ? '' : String(g.user_count)),
    },
    { header: 'ACCESSED FROM', value: (g) => formatRules(g.allowed_incomings) },
    { header: 'ACCESS TO', value: (g) => formatRules(g.allowed_outgoings) },
    { header: 'NOTE', value: (g) => g.note ?? '' },
  ],
  example: { name: 'Engineering', from: 'Managers', to: 'Dev Servers' },
  deleteRefusal: async (ctx, g) => {
    if (g.name === DEFAULT_USER_GROUP) return `the '${DEFAULT_USER_GROUP}' user group cannot be deleted`;
    // The row's count where the server gives one (rdadmin serve), else the group's users counted.
    let n = typeof g.user_count === 'number' ? g.user_count : undefined;
    if (n === undefined) {
      try {
        n = 0;
        for await (const _ of exactRows(
          g.name,
          (p) => ctx.api.users.list({ group_name: p }),
          (u) => u.group_name,
        ))
          n++;
      } catch (err) {
        if (!(err instanceof AuthError)) throw err;
        ctx.out.warn(`could not check whether user group '${g.name}' still has users: ${err.message}`);
        return undefined;
      }
    }
    if (n === 0) return undefined;
    return `user group '${g.name}' still has ${n} user${n === 1 ? '' : 's'}: move them to another group first (add them to it, e.g. to '${DEFAULT_USER_GROUP}'), then delete the group`;
  },
};

const userColumns = [
  { header: 'NAME', value: (u: UserRow) => u.name },
  { header: 'EMAIL', value: (u: UserRow) => u.email ?? '' },
  { header: 'GROUP', value: (u: UserRow) => u.group_name ?? '' },
  { header: 'STATUS', value: (u: UserRow) => USER_STATUS_LABEL[u.status] ?? String(u.status) },
  { header: 'NOTE', value: (u: UserRow) => u.note ?? '' },
];

const viewUsers: VerbSpec = {
  name: 'view-users',
  summary: 'List the users of a user group (needs the user:r permission)',
  description: prose(`List users with their group. --name is the group (exact, case-sensitive); --user-name
is a substring match (a value holding '%' is a LIKE pattern, '-' means "not set"). Without
either, every user is listed.`),
  options: [
    selector('name', '<group>', 'user group name (exact)'),
    selector('user-name', '<name>', 'user name (substring match)'),
  ],
  examples: [
    'rdadmin user-groups view-users --name Default',
    'rdadmin user-groups view-users --name Default --user-name john',
    'rdadmin user-groups view-users --user-name john --json',
  ],
  async run(ctx, o) {
    const group = str(o['name']) || undefined;
    const userName = str(o['userName']);
    const name = userName === undefined ? undefined : wildcard(userName);
    const rows: AsyncIterable<UserRow> =
      group === undefined
        ? ctx.api.users.list({ name })
        : exactRows(
            group,
            (p) => ctx.api.users.list({ name, group_name: p }),
            (u) => u.group_name,
          );
    let n = 0;
    if (ctx.out.json) {
      const arr = ctx.out.jsonArray();
      for await (const u of rows) {
        arr.push(u);
        n++;
      }
      // A group that does not exist is an error (exit 1), not an empty group.
      if (n === 0 && group !== undefined) await groupMustExist(ctx, userGroupKind, group);
      arr.end();
      return;
    }
    n = await ctx.out.table(userColumns, rows);
    if (n === 0 && group !== undefined) await groupMustExist(ctx, userGroupKind, group);
    if (n === 0) ctx.out.info('Found 0 users');
  },
};

interface Member {
  name: string;
  user?: UserRow;
  error?: string;
}

const addUsers: VerbSpec = {
  name: 'add-users',
  summary: 'Move users into a user group (a user is in exactly one group)',
  description: prose(`Move users into a user group; they leave the group they were in. --users is a comma
list of exact user names, each found across every page of the user list (names with '_' or '%'
are matched literally). Unknown names are reported; the others are still moved, and the exit code
is then 1 (with --dry-run too, which looks every name up and changes nothing). Users already in the
group are reported and left alone. Moving more than one user is
confirmed on a terminal; without one, pass --yes. Looking users up needs the user:r permission.`),
  options: [
    opt('name', '<group>', 'user group name (exact)'),
    opt('users', '<names>', 'comma-separated user names'),
  ],
  examples: [
    'rdadmin user-groups add-users --name "Engineering" --users "user1,user2,user3"',
    'rdadmin user-groups add-users --name Default --users john --dry-run',
  ],
  async run(ctx, o) {
    required(
      o,
      [
        ['name', '--name'],
        ['users', '--users'],
      ],
      'add-users',
      AREA,
    );
    const names = commaList(str(o['users']));
    if (names.length === 0) throw new UsageError('--users holds no names', 'example: --users "user1,user2"');
    const groupName = str(o['name'])!;
    const group = await resolveGroup(ctx, userGroupKind, groupName);
    const members: Member[] = await inBatches(ctx, names.length, (parallel) =>
      mapLimit(names, parallel, async (name) => {
        try {
          return { name, user: await resolveExact('user', name, (p) => ctx.api.users.list({ name: p })) };
        } catch (err) {
          if (err instanceof LookupError) return { name, error: err.message };
          throw err;
        }
      }),
    );
    const found = members.filter((m) => m.user);
    const failed = members.filter((m) => m.error);
    // Users already in the group are reported, not sent: only the others change, in one request.
    const moving = found.filter((m) => m.user!.group_name !== group.name);
    const sent = new Set(moving); // a Set: add-users may name thousands of users
    // How the users of a failed request are reported: as runBulk reports its targets.
    const spec = {
      done: 'Added',
      verb: 'add',
      noun: ['user', 'users'] as [string, string],
      label: (m: Member) => m.name,
    };
    /** Every name's result; `lost`: what became of the users the request carried, when it failed. */
    const report = (lost?: Omit<Failure, 'stop'>) => {
      const result = (m: Member): BulkResult<Member> | undefined =>
        lost && sent.has(m) ? { target: m, ok: false, ...lost } : undefined;
      if (ctx.out.json) {
        ctx.out.jsonValue(
          members.map((m) => {
            if (!m.user) return { name: m.name, ok: false, error: m.error };
            const r = result(m);
            return {
              name: m.name,
              guid: m.user.guid,
              group: group.name,
              ...(r
                ? {
                    ok: false,
                    attempted: r.attempted,
                    outcome: r.outcome,
                    error: r.error,
                    ...(r.status ? { status: r.status } : {}),
                  }
                : { ok: true, previous_group: m.user.group_name ?? null }),
              ...(ctx.flags.dryRun ? { dry_run: true } : {}),
            };
          }),
        );
        return;
      }
      for (const m of members) {
        const r = result(m);
        if (m.error) ctx.out.info(`FAILED ${m.name}: ${m.error}`);
        else if (r) ctx.out.info(resultLine(spec, r));
        else {
          const from = m.user!.group_name;
          ctx.out.data(
            from === group.name
              ? `${m.name}: already in '${group.name}'`
              : `${ctx.flags.dryRun ? 'Would add' : 'Added'} ${m.name}${from ? ` (from '${from}')` : ''}`,
          );
        }
      }
    };
    if (found.length === 0) {
      report();
      throw new LookupError(
        `no valid users found: ${failed.map((m) => m.error).join('; ')}`,
        'list users with rdadmin users view --name …',
      );
    }
    const already = found.length - moving.length;
    const tail = already ? ` (${already} already in it)` : '';
    if (ctx.flags.dryRun) {
      report();
      ctx.out.info(
        `Dry run: would add ${moving.length} user(s) to '${group.name}'${tail}; nothing was changed.`,
      );
      // As the real run: the names not found fail it (exit 1), the others would still be moved.
      if (failed.length)
        throw new PartialFailure(
          `${failed.length} not found (${failed.map((m) => m.name).join(', ')}): the real run would fail for ${failed.length === 1 ? 'it' : 'them'}`,
        );
      return;
    }
    if (moving.length > 0) {
      await confirmNamed(ctx, {
        verb: 'add',
        noun: ['user', 'users'],
        labels: moving.map((m) => `${m.name}${m.user!.group_name ? ` (from '${m.user!.group_name}')` : ''}`),
        question: `Move ${moving.length} users into '${group.name}'?`,
      });
      try {
        await ctx.api.userGroups.addUsers(
          group.guid,
          moving.map((m) => m.user!.guid),
        );
      } catch (err) {
        // One request moved them all: each of its users ends as that request did (failed,
        // unknown, not attempted); a name not found is failed; the summary and exit are runBulk's.
        const { stop, ...lost } = failureOf(err);
        report(lost);
        const outcomes = [...failed.map(() => ({ outcome: 'failed' as const })), ...moving.map(() => lost)];
        return endRun(ctx, spec, outcomes, stop);
      }
    }
    report();
    const msg = `Added ${moving.length} user(s) to group '${group.name}'${tail}`;
    if (failed.length)
      throw new PartialFailure(
        `${msg}; ${failed.length} not found (${failed.map((m) => m.name).join(', ')}).`,
      );
    ctx.out.success(`${msg}.`);
  },
};

export const userGroupsArea: AreaSpec = {
  name: 'user-groups',
  aliases: ['user_group', 'user-group', 'user_groups'],
  summary: 'Manage user groups and their access rules (user_group.py)',
  description: prose(`Manage user groups, like user_group.py (user-groups.py upstream). Every user is in
exactly one group; 'Default' always exists. Access rules: --accessed-from lists who may access the
devices of the group's users (0 user group, 2 user); --access-to what its users may access
(0 user group, 1 device group). Give them as the scripts' JSON or as user-group:NAME,user:NAME.
Permissions: view/add/update/delete/add-users need user_group (add-users also user:r to find the
users); view-users needs user:r.`),
  verbs: [...groupVerbs(userGroupKind), viewUsers, addUsers],
};
