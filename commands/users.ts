import { runBulk } from '../src/cli/bulk';
import { readSecret } from '../src/cli/config';
import type { Ctx } from '../src/cli/context';
import { ApiError, AuthError, CliError, Exit, UsageError } from '../src/cli/errors';
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
import { confirmTargets } from '../src/cli/select';
import { type AreaSpec, opt, selector, str, type VerbSpec } from '../src/cli/verb';
import { type AccessAnswer, reachableBy } from '../src/client/access-explain';
import { wildcard } from '../src/client/filters';
import { collect } from '../src/client/iter';
import { exactRows, resolveExact } from '../src/client/resolve';
import { passwordProblem, USER_STATUS_LABEL } from '../src/wire/rules';
import { type UserRow, UserStatus } from '../src/wire/users';

// Mirrors users.py: the same verbs and flags (`--group_name` and `--group-name` both work), with
// the safety rules of engineering.md §6 on every verb that changes users.

const NOUN: [string, string] = ['user', 'users'];

const nameOpt = selector(
  'name',
  '<name>',
  "user name, a LIKE match: a substring unless it holds '%'; '_' matches any one character (build_bot also finds buildXbot); --exact for the whole name, taken literally",
);
const groupOpt = selector(
  'group_name',
  '<group>',
  "user group, a LIKE match: a substring unless it holds '%'; '_' matches any one character",
);
const exactOpt = opt('exact', undefined, '--name must match the whole name exactly (case-sensitive)');

const columns = [
  { header: 'NAME', value: (u: UserRow) => u.name },
  { header: 'EMAIL', value: (u: UserRow) => u.email ?? '' },
  { header: 'GROUP', value: (u: UserRow) => u.group_name ?? '' },
  { header: 'STATUS', value: (u: UserRow) => USER_STATUS_LABEL[u.status] ?? String(u.status) },
  { header: 'ADMIN', value: (u: UserRow) => (u.is_admin ? 'yes' : 'no') },
  { header: 'NOTE', value: (u: UserRow) => u.note ?? '' },
];

/**
 * The users --name / --group_name select. With --exact, those named exactly --name: asked for with
 * the escaped name, and with the raw one where a server ignores `\` escapes (exactRows).
 */
function listed(ctx: Ctx, o: Record<string, unknown>): AsyncIterable<UserRow> {
  const name = str(o['name']);
  const group = str(o['groupName']);
  const group_name = group === undefined ? undefined : wildcard(group);
  if (o['exact'] && name !== undefined)
    return exactRows(
      name,
      (pattern) => ctx.api.users.list({ name: pattern, group_name }),
      (u) => u.name,
    );
  return ctx.api.users.list({ name: name === undefined ? undefined : wildcard(name), group_name });
}

/**
 * Lists the users a mutating verb would touch and passes them through the safety gate; `refuse`
 * names what the server would refuse (a dry run reports it, exit 1).
 */
async function selectUsers(
  ctx: Ctx,
  o: Record<string, unknown>,
  verb: string,
  refuse?: (u: UserRow) => string | undefined,
): Promise<UserRow[] | null> {
  const name = str(o['name']);
  if (name === undefined && str(o['groupName']) === undefined && !ctx.flags.all) {
    throw new UsageError(
      `refusing to ${verb} every user: no filter given`,
      'select users with --name / --group_name, or pass --all to act on all of them',
    );
  }
  const rows = await collect(listed(ctx, o));
  const named =
    o['exact'] && name !== undefined
      ? `user '${name}'${o['groupName'] !== undefined ? ` in group '${str(o['groupName'])}'` : ''}`
      : undefined;
  // --if-exists: the user named exactly is not there: already gone, exit 0.
  const gone =
    named !== undefined && rows.length === 0 && ifExistsOn(o)
      ? [absent(`${named[0]!.toUpperCase()}${named.slice(1)}`, { name })]
      : undefined;
  return confirmTargets(ctx, {
    noun: NOUN,
    verb,
    rows,
    label: (u) => u.name,
    describe: (u) => ({ guid: u.guid, name: u.name }),
    exact: (u) => name !== undefined && u.name === name,
    ...(refuse ? { refuse } : {}),
    ...(named !== undefined ? { named } : {}),
    ...(gone ? { absent: gone } : {}),
  });
}

/** As the server (and Pro) rule: a user is disabled before it is deleted. */
function deleteRefused(u: UserRow): string | undefined {
  return u.status === UserStatus.enabled
    ? `user '${u.name}' is enabled: disable it first, then delete it`
    : undefined;
}

function perUser(
  name: string,
  done: string,
  summary: string,
  call: (ctx: Ctx, guid: string) => Promise<unknown>,
  refuse?: (u: UserRow) => string | undefined,
  /** Takes --if-exists (disable, delete): a user named with --exact that is not there is gone. */
  ifExists = false,
): VerbSpec {
  return {
    name,
    summary,
    ...(ifExists
      ? {
          description: `${summary}. With --exact, a user named that is not there is an error (exit 1); with
--if-exists too, it is reported as already gone ("User 'X' is not there; nothing to ${name}.") and is
not an error, exit 0 (--json: [{"name": …, "action": "${name}", "ok": true, "attempted": false,
"outcome": "absent"}]), so a teardown job can run again. --if-exists needs --exact.`,
        }
      : {}),
    options: [nameOpt, groupOpt, exactOpt, ...(ifExists ? [ifExistsOpt()] : [])],
    examples: [
      `rdadmin users ${name} --name testuser`,
      `rdadmin users ${name} --group_name Contractors --dry-run`,
      ...(ifExists ? [`rdadmin users ${name} --name ci-bot --exact --if-exists`] : []),
    ],
    async run(ctx, o) {
      if (ifExistsOn(o) && !o['exact'])
        throw new UsageError(
          '--if-exists needs --exact (a filter that matches nothing already exits 0: Found 0)',
          `rdadmin users ${name} --name NAME --exact --if-exists`,
        );
      const rows = await selectUsers(ctx, o, name, refuse);
      if (!rows) return;
      return runBulk(ctx, rows, {
        done,
        verb: name,
        noun: NOUN,
        label: (u) => u.name,
        describe: (u) => ({ guid: u.guid, name: u.name }),
        action: (u) => call(ctx, u.guid),
      });
    },
  };
}

const BATCH = 500;

/** Verbs whose endpoint takes a list of GUIDs: one request per batch, one result per user. */
function batched(
  name: string,
  done: string,
  summary: string,
  call: (ctx: Ctx, guids: string[], o: Record<string, unknown>) => Promise<unknown>,
  extra: Partial<VerbSpec> & {
    validate?: (o: Record<string, unknown>) => void;
    /** The verb ends every session of its targets: the caller's own account goes last (ownAccount). */
    endsSessions?: boolean;
  } = {},
): VerbSpec {
  return {
    name,
    summary,
    options: [nameOpt, groupOpt, exactOpt, ...(extra.options ?? [])],
    examples: extra.examples ?? [`rdadmin users ${name} --name username`],
    description: extra.description,
    async run(ctx, o) {
      extra.validate?.(o);
      const rows = await selectUsers(ctx, o, name);
      if (!rows) return;
      const own = extra.endsSessions ? await ownAccount(ctx, rows) : undefined;
      // Up to BATCH users per request; an administrator in a request of its own, since an API
      // token may not change administrator accounts (rdadmin serve refuses the whole request), and
      // that must fail the administrator alone. The caller's own account too: it goes last.
      const chunks: string[][] = [];
      const chunkOf = new Map<string, number>();
      let open: number | undefined;
      for (const u of rows) {
        if (u.is_admin || u === own) {
          chunkOf.set(u.guid, chunks.push([u.guid]) - 1);
          continue;
        }
        if (open === undefined || chunks[open]!.length >= BATCH) open = chunks.push([]) - 1;
        chunks[open]!.push(u.guid);
        chunkOf.set(u.guid, open);
      }
      const sent = new Map<number, Promise<unknown>>();
      return runBulk(ctx, rows, {
        done,
        verb: name,
        noun: NOUN,
        label: (u) => u.name,
        describe: (u) => ({ guid: u.guid, name: u.name }),
        ...(own ? { last: (u: UserRow) => u === own } : {}),
        action: async (u) => {
          const k = chunkOf.get(u.guid)!;
          if (!sent.has(k)) sent.set(k, call(ctx, chunks[k]!, o));
          const answer = await sent.get(k)!;
          if (u === own) await sayOwnSessionEnded(ctx, own);
          return answer;
        },
      });
    },
  };
}

/**
 * Among `rows`, the account whose session this command works with (POST /api/currentUser), which a
 * force-logout must do last: it ends that session, and every request after it would fail (401).
 * None with an API token (rdadmin serve answers 403: a token has no session, and ending its
 * owner's sessions leaves it working).
 */
async function ownAccount(ctx: Ctx, rows: UserRow[]): Promise<UserRow | undefined> {
  if (!rows.length) return undefined;
  try {
    const me = await ctx.api.auth.currentUser();
    return rows.find((u) => u.name === me.name);
  } catch (err) {
    if (err instanceof AuthError || err instanceof ApiError) return undefined;
    throw err;
  }
}

/** After the caller's own account was logged out: says so when this command's session went with it. */
async function sayOwnSessionEnded(ctx: Ctx, own: UserRow): Promise<void> {
  try {
    await ctx.api.auth.currentUser();
    return; // still valid (a server that keeps it): nothing to say
  } catch (err) {
    if (!(err instanceof AuthError)) return;
  }
  ctx.out.warn(
    `${own.name} is the account of this command's own session, so it was logged out last: this session has ended too (the token from ${ctx.config.tokenSource ?? 'the profile'} no longer works); run \`rdadmin login\` again to go on`,
  );
}

function required(o: Record<string, unknown>, flags: [string, string][], verb: string): void {
  const missing = flags.filter(([key]) => !str(o[key])?.trim()).map(([, flag]) => flag);
  if (missing.length)
    throw new UsageError(`${verb} needs ${missing.join(', ')}`, `see rdadmin users ${verb} --help`);
}

/** The flags of new / invite, for the messages of the server's checks (ctx.api.users.checkCreate). */
const NEW_USER_FLAGS = {
  name: '--name',
  group_name: '--group_name',
  email: '--email',
  note: '--note',
  password: '--password',
};

interface NewUser {
  name: string;
  group_name: string;
  email?: string;
  note?: string;
  renew?: boolean;
}

/**
 * --dry-run of new / invite: the refusals a real run would get, found by reads only (the group
 * exists, the name is free), then what would be done. The password is never shown.
 */
async function dryRunNewUser(
  ctx: Ctx,
  action: 'create' | 'invite',
  user: NewUser,
  what: string,
  extra: Record<string, unknown> = {},
) {
  try {
    await resolveExact('user group', user.group_name, (p) => ctx.api.userGroups.list({ name: p }));
  } catch (err) {
    // A token for users alone (User read/write) may not read user groups: the server checks the
    // group when the user is created.
    if (!(err instanceof AuthError)) throw err;
    ctx.out.warn(`could not check that user group '${user.group_name}' exists: ${err.message}`);
  }
  let existing: UserRow | undefined;
  for await (const row of exactRows(
    user.name,
    (p) => ctx.api.users.list({ name: p }),
    (u) => u.name,
  ))
    existing = row;
  if (existing) {
    // rdadmin serve renews the invitation of a user who never accepted one (the row then carries
    // invitation_expires_at), invited with the same email into the same group.
    const renewable =
      action === 'invite' &&
      existing.invitation_expires_at !== undefined &&
      existing.email?.toLowerCase() === user.email?.toLowerCase() &&
      existing.group_name === user.group_name;
    if (!renewable) throw new CliError(`a user named '${user.name}' already exists`, Exit.failed);
    // As the server rules: a link that still works is replaced only when asked; a disabled user's
    // link is suspended, and inviting them again renews it.
    const until = existing.invitation_expires_at;
    if (existing.status === UserStatus.unverified && until && Date.parse(until) > Date.now() && !user.renew)
      throw new CliError(
        `a user named '${user.name}' already exists, invited as <${existing.email}>, and that invitation's link works until ${until}`,
        Exit.failed,
        'pass --renew for a new link (the earlier one then stops working)',
      );
    if (ctx.out.json) ctx.out.jsonValue({ ...user, action: 'renew invitation', dry_run: true });
    ctx.out.info(
      `Dry run: would renew the invitation of ${user.name} <${user.email}> (a new link; the earlier one would stop working); nothing was changed.`,
    );
    return;
  }
  if (ctx.out.json) ctx.out.jsonValue({ ...user, action, ...extra, dry_run: true });
  ctx.out.info(`Dry run: would ${what}; nothing was changed.`);
}

/** users new --if-not-exists: what was given that the existing user does not have. */
function userDifferences(u: UserRow, user: NewUser): Difference[] {
  const out: Difference[] = [];
  if (u.group_name !== user.group_name)
    out.push({
      field: 'group',
      have: shown(u.group_name),
      given: shown(user.group_name),
      how: `rdadmin user-groups add-users --name ${shellWord(user.group_name)} --users ${shellWord(u.name)}`,
    });
  const noVerb = (what: string) =>
    `rdadmin has no verb that changes a user's ${what} (the web console of Pro does)`;
  if (user.email !== undefined && (u.email ?? '').toLowerCase() !== user.email.toLowerCase())
    out.push({ field: 'email', have: shown(u.email), given: shown(user.email), how: noVerb('email') });
  if (user.note !== undefined && (u.note ?? '') !== user.note)
    out.push({ field: 'note', have: shown(u.note), given: shown(user.note), how: noVerb('note') });
  return out;
}

const view: VerbSpec = {
  name: 'view',
  aliases: ['list'],
  summary: 'List users (all of them, or those matching --name / --group_name)',
  options: [nameOpt, groupOpt, exactOpt],
  examples: [
    'rdadmin users view --group_name Default',
    'rdadmin users view --name john',
    "rdadmin users view --name 'j%n' --json",
  ],
  async run(ctx, o) {
    const rows = listed(ctx, o);
    if (ctx.out.json) {
      const arr = ctx.out.jsonArray();
      for await (const u of rows) arr.push(u);
      arr.end();
      return;
    }
    const n = await ctx.out.table(columns, rows);
    if (n === 0) ctx.out.info('Found 0 users');
  },
};

const canReach: VerbSpec = {
  name: 'can-reach',
  summary: 'List the devices a user may connect to, and why',
  description: `Every device user --name (exact) may connect to by the access rules, with the grants that let them in (see rdadmin devices explain-access). Reads every user and group once, then streams the devices; works against Pro and rdadmin serve alike. A summary goes to stderr.`,
  options: [selector('name', '<name>', 'the user (exact name)')],
  examples: ['rdadmin users can-reach --name alice', 'rdadmin users can-reach --name alice --json'],
  async run(ctx, o) {
    const name = str(o['name']);
    if (!name) throw new UsageError('can-reach needs --name');
    let seen = 0;
    let n = 0;
    // What stopped how many devices: one that stopped every device (the user is disabled) is said.
    const stopped = new Map<string, number>();
    async function* reachable() {
      for await (const a of reachableBy(ctx.api, name!)) {
        seen++;
        for (const b of a.blockers) stopped.set(b, (stopped.get(b) ?? 0) + 1);
        if (!a.reachable) continue;
        n++;
        yield a;
      }
    }
    if (ctx.out.json) {
      const arr = ctx.out.jsonArray();
      for await (const a of reachable()) arr.push(a);
      arr.end();
    } else
      await ctx.out.table(
        [
          { header: 'DEVICE', value: (a: AccessAnswer) => a.device },
          { header: 'WHY', value: (a: AccessAnswer) => a.grants.join('; ') },
        ],
        reachable(),
      );
    const everywhere = [...stopped].filter(([, c]) => seen > 0 && c === seen).map(([b]) => b);
    ctx.out.info(
      `${name} may connect to ${n} of ${seen} devices${everywhere.length ? ` (${everywhere.join('; ')})` : ''}.`,
    );
  },
};

const create: VerbSpec = {
  name: 'new',
  aliases: ['create'],
  summary: 'Create a user',
  description: `Create a user. --name, --password (or --password-stdin) and --group_name are required.
The password must be between 8 and 128 characters. With --if-not-exists, a user who already has
that exact name is left as it is (password, group, email and note too: a warning names what
differs), exit 0, so a provisioning job can run again.`,
  options: [
    opt('name', '<name>', 'the new user name'),
    opt('group_name', '<group>', 'the user group (exact name)'),
    opt('password', '<password>', 'the password (visible in the process list; prefer --password-stdin)'),
    opt('password_stdin', undefined, 'read the password from the first line of stdin'),
    opt('email', '<email>', 'email address'),
    opt('note', '<note>', 'note'),
    ifNotExistsOpt(),
  ],
  examples: [
    "rdadmin users new --name username --password 'password123' --group_name Default --email user@example.com --note 'note'",
    'printf \'%s\\n\' "$PW" | rdadmin users new --name ci-bot --password-stdin --group_name Default',
    'printf \'%s\\n\' "$PW" | rdadmin users new --name ci-bot --password-stdin --group_name Default --if-not-exists --json',
  ],
  async run(ctx, o) {
    let password = str(o['password']);
    if (o['passwordStdin']) password = await readSecret('-', ctx.io, 'the password');
    if (o['password'] !== undefined && !o['passwordStdin']) {
      ctx.out.warn(
        'a password given with --password is visible in the process list; prefer --password-stdin',
      );
    }
    required(
      { ...o, password },
      [
        ['name', '--name'],
        ['password', '--password'],
        ['groupName', '--group_name'],
      ],
      'new',
    );
    const problem = passwordProblem(password!);
    if (problem) throw new UsageError(problem);
    const email = str(o['email']);
    const note = str(o['note']);
    // Checked, and trimmed, as the server does: a dry run refuses what the real run would be
    // refused, and the name reported is the one stored.
    const { password: checked, ...user }: NewUser & { password: string } = ctx.api.users.checkCreate(
      {
        name: str(o['name'])!,
        group_name: str(o['groupName'])!,
        password: password!,
        ...(email ? { email } : {}),
        ...(note ? { note } : {}),
      },
      NEW_USER_FLAGS,
    );
    // --if-not-exists: a user of that exact name is reported and left alone (its password too).
    const once = ifNotExists(ctx, o, {
      what: `User '${user.name}'`,
      find: () =>
        firstOf(
          exactRows(
            user.name,
            (p) => ctx.api.users.list({ name: p }),
            (u) => u.name,
          ),
        ),
      json: (u) => ({ ...u }),
      differs: (u) => userDifferences(u, user),
    });
    if (await once.found()) return;
    if (ctx.flags.dryRun)
      return dryRunNewUser(
        ctx,
        'create',
        user,
        `create user ${user.name} in group '${user.group_name}'`,
        once.created,
      );
    const created = (await once.create(() => ctx.api.users.create({ ...user, password: checked }))) as
      | Record<string, unknown>
      | null
      | typeof EXISTED;
    if (created === EXISTED) return;
    // The server's answer where it says (rdadmin serve answers the stored user), else what was sent.
    const name = typeof created?.['name'] === 'string' ? created['name'] : user.name;
    if (ctx.out.json)
      ctx.out.jsonValue({
        ...(created && typeof created === 'object' ? { name, ...created } : { name }),
        ...once.created,
      });
    else ctx.out.success(`Created user ${name}.`);
  },
};

const invite: VerbSpec = {
  name: 'invite',
  summary: 'Invite a user by email',
  description: `Invite a user: --email, --name and --group_name are required.
A RustDesk Server Pro emails the invitation. \`rdadmin serve\` sends no email: it answers with a
one-time invitation link, which is printed here for you to pass on.`,
  options: [
    opt('name', '<name>', 'the new user name'),
    opt('group_name', '<group>', 'the user group (exact name)'),
    opt('email', '<email>', 'email address'),
    opt('note', '<note>', 'note'),
    opt(
      'renew',
      undefined,
      'the user was invited before and its link still works: make a new link (the earlier one stops working; rdadmin serve)',
    ),
  ],
  examples: [
    'rdadmin users invite --email user@example.com --name username --group_name Default --note "note"',
    'rdadmin users invite --email user@example.com --name username --group_name Default --renew',
  ],
  async run(ctx, o) {
    required(
      o,
      [
        ['email', '--email'],
        ['name', '--name'],
        ['groupName', '--group_name'],
      ],
      'invite',
    );
    const note = str(o['note']);
    const user = ctx.api.users.checkInvite(
      {
        name: str(o['name'])!,
        email: str(o['email'])!,
        group_name: str(o['groupName'])!,
        ...(note ? { note } : {}),
        ...(o['renew'] ? { renew: true } : {}),
      },
      NEW_USER_FLAGS,
    );
    const { email } = user;
    if (ctx.flags.dryRun)
      return dryRunNewUser(
        ctx,
        'invite',
        user,
        `invite ${user.name} <${email}> into group '${user.group_name}'`,
      );
    const res = await ctx.api.users.invite(user);
    // The server builds the link from the address the request reached; behind a proxy that is
    // not one users can open unless it was told (serve --public-url / --trust-proxy).
    const link = res?.invitation_url;
    const base = link?.slice(0, Math.max(0, link.indexOf('/api/invitations/')));
    const used = ctx.config.url?.replace(/\/+$/, '');
    if (base && used && base.toLowerCase() !== used.toLowerCase())
      ctx.out.warn(
        `the invitation link starts with ${base}, not with ${used} where rdadmin reached the server: if users cannot open it, start rdadmin serve with --public-url set to the address they reach it at (or, behind a reverse proxy, with --trust-proxy)`,
      );
    if (ctx.out.json) {
      ctx.out.jsonValue(res ?? {});
      return;
    }
    if (link && res.email_sent !== true) {
      const until = res.expires_at ? ` (valid until ${res.expires_at})` : '';
      ctx.out.success(
        res.renewed === true
          ? `Renewed the invitation of ${user.name}: the earlier link no longer works. No email was sent: give this new link to the user${until}.`
          : `Invited ${user.name}. No email was sent: give this link to the user${until}.`,
      );
      ctx.out.data(link);
    } else {
      ctx.out.success(`Invited ${user.name}: the server sends the invitation to ${email}.`);
    }
  },
};

const webConsoleOpt = opt('web-console-url', '<url>', 'the web console URL (for 2FA enrolment)');

export const usersArea: AreaSpec = {
  name: 'users',
  aliases: ['user'],
  summary: 'Manage users (users.py)',
  description: `Manage users, like users.py. Filters: --name and --group_name are LIKE matches, as in
users.py: a substring match unless the value holds '%' (then it is the whole pattern), and '_' in a
value matches any one character, so --name build_bot also finds buildXbot ('-' means "not set").
Add --exact for an exact name: '_' and '%' are then taken literally. Verbs that change users list
their targets first and ask before touching more than one user or a non-exact match; without a
terminal they need --yes. --dry-run shows the targets only.`,
  verbs: [
    view,
    perUser('disable', 'Disabled', 'Disable users', (ctx, g) => ctx.api.users.disable(g), undefined, true),
    perUser('enable', 'Enabled', 'Enable users', (ctx, g) => ctx.api.users.enable(g)),
    perUser(
      'delete',
      'Deleted',
      'Delete users (a user must be disabled first, as in Pro)',
      (ctx, g) => ctx.api.users.delete(g),
      deleteRefused,
      true,
    ),
    create,
    invite,
    canReach,
    batched(
      'enable-2fa-enforce',
      'Enforced 2FA for',
      'Enforce TOTP 2FA for users',
      (ctx, guids, o) => ctx.api.users.totpEnforce(guids, true, str(o['webConsoleUrl'])!),
      {
        options: [webConsoleOpt],
        examples: [
          'rdadmin users enable-2fa-enforce --name username --web-console-url https://console.example.com',
        ],
        validate: (o) => {
          const url = str(o['webConsoleUrl'])?.trim();
          if (!url) throw new UsageError('enable-2fa-enforce needs --web-console-url');
          if (!/^https?:\/\/[^/]/i.test(url))
            throw new UsageError(`--web-console-url must be an http(s) URL (got '${url}')`);
        },
      },
    ),
    batched(
      'disable-2fa-enforce',
      'Stopped enforcing 2FA for',
      'Stop enforcing TOTP 2FA for users',
      (ctx, guids, o) => ctx.api.users.totpEnforce(guids, false, str(o['webConsoleUrl']) ?? ''),
      { options: [webConsoleOpt] },
    ),
    batched(
      'disable-email-verification',
      'Disabled email verification for',
      'Turn off email login verification',
      (ctx, g) => ctx.api.users.disableLoginVerification(g, 'email'),
    ),
    batched('reset-2fa', 'Reset 2FA for', "Reset users' TOTP 2FA", (ctx, g) =>
      ctx.api.users.disableLoginVerification(g, '2fa'),
    ),
    batched(
      'force-logout',
      'Logged out',
      'End every session of users',
      (ctx, g) => ctx.api.users.forceLogout(g),
      {
        description: `End every session of the matching users. When this command runs with a user's session (rdadmin login) and that user is among them, their account is logged out last, after every other one, and a warning says that this command's own session has ended with it (log in again). An API token has no session and goes on working.`,
        endsSessions: true,
      },
    ),
  ],
};
