import { runBulk } from '../src/cli/bulk';
import { readSecret } from '../src/cli/config';
import type { Ctx } from '../src/cli/context';
import {
  ApiError,
  AuthError,
  CliError,
  Exit,
  LookupError,
  NotFoundError,
  NotSentError,
  UsageError,
} from '../src/cli/errors';
import { absent as absentTarget, ifExistsOn, ifExistsOpt } from '../src/cli/if-exists';
import { EXISTED, ifNotExistsOpt } from '../src/cli/if-not-exists';
import { confirmTargets, type DryRunCheck, runChecks } from '../src/cli/select';
import { type AreaSpec, type OptSpec, opt, selector, str, type VerbSpec } from '../src/cli/verb';
import type { PeerFields } from '../src/client/ab';
import { commaList, parseTags, wildcard } from '../src/client/filters';
import { nameExists, resolveExact } from '../src/client/resolve';
import type { AbPeerRow, AbProfileRow, AbRuleRow, AbTagRow } from '../src/wire/ab';
import {
  autoTagColor,
  formatColor,
  PERSONAL_BOOK_NAME,
  parseColor,
  parsePermission,
  permissionLabel,
  RULE_WORDS,
} from '../src/wire/ab-rules';
import { addAbOnce, addPeerOnce, addRuleOnce, addTagOnce } from './ab-if-not-exists';

// Mirrors ab.py: the same 17 verbs and flags (`--ab-guid` and `--ab_guid` both work), plus
// `rename-tag`. Differences (D-11, D-15 … D-20): every error exits non-zero; update-rule and
// delete-rule need only --rule-guid; deletes take comma lists; the automatic tag colour avoids
// colours the book already uses; update-tag never sends a null colour; add and update treat empty
// values alike (a flag given empty sets the field empty, a flag not given leaves it alone);
// --personal selects the caller's personal book.

type Opts = Record<string, unknown>;

interface Book {
  guid: string;
  /** For messages. */
  label: string;
  personal: boolean;
}

// ---- options ----

const abNameOpt = opt('ab-name', '<name>', 'the shared address book, by exact name');
const abGuidOpt = opt('ab-guid', '<guid>', 'the address book, by GUID');
const personalOpt = opt('personal', undefined, 'your own personal address book (of the token owner)');
const bookOpts = [abNameOpt, abGuidOpt, personalOpt];
/**
 * The verbs of shared books only (sharing rules: a personal book has none). --personal is taken
 * but not listed, so that it is refused with a message (bookChoice), not as an unknown option.
 */
const sharedBookOpts = [abNameOpt, abGuidOpt, { ...personalOpt, hidden: true }];
const passwordOpts = (what: string): OptSpec[] => [
  opt('password', '<password>', `${what} (visible in the process list; prefer --password-stdin)`),
  opt('password-stdin', undefined, `read ${what} from the first line of stdin`),
];
const noteOpt = opt('note', '<note>', "note ('' clears it)");
const peerIdOpt = opt('peer-id', '<id>', 'the peer (RustDesk ID)');
const aliasOpt = opt('alias', '<alias>', "the peer's alias ('' clears it)");
const tagsOpt = opt(
  'tags',
  '<tags>',
  "the peer's tags: 'a,b' or '[a,b]' ('\\,' is a comma inside a tag); '[]' clears them",
);
const tagNameOpt = opt('tag-name', '<name>', 'the tag');
const tagColorOpt = opt(
  'tag-color',
  '<color>',
  'ARGB colour: 0xAARRGGBB (e.g. 0xFF00FF00), decimal, #RRGGBB or a name (red, green, blue, …)',
);
const newNameOpt = opt('new-name', '<name>', 'the new tag name');
const ruleGuidOpt = opt('rule-guid', '<guid>', 'the rule (GUID, from view-rule or add-rule)');
const rulePermOpt = opt(
  'rule-permission',
  '<perm>',
  'ro (read), rw (read/write), full (full control), or 1/2/3',
);

const AB = (verb: string) => `see rdadmin ab ${verb} --help`;

// ---- validation (before any request) ----

/** The flags of a book's fields, for the messages of the server's checks (ctx.api.ab.checkShared). */
const BOOK_FLAGS = { name: '--ab-name', note: '--note', owner: '--owner', 'info.password': '--password' };
const PEER_FLAGS = {
  id: '--peer-id',
  alias: '--alias',
  note: '--note',
  tags: '--tags',
  password: '--password',
};

function bookChoice(o: Opts, verb: string, opts: { personal?: boolean } = {}) {
  const name = str(o['abName']);
  const guid = str(o['abGuid']);
  const personal = o['personal'] === true;
  const given = [name !== undefined, guid !== undefined, personal].filter(Boolean).length;
  const which = opts.personal === false ? '--ab-name or --ab-guid' : '--ab-name, --ab-guid or --personal';
  if (given === 0) throw new UsageError(`${verb} needs the address book: ${which}`, AB(verb));
  if (given > 1) throw new UsageError(`give only one of ${which}`, AB(verb));
  if (personal && opts.personal === false)
    throw new UsageError(`${verb} works on shared address books only, not on the personal one`);
  if (name !== undefined && !name.trim()) throw new UsageError('--ab-name is empty');
  if (guid !== undefined && !guid.trim()) throw new UsageError('--ab-guid is empty');
  return { name, guid, personal };
}

function need(o: Opts, key: string, flag: string, verb: string): string {
  const v = str(o[key]);
  if (v === undefined || !v.trim()) throw new UsageError(`${verb} needs ${flag}`, AB(verb));
  return v;
}

function colorOf(o: Opts): number | undefined {
  const v = str(o['tagColor']);
  if (v === undefined) return undefined;
  try {
    return parseColor(v);
  } catch (err) {
    throw new UsageError(`--tag-color: ${(err as Error).message}`);
  }
}

function permissionOf(o: Opts, verb: string): number {
  const v = str(o['rulePermission']);
  if (v === undefined) throw new UsageError(`${verb} needs --rule-permission (ro, rw or full)`, AB(verb));
  const p = parsePermission(v);
  if (p === undefined)
    throw new UsageError(`Invalid permission value: ${v}. Must be one of: ro, rw, full, 1, 2, 3`);
  return p;
}

/** --password or --password-stdin (read now, before any request); undefined when neither is given. */
async function passwordOf(ctx: Ctx, o: Opts): Promise<string | undefined> {
  if (o['passwordStdin']) {
    if (o['password'] !== undefined) throw new UsageError('give --password or --password-stdin, not both');
    return readSecret('-', ctx.io, 'the password');
  }
  const pw = str(o['password']);
  if (pw)
    ctx.out.warn('a password given with --password is visible in the process list; prefer --password-stdin');
  return pw;
}

// ---- book selection ----

async function selectBook(ctx: Ctx, choice: ReturnType<typeof bookChoice>): Promise<Book> {
  if (choice.personal) {
    const { guid } = await ctx.api.ab.personal();
    return { guid, label: `your personal address book (${guid})`, personal: true };
  }
  if (choice.guid !== undefined)
    return { guid: choice.guid, label: `address book ${choice.guid}`, personal: false };
  const row = await resolveExact('address book', choice.name!, (pattern) => ctx.api.ab.listShared(pattern));
  return { guid: row.guid, label: `address book '${row.name}'`, personal: false };
}

// ---- output ----

/**
 * A dry run's report; `extra` joins its --json; `unchecked` names what it could not check (with
 * --json, `"checked": false`), so that it does not read as approved.
 */
function dryRun(ctx: Ctx, what: string, extra: Record<string, unknown> = {}, unchecked?: string): boolean {
  if (!ctx.flags.dryRun) return false;
  if (ctx.out.json)
    ctx.out.jsonValue({ action: what, ...extra, dry_run: true, ...(unchecked ? { checked: false } : {}) });
  ctx.out.info(`Dry run: would ${what}; nothing was changed.`);
  if (unchecked) ctx.out.warn(`not checked: ${unchecked}`);
  return true;
}

/**
 * A dry run's checks of add-ab and update-ab, by reads only, as the server checks a real run: the
 * name is not another shared book's, the new owner exists. A list the caller may not read is not
 * checked (a warning says so).
 */
async function bookChecks(ctx: Ctx, o: { name?: string; guid?: string; owner?: string }): Promise<void> {
  const { name, owner } = o;
  if (name !== undefined) {
    const others = async function* (pattern: string) {
      for await (const b of ctx.api.ab.listShared(pattern)) if (b.guid !== o.guid) yield b;
    };
    if (await nameExists(name, others))
      throw new CliError(`a shared address book named '${name}' already exists`, Exit.failed);
    // Names are unique over every shared book, and a user who is not an administrator lists only
    // those shared with them: the others' names cannot be checked.
    if (!(await seesEveryBook(ctx)))
      ctx.out.warn(
        `could not check that no shared address book you cannot see is named '${name}' (a user who is not an administrator sees only the books shared with them): the real run may still find it taken`,
      );
  }
  if (owner !== undefined) {
    try {
      if (!(await nameExists(owner, (p) => ctx.api.users.list({ name: p }))))
        throw new LookupError(`user '${owner}' does not exist (owner)`);
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      ctx.out.warn(`could not check user '${owner}': ${err.message}`);
    }
  }
}

/** Whether the caller lists every shared book: an administrator's session, or an API token. */
async function seesEveryBook(ctx: Ctx): Promise<boolean> {
  try {
    return (await ctx.api.auth.currentUser()).is_admin === true;
  } catch (err) {
    // A session always has a user: a refusal is an API token, an administrator's delegate (rdadmin
    // serve answers 403; Pro 401 or 400, or a 200 `{"error"}`).
    if (err instanceof AuthError || err instanceof ApiError) return true;
    throw err;
  }
}

function done(ctx: Ctx, message: string, json: Record<string, unknown>, data?: string): void {
  if (ctx.out.json) ctx.out.jsonValue({ ok: true, ...json });
  else {
    if (data !== undefined) ctx.out.data(data);
    ctx.out.success(message);
  }
}

function ruleType(r: { user?: string | null; group?: string | null }): 'user' | 'group' | 'everyone' {
  if (r.user) return 'user';
  if (r.group) return 'group';
  return 'everyone';
}

/** JSON views keep the raw values and add readable ones; secrets are never printed. */
function profileJson(b: AbProfileRow) {
  const { password, ...info } = b.info ?? {};
  return {
    ...b,
    ...(typeof b.rule === 'number' ? { rule_label: permissionLabel(b.rule) } : {}),
    info: { ...info, has_password: Boolean(password) },
  };
}

function peerJson(p: AbPeerRow) {
  // The recycle bin shows no secrets, only whether there is one (rdadmin serve's has_password).
  const { password, hash, has_password: shown, ...rest } = p;
  return { ...rest, has_password: typeof shown === 'boolean' ? shown : Boolean(password || hash) };
}

function tagJson(t: AbTagRow) {
  return { ...t, ...(typeof t.color === 'number' ? { color_hex: formatColor(t.color) } : {}) };
}

function ruleJson(r: AbRuleRow) {
  return { ...r, type: ruleType(r), rule_label: permissionLabel(r.rule) };
}

async function list<T>(
  ctx: Ctx,
  rows: AsyncIterable<T>,
  json: (r: T) => unknown,
  columns: Column<T>[],
  noun: string,
) {
  if (ctx.out.json) {
    const arr = ctx.out.jsonArray();
    for await (const r of rows) arr.push(json(r));
    arr.end();
    return;
  }
  const n = await ctx.out.table(columns, rows);
  if (n === 0) ctx.out.info(`Found 0 ${noun}`);
}

interface Column<T> {
  header: string;
  value: (row: T) => string;
}

async function* fromArray<T>(rows: T[]): AsyncGenerator<T> {
  yield* rows;
}

// ---- comma lists (deletes, restores): shown and confirmed, one result per target ----

/** The IDs of a book's peers (or of its recycle bin), read to the end. */
async function idsOf(rows: AsyncIterable<{ id: string }>): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const r of rows) ids.add(r.id);
  return ids;
}

async function confirmEach(
  ctx: Ctx,
  items: string[],
  s: {
    noun: [string, string];
    verb: string;
    where: string;
    call: (item: string) => Promise<unknown>;
    /** The summary's first word (default "Deleted"). */
    done?: string;
    /**
     * What there is to act on, read first, so that the list to confirm, a dry run and the count
     * hold only items that exist; the others fail without a request ("not found").
     */
    present?: () => Promise<ReadonlySet<string>>;
    /** Where an item that is not there is missing from: "not in address book 'X'". */
    absent?: string;
    /**
     * Set when the items were not named by the user (the whole recycle bin): confirmed even when
     * there is one, and why.
     */
    always?: string;
    /**
     * What a dry run cannot check about the items, without `present` (rules named by GUID): said
     * in a warning, and `"checked": false` with --json.
     */
    unchecked?: string;
    /**
     * --if-exists: an item `present` does not hold is already gone (reported, not an error);
     * `what` names it in that report ("Peer '12' in address book 'Team'").
     */
    ifExists?: { what: (item: string) => string };
  },
): Promise<number | undefined> {
  const label = (x: string) => `${s.noun[0]} ${x}${s.where}`;
  const present = s.present ? await s.present() : undefined;
  const notThere = present ? items.filter((x) => !present.has(x)) : [];
  const goneOk = s.ifExists;
  const goneList = goneOk ? notThere.map((x) => absentTarget(goneOk.what(x), { [s.noun[0]]: x })) : [];
  const missing = goneOk ? [] : notThere;
  const absent = s.absent ?? `not found${s.where}`;
  if (missing.length)
    ctx.out.warn(
      `${absent}: ${missing.join(', ')} (nothing is sent for ${missing.length === 1 ? 'it' : 'them'})`,
    );
  const there = notThere.length ? items.filter((x) => present!.has(x)) : items;
  if (there.length === 0 && missing.length) {
    // Not one item is there: nothing is sent, so nothing to confirm or count. Each item's result
    // says so (with --json, one document: not attempted, failed).
    if (ctx.out.json)
      ctx.out.jsonValue(
        missing.map((x) => ({
          [s.noun[0]]: x,
          action: s.verb,
          ok: false,
          attempted: false,
          outcome: 'failed',
          error: `${s.noun[0]} ${x}: ${absent}`,
          ...(ctx.flags.dryRun ? { dry_run: true } : {}),
        })),
      );
    throw new LookupError(
      `nothing to ${s.verb}: ${
        missing.length === 1
          ? `${s.noun[0]} ${missing[0]} is ${absent}`
          : `the ${missing.length} ${s.noun[1]} named are ${absent}`
      }`,
    );
  }
  const unchecked = ctx.flags.dryRun ? s.unchecked : undefined;
  const rows = await confirmTargets(ctx, {
    noun: s.noun,
    verb: s.verb,
    rows: there,
    label,
    describe: (x) => ({ [s.noun[0]]: x, ...(unchecked ? { checked: false } : {}) }),
    exact: () => true,
    ...(s.always ? { always: s.always } : {}),
    absent: goneList,
  });
  if (unchecked) ctx.out.warn(`not checked: ${unchecked}`);
  if (!rows && (ctx.flags.dryRun || !missing.length)) return missing.length ? Exit.failed : undefined;
  // The missing ones first: they fail at once, without a request, and so come first in the results.
  const gone = new Set(missing);
  return runBulk(ctx, [...missing, ...(rows ?? [])], {
    done: s.done ?? 'Deleted',
    verb: s.verb,
    noun: s.noun,
    label,
    describe: (x) => ({ [s.noun[0]]: x }),
    absent: goneList,
    action: (x) =>
      gone.has(x) ? Promise.reject(new NotSentError(`${s.noun[0]} ${x}: ${absent}`)) : s.call(x),
  });
}

// ---- dry runs: what the server would refuse, found by reads only ----

/** What a dry run says it did not check about rules named by GUID. */
const RULE_GUID_UNCHECKED =
  'that the rule exists (a rule is found by its GUID only when the real run sends it; rdadmin ab view-rule lists the rules of a book)';

/**
 * Those of `guids` that are not the GUID of a shared book the caller sees (one it does not see, it
 * may not change or delete either). None when the books may not be listed (a warning says so).
 */
async function unknownBooks(ctx: Ctx, guids: readonly string[]): Promise<Set<string>> {
  const left = new Set(guids);
  try {
    for await (const b of ctx.api.ab.listShared()) left.delete(b.guid);
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
    ctx.out.warn(`could not check that the address books exist: ${err.message}`);
    return new Set();
  }
  return left;
}

/** As the server says of a GUID that is no shared book's. */
const bookNotFound = (guid: string) => `address book not found: ${guid}`;

/**
 * A dry run's check of a tag verb against the book's tags, in the server's order: `exists` must be
 * a tag of the book, and `free` (a new name) must not be, unless it is `exists` itself.
 */
function tagChecks(book: Book, tags: AbTagRow[], c: { exists?: string; free?: string }): void {
  const names = new Set(tags.map((t) => t.name));
  if (c.exists !== undefined && !names.has(c.exists))
    throw new LookupError(`tag '${c.exists}' is not in ${book.label}`, 'rdadmin ab view-tag lists its tags');
  if (c.free !== undefined && c.free !== c.exists && names.has(c.free))
    throw new CliError(`tag '${c.free}' already exists in ${book.label}`, Exit.failed);
}

/**
 * A dry run's checks of add-rule, as the server checks the real run: the user is not the book's
 * owner, the user or user group exists, and the book has no rule for that target yet. A list the
 * caller may not read is not checked (a warning says so).
 */
async function ruleChecks(
  ctx: Ctx,
  book: Book,
  type: 'user' | 'group' | 'everyone',
  name: string | undefined,
): Promise<void> {
  const target = name?.trim(); // as the server reads it
  const checks: DryRunCheck[] = [];
  if (type === 'user') {
    checks.push([
      `the owner of ${book.label}`,
      async () => {
        for await (const b of ctx.api.ab.listShared()) {
          if (b.guid !== book.guid) continue;
          if (b.owner === target)
            throw new CliError(
              `user '${target}' owns ${book.label} and always has full control`,
              Exit.failed,
            );
          return;
        }
      },
    ]);
  }
  if (type !== 'everyone') {
    const what = type === 'user' ? `user '${target}'` : `user group '${target}'`;
    const list = (p: string): AsyncIterable<{ name: string }> =>
      type === 'user' ? ctx.api.users.list({ name: p }) : ctx.api.userGroups.list({ name: p });
    checks.push([
      what,
      async () => {
        if (!(await nameExists(target!, list))) throw new LookupError(`${what} does not exist`);
      },
    ]);
  }
  checks.push([
    `the rules of ${book.label}`,
    async () => {
      for await (const r of ctx.api.ab.listRules(book.guid)) {
        const same =
          type === 'user'
            ? r.user === target
            : type === 'group'
              ? !r.user && r.group === target
              : !r.user && !r.group;
        if (same)
          throw new CliError(
            `a rule for this target already exists (rule ${r.guid}): change it with update-rule`,
            Exit.failed,
          );
      }
    },
  ]);
  await runChecks(ctx, checks);
}

// ---- verbs: books ----

const viewAb: VerbSpec = {
  name: 'view-ab',
  summary: 'List shared address books (all, or those whose name matches --ab-name)',
  description: `List the shared address books you can see, with your permission on each (ro/rw/full). --ab-name is sent as given, like ab.py: a plain name matches case-insensitively, '%' and '_' are wildcards. Personal books are not listed (see get-personal-ab). Book passwords are never printed; --json shows "has_password" and keeps the numeric "rule" next to "rule_label".`,
  options: [
    selector(
      'ab-name',
      '<pattern>',
      "the shared address books whose name matches: a LIKE pattern ('%' and '_' are wildcards), case-insensitive",
    ),
  ],
  examples: [
    'rdadmin ab view-ab',
    'rdadmin ab view-ab --ab-name Team',
    "rdadmin ab view-ab --ab-name 'Sup%' --json",
  ],
  async run(ctx, o) {
    const name = str(o['abName']);
    await list(
      ctx,
      ctx.api.ab.listShared(name),
      profileJson,
      [
        { header: 'NAME', value: (b) => b.name },
        { header: 'GUID', value: (b) => b.guid },
        { header: 'OWNER', value: (b) => b.owner ?? '' },
        { header: 'PERMISSION', value: (b) => (typeof b.rule === 'number' ? permissionLabel(b.rule) : '') },
        { header: 'PASSWORD', value: (b) => (b.info?.password ? 'set' : '') },
        { header: 'NOTE', value: (b) => b.note ?? '' },
      ],
      'address books',
    );
  },
};

const getPersonalAb: VerbSpec = {
  name: 'get-personal-ab',
  summary: 'Print the GUID of your personal address book (created on first use)',
  description: `Print the GUID of the personal address book of the token's owner. Other verbs take --personal instead of --ab-guid to work on it directly.`,
  examples: ['rdadmin ab get-personal-ab', 'rdadmin ab view-peer --personal'],
  async run(ctx) {
    // The server creates the book on first use: a dry run does not ask.
    if (ctx.flags.dryRun) {
      if (ctx.out.json) ctx.out.jsonValue({ action: 'get-personal-ab', dry_run: true });
      ctx.out.info(
        'Dry run: would print the GUID of your personal address book (the server creates it on first use); nothing was changed.',
      );
      return;
    }
    const res = await ctx.api.ab.personal();
    if (ctx.out.json) ctx.out.jsonValue(res);
    else ctx.out.data(res.guid);
  },
};

const addAb: VerbSpec = {
  name: 'add-ab',
  summary: 'Create a shared address book',
  description: `Create a shared address book owned by you. --password sets the book's shared password (used for peers that have none of their own). Prints the new book's GUID. With --if-not-exists, a shared book you can see that already has that exact name is left as it is (a warning names a note or password given that differs), exit 0, and its GUID is printed.`,
  options: [abNameOpt, noteOpt, ...passwordOpts('the book-level shared password'), ifNotExistsOpt()],
  examples: [
    "rdadmin ab add-ab --ab-name Team --note 'Helpdesk machines'",
    'printf \'%s\\n\' "$PW" | rdadmin ab add-ab --ab-name Servers --password-stdin',
    'rdadmin ab add-ab --ab-name Team --if-not-exists --json',
  ],
  async run(ctx, o) {
    const name = str(o['abName']);
    if (name === undefined || !name.trim()) throw new UsageError('add-ab needs --ab-name', AB('add-ab'));
    const password = await passwordOf(ctx, o);
    const note = str(o['note']);
    // Checked, and the name trimmed, as the server does (the name reported is the one stored).
    const body = ctx.api.ab.checkShared(
      {
        name,
        ...(note !== undefined ? { note } : {}),
        ...(password ? { info: { password } } : {}),
      },
      BOOK_FLAGS,
    );
    const once = addAbOnce(ctx, o, body);
    if (await once.found()) return;
    if (ctx.flags.dryRun) await bookChecks(ctx, { name: body.name });
    if (dryRun(ctx, `create shared address book '${body.name}'`, once.created)) return;
    const res = await once.create(() => ctx.api.ab.addShared(body));
    if (res === EXISTED) return;
    const guid = res?.guid;
    done(
      ctx,
      guid
        ? `Created shared address book '${body.name}'.`
        : `Created shared address book '${body.name}'; the server did not return its GUID (view-ab shows it).`,
      { guid, name: body.name, ...once.created },
      guid,
    );
  },
};

const updateAb: VerbSpec = {
  name: 'update-ab',
  summary: 'Change a shared address book: name, note, owner, shared password',
  description: `Change a shared address book. Give at least one of --ab-update-name, --note, --owner (a user name), --password. An empty value clears the note, and --password '' removes the shared password (an empty line on stdin with --password-stdin is refused, as a likely mistake).`,
  options: [
    abNameOpt,
    abGuidOpt,
    opt('ab-update-name', '<name>', 'the new name'),
    noteOpt,
    opt('owner', '<user>', 'the new owner (user name)'),
    ...passwordOpts('the book-level shared password'),
  ],
  examples: [
    'rdadmin ab update-ab --ab-guid <guid> --ab-update-name "Team EU" --note "EU desk"',
    'rdadmin ab update-ab --ab-name Team --owner mike',
    "rdadmin ab update-ab --ab-name Team --password ''",
  ],
  async run(ctx, o) {
    const choice = bookChoice(o, 'update-ab', { personal: false });
    const name = str(o['abUpdateName']);
    const note = str(o['note']);
    const owner = str(o['owner']);
    const password = await passwordOf(ctx, o);
    if (name === undefined && note === undefined && owner === undefined && password === undefined) {
      throw new UsageError(
        'update-ab needs at least one of --ab-update-name, --note, --owner, --password',
        AB('update-ab'),
      );
    }
    if (name !== undefined && !name.trim()) throw new UsageError('--ab-update-name is empty');
    if (owner !== undefined && !owner.trim()) throw new UsageError('--owner is empty');
    const check = (guid: string) =>
      ctx.api.ab.checkSharedUpdate(
        {
          guid,
          ...(name !== undefined ? { name } : {}),
          ...(note !== undefined ? { note } : {}),
          ...(owner !== undefined ? { owner } : {}),
          ...(password !== undefined ? { info: { password } } : {}),
        },
        { ...BOOK_FLAGS, name: '--ab-update-name' },
      );
    check(choice.guid ?? '-'); // before any request
    const book = await selectBook(ctx, choice);
    if (ctx.flags.dryRun && choice.guid !== undefined && (await unknownBooks(ctx, [book.guid])).size)
      throw new LookupError(bookNotFound(book.guid), 'rdadmin ab view-ab lists the shared address books');
    const body = check(book.guid);
    if (ctx.flags.dryRun) await bookChecks(ctx, { name: body.name, guid: book.guid, owner: body.owner });
    if (dryRun(ctx, `change ${book.label}`)) return;
    await ctx.api.ab.updateShared(body);
    done(ctx, `Updated ${book.label}.`, { guid: book.guid });
  },
};

const deleteAb: VerbSpec = {
  name: 'delete-ab',
  summary: 'Delete shared address books (comma lists allowed)',
  description: `Delete shared address books with their peers, tags and rules. --ab-name and --ab-guid take comma lists; every name is looked up before anything is deleted. More than one book needs a confirmation (--yes without a terminal); --dry-run only lists them. With --if-exists, a book named (or a GUID given) that is not there is reported as already gone and is not an error: the others are deleted, exit 0 (--json: its entry has "ok": true, "attempted": false, "outcome": "absent").`,
  options: [abNameOpt, abGuidOpt, ifExistsOpt()],
  examples: [
    'rdadmin ab delete-ab --ab-guid <guid>',
    'rdadmin ab delete-ab --ab-name Old,Older --yes',
    'rdadmin ab delete-ab --ab-name Old --dry-run',
    'rdadmin ab delete-ab --ab-name Old --if-exists --json',
  ],
  async run(ctx, o) {
    bookChoice(o, 'delete-ab', { personal: false });
    const on = ifExistsOn(o);
    const names = commaList(str(o['abName']));
    const guids = commaList(str(o['abGuid']));
    // The books given by GUID that are no shared book: the real run would fail for them (with
    // --if-exists: already gone, nothing sent for them).
    const unknown =
      (ctx.flags.dryRun || on) && guids.length ? await unknownBooks(ctx, guids) : new Set<string>();
    const gone = on
      ? guids
          .filter((g) => unknown.has(g))
          .map((g) => absentTarget(`Shared address book ${g}`, { guid: g, name: g }))
      : [];
    const targets: { guid: string; name: string }[] = guids
      .filter((g) => !on || !unknown.has(g))
      .map((g) => ({ guid: g, name: g }));
    for (const name of names) {
      try {
        const row = await resolveExact('address book', name, (p) => ctx.api.ab.listShared(p));
        targets.push({ guid: row.guid, name: row.name });
      } catch (err) {
        if (!on || !(err instanceof NotFoundError)) throw err;
        gone.push(absentTarget(`Shared address book '${name}'`, { name }));
      }
    }
    const rows = await confirmTargets(ctx, {
      noun: ['address book', 'address books'],
      verb: 'delete',
      absent: gone,
      rows: targets,
      label: (b) => b.name,
      describe: (b) => ({ guid: b.guid, name: b.name }),
      exact: () => true,
      refuse: (b) => (unknown.has(b.guid) ? bookNotFound(b.guid) : undefined),
    });
    if (!rows) return;
    return runBulk(ctx, rows, {
      done: 'Deleted',
      verb: 'delete',
      noun: ['address book', 'address books'],
      label: (b) => `address book ${b.name === b.guid ? b.guid : `'${b.name}'`}`,
      describe: (b) => ({ guid: b.guid, name: b.name }),
      absent: gone,
      action: (b) => ctx.api.ab.deleteShared([b.guid]),
    });
  },
};

// ---- verbs: peers ----

const viewPeer: VerbSpec = {
  name: 'view-peer',
  summary: 'List the peers of an address book',
  description: `List the peers of an address book. --peer-id and --alias are substring matches (a value holding '%' is your own LIKE pattern, '_' matches any one character, '-' means "not set"). Passwords are never printed: the PASSWORD column and "has_password" in --json only say whether one is set.`,
  options: [
    ...bookOpts,
    selector('peer-id', '<id>', "peer ID, substring match unless it holds '%'"),
    selector('alias', '<alias>', "alias, substring match unless it holds '%'"),
  ],
  examples: [
    'rdadmin ab view-peer --ab-guid <guid>',
    'rdadmin ab view-peer --ab-name Team --peer-id 123',
    'rdadmin ab view-peer --personal --alias office --json',
  ],
  async run(ctx, o) {
    const choice = bookChoice(o, 'view-peer');
    const id = str(o['peerId']);
    const alias = str(o['alias']);
    const book = await selectBook(ctx, choice);
    const rows = ctx.api.ab.listPeers(book.guid, {
      id: id === undefined ? undefined : wildcard(id),
      alias: alias === undefined ? undefined : wildcard(alias),
    });
    await list(
      ctx,
      rows,
      peerJson,
      [
        { header: 'ID', value: (p) => p.id },
        { header: 'ALIAS', value: (p) => p.alias ?? '' },
        { header: 'TAGS', value: (p) => (p.tags ?? []).join(',') },
        { header: 'NOTE', value: (p) => p.note ?? '' },
        { header: 'PASSWORD', value: (p) => (p.password || p.hash ? 'set' : '') },
        { header: 'HOSTNAME', value: (p) => p.hostname ?? '' },
        { header: 'USERNAME', value: (p) => p.username ?? '' },
        { header: 'PLATFORM', value: (p) => p.platform ?? '' },
      ],
      'peers',
    );
  },
};

async function peerFields(ctx: Ctx, o: Opts): Promise<PeerFields> {
  const f: PeerFields = {};
  const alias = str(o['alias']);
  const note = str(o['note']);
  const tags = str(o['tags']);
  const password = await passwordOf(ctx, o);
  if (alias !== undefined) f.alias = alias;
  if (note !== undefined) f.note = note;
  if (tags !== undefined) f.tags = parseTags(tags);
  if (password !== undefined) f.password = password;
  return f;
}

function peerVerb(name: 'add-peer' | 'update-peer'): VerbSpec {
  const adding = name === 'add-peer';
  return {
    name,
    summary: adding ? 'Add a peer to an address book' : 'Change a peer in an address book',
    description: `${adding ? 'Add a peer (device) to' : 'Change a peer of'} an address book. --tags takes 'a,b' or '[a,b]'; tags the book lacks are created with an automatic colour (rdadmin serve). Add and update treat values alike: a flag given with an empty value ('' or --tags '[]') sets that field empty, a flag not given leaves it alone${adding ? ' (empty)' : ''}.${adding ? '' : ' At least one of --alias, --note, --tags, --password is needed.'} --password is the peer's own password (shared books; personal books keep none).${adding ? ' With --if-not-exists, a peer the book already holds (the same ID) is left as it is (a warning names an alias, note, tags or password given that differ), exit 0.' : ''}`,
    options: [
      ...bookOpts,
      peerIdOpt,
      aliasOpt,
      noteOpt,
      tagsOpt,
      ...passwordOpts("the peer's password"),
      ...(adding ? [ifNotExistsOpt('peer ID')] : []),
    ],
    examples: adding
      ? [
          'rdadmin ab add-peer --ab-guid <guid> --peer-id 123456789 --alias "Front desk" --note "Ground floor" --tags tag1,tag2',
          "rdadmin ab add-peer --ab-name Team --peer-id 123456789 --tags '[office, printer]'",
          'rdadmin ab add-peer --personal --peer-id 123456789 --alias home',
          'rdadmin ab add-peer --ab-name Team --peer-id 123456789 --alias "Front desk" --if-not-exists',
        ]
      : [
          'rdadmin ab update-peer --ab-guid <guid> --peer-id 123456789 --alias "Reception" --tags tag1',
          "rdadmin ab update-peer --ab-name Team --peer-id 123456789 --tags '[]' --note ''",
        ],
    async run(ctx, o) {
      const choice = bookChoice(o, name);
      const rawId = need(o, 'peerId', '--peer-id', name);
      const given = await peerFields(ctx, o);
      if (!adding && Object.keys(given).length === 0) {
        throw new UsageError(
          'update-peer needs at least one of --alias, --note, --tags, --password',
          AB(name),
        );
      }
      // Checked, and the ID trimmed, as the server does (the ID reported is the one stored).
      const { id, fields } = ctx.api.ab.checkPeer(rawId, given, PEER_FLAGS);
      if (choice.personal && fields.password)
        throw new UsageError(
          "--password: a personal address book keeps no peer passwords (the client stores a 'hash'); use a shared book",
        );
      const book = await selectBook(ctx, choice);
      const once = addPeerOnce(ctx, adding ? o : {}, { choice, book, id, fields });
      if (await once.found()) return;
      if (ctx.flags.dryRun) {
        // What the server would refuse: adding a peer the book holds, changing one it does not.
        const there = await nameExists(
          id,
          (p) => ctx.api.ab.listPeers(book.guid, { id: p }),
          (p) => p.id,
        );
        if (adding && there)
          throw new CliError(
            `peer ${id} is already in ${book.label}: change it with update-peer instead`,
            Exit.failed,
          );
        if (!adding && !there) throw new LookupError(`peer ${id} is not in ${book.label}`);
      }
      const what = `${adding ? 'add' : 'change'} peer ${id} ${adding ? 'to' : 'in'} ${book.label}`;
      if (dryRun(ctx, what, once.created)) return;
      if (adding) {
        if ((await once.create(() => ctx.api.ab.addPeer(book.guid, id, fields))) === EXISTED) return;
      } else await ctx.api.ab.updatePeer(book.guid, id, fields);
      done(ctx, `${adding ? 'Added' : 'Updated'} peer ${id} ${adding ? 'to' : 'in'} ${book.label}.`, {
        ab: book.guid,
        id,
        action: name,
        ...once.created,
      });
    },
  };
}

const deletePeer: VerbSpec = {
  name: 'delete-peer',
  summary: 'Delete peers from an address book (comma lists allowed)',
  description: `Delete peers from an address book: --peer-id takes a comma list. More than one peer needs a confirmation (--yes without a terminal); each peer gets a result. A peer not in the book fails (exit 1); with --if-exists it is reported as already gone and is not an error (--json: its entry has "ok": true, "attempted": false, "outcome": "absent"). The book itself must exist.`,
  options: [...bookOpts, peerIdOpt, ifExistsOpt()],
  examples: [
    'rdadmin ab delete-peer --ab-guid <guid> --peer-id 123456789',
    'rdadmin ab delete-peer --ab-name Team --peer-id 12,13 --yes',
    'rdadmin ab delete-peer --ab-name Team --peer-id 123456789 --if-exists',
  ],
  async run(ctx, o) {
    const choice = bookChoice(o, 'delete-peer');
    const ids = commaList(need(o, 'peerId', '--peer-id', 'delete-peer'));
    const book = await selectBook(ctx, choice);
    return confirmEach(ctx, ids, {
      noun: ['peer', 'peers'],
      verb: 'delete',
      where: ` from ${book.label}`,
      call: (id) => ctx.api.ab.deletePeers(book.guid, [id]),
      present: () => idsOf(ctx.api.ab.listPeers(book.guid)),
      absent: `not in ${book.label}`,
      ...(ifExistsOn(o) ? { ifExists: { what: (id: string) => `Peer '${id}' in ${book.label}` } } : {}),
    });
  },
};

// ---- verbs: the recycle bin (rdadmin serve) ----

const BIN_NOTE =
  "Deleted peers go to their book's recycle bin on rdadmin serve (Pro keeps its bin to the web console: against Pro these verbs say so, exit 1, before anything else).";

const viewRecycle: VerbSpec = {
  name: 'view-recycle',
  summary: "List the peers in an address book's recycle bin",
  description: `List the deleted peers of an address book, most recently deleted first. ${BIN_NOTE} Who may list a bin: with a user's session, the owner of the personal book, an administrator, or a user whose permission on the shared book is read/write or full control (read-only is refused, 403); with an API token, address_book:r is enough.`,
  options: bookOpts,
  examples: ['rdadmin ab view-recycle --ab-name Team', 'rdadmin ab view-recycle --personal --json'],
  async run(ctx, o) {
    const choice = bookChoice(o, 'view-recycle');
    await ctx.api.transport.requireServe('rdadmin ab view-recycle');
    const book = await selectBook(ctx, choice);
    await list(
      ctx,
      ctx.api.ab.listRecycled(book.guid),
      peerJson,
      [
        { header: 'ID', value: (p) => p.id },
        { header: 'ALIAS', value: (p) => p.alias ?? '' },
        { header: 'TAGS', value: (p) => (p.tags ?? []).join(',') },
        { header: 'NOTE', value: (p) => p.note ?? '' },
        { header: 'DELETED', value: (p) => p.deleted_at },
      ],
      'peers in the recycle bin',
    );
  },
};

const restorePeer: VerbSpec = {
  name: 'restore-peer',
  summary: 'Put peers back from the recycle bin (comma lists allowed)',
  description: `Restore deleted peers with every field they had (alias, tags, note, password). More than one needs a confirmation (--yes without a terminal); each peer gets a result. A peer the book holds again is refused. ${BIN_NOTE}`,
  options: [...bookOpts, peerIdOpt],
  examples: [
    'rdadmin ab restore-peer --ab-name Team --peer-id 123456789',
    'rdadmin ab restore-peer --ab-guid <guid> --peer-id 12,13 --yes',
  ],
  async run(ctx, o) {
    const choice = bookChoice(o, 'restore-peer');
    const ids = commaList(need(o, 'peerId', '--peer-id', 'restore-peer'));
    await ctx.api.transport.requireServe('rdadmin ab restore-peer');
    const book = await selectBook(ctx, choice);
    return confirmEach(ctx, ids, {
      noun: ['peer', 'peers'],
      verb: 'restore',
      done: 'Restored',
      where: ` to ${book.label}`,
      call: (id) => ctx.api.ab.restorePeers(book.guid, [id]),
      present: () => idsOf(ctx.api.ab.listRecycled(book.guid)),
      absent: `not in the recycle bin of ${book.label}`,
    });
  },
};

const emptyRecycle: VerbSpec = {
  name: 'empty-recycle',
  summary: 'Delete peers from the recycle bin for good (all of them, or --peer-id)',
  description: `Delete peers from an address book's recycle bin for good: those given with --peer-id (a comma list), or every peer in it. The peers are listed first; emptying the whole bin is always confirmed, even for one peer, and a --peer-id list of more than one peer is confirmed too (--yes without a terminal); this cannot be undone. ${BIN_NOTE}`,
  options: [...bookOpts, selector('peer-id', '<id>', 'only these peers (comma list)')],
  examples: [
    'rdadmin ab empty-recycle --ab-name Team --dry-run',
    'rdadmin ab empty-recycle --ab-name Team --yes',
    'rdadmin ab empty-recycle --personal --peer-id 123456789',
  ],
  async run(ctx, o) {
    const choice = bookChoice(o, 'empty-recycle');
    const given = str(o['peerId']);
    await ctx.api.transport.requireServe('rdadmin ab empty-recycle');
    const book = await selectBook(ctx, choice);
    let ids = given === undefined ? [] : commaList(given);
    if (given === undefined) {
      for await (const p of ctx.api.ab.listRecycled(book.guid)) ids.push(p.id);
      if (ids.length === 0) {
        if (ctx.out.json) ctx.out.jsonValue([]);
        ctx.out.info(`The recycle bin of ${book.label} is empty.`);
        return;
      }
    }
    ids = [...new Set(ids)];
    return confirmEach(ctx, ids, {
      noun: ['peer', 'peers'],
      verb: 'delete for good',
      where: ` from the recycle bin of ${book.label}`,
      call: (id) => ctx.api.ab.purgeRecycled(book.guid, [id]),
      present: () => idsOf(ctx.api.ab.listRecycled(book.guid)),
      absent: `not in the recycle bin of ${book.label}`,
      // The whole bin: peers the user did not name, deleted for good, so confirmed even when it is
      // one (a --peer-id list of one is named exactly, as for any delete).
      ...(given === undefined ? { always: 'emptying the whole bin deletes it for good' } : {}),
    });
  },
};

// ---- verbs: tags ----

const viewTag: VerbSpec = {
  name: 'view-tag',
  summary: 'List the tags of an address book with their colours',
  description: `List the tags of an address book. Colours show as 0xAARRGGBB; --json keeps the numeric "color" and adds "color_hex".`,
  options: bookOpts,
  examples: ['rdadmin ab view-tag --ab-guid <guid>', 'rdadmin ab view-tag --personal --json'],
  async run(ctx, o) {
    const book = await selectBook(ctx, bookChoice(o, 'view-tag'));
    const tags = await ctx.api.ab.tags(book.guid);
    await list(
      ctx,
      fromArray(tags),
      tagJson,
      [
        { header: 'NAME', value: (t) => t.name },
        { header: 'COLOR', value: (t) => (typeof t.color === 'number' ? formatColor(t.color) : '') },
      ],
      'tags',
    );
  },
};

const addTag: VerbSpec = {
  name: 'add-tag',
  summary: 'Add a tag to an address book',
  description: `Add a tag. Without --tag-color the colour is chosen like ab.py does (a colour name such as 'red' gives that colour, otherwise a palette colour from the name), except that a colour the book already uses is avoided (D-17). With --if-not-exists, a tag the book already has (the same name) is left as it is (a warning says when --tag-color differs), exit 0.`,
  options: [...bookOpts, tagNameOpt, tagColorOpt, ifNotExistsOpt()],
  examples: [
    'rdadmin ab add-tag --ab-guid <guid> --tag-name Servers --tag-color 0xFF00FF00',
    'rdadmin ab add-tag --ab-name Team --tag-name Printers',
    'rdadmin ab add-tag --ab-name Team --tag-name Printers --if-not-exists',
  ],
  async run(ctx, o) {
    const choice = bookChoice(o, 'add-tag');
    const name = need(o, 'tagName', '--tag-name', 'add-tag').trim();
    let color = colorOf(o);
    const book = await selectBook(ctx, choice);
    const once = addTagOnce(ctx, o, { choice, book, name, color });
    if (await once.found()) return;
    const tags = color === undefined || ctx.flags.dryRun ? await ctx.api.ab.tags(book.guid) : [];
    if (color === undefined) {
      const used = tags.map((t) => t.color).filter((c) => typeof c === 'number');
      color = autoTagColor(name, used as number[]);
    }
    if (ctx.flags.dryRun) tagChecks(book, tags, { free: name });
    if (dryRun(ctx, `add tag '${name}' (${formatColor(color)}) to ${book.label}`, once.created)) return;
    const add = color;
    if ((await once.create(() => ctx.api.ab.addTag(book.guid, name, add))) === EXISTED) return;
    done(ctx, `Added tag '${name}' (${formatColor(color)}) to ${book.label}.`, {
      ab: book.guid,
      name,
      color,
      color_hex: formatColor(color),
      ...once.created,
    });
  },
};

const updateTag: VerbSpec = {
  name: 'update-tag',
  summary: "Change a tag's colour (and/or rename it)",
  description: `Change a tag: --tag-color sets its colour; --new-name renames it (as rename-tag does). Without --tag-color the colour is kept (ab.py sent a null colour, D-18).`,
  options: [...bookOpts, tagNameOpt, tagColorOpt, newNameOpt],
  examples: [
    'rdadmin ab update-tag --ab-guid <guid> --tag-name Servers --tag-color 0xFFFF0000',
    'rdadmin ab update-tag --ab-name Team --tag-name Servers --new-name Hosts',
  ],
  async run(ctx, o) {
    const choice = bookChoice(o, 'update-tag');
    const name = need(o, 'tagName', '--tag-name', 'update-tag').trim();
    const color = colorOf(o);
    const newName = str(o['newName']);
    if (color === undefined && newName === undefined) {
      throw new UsageError(
        'update-tag needs --tag-color and/or --new-name',
        'to rename only: rdadmin ab rename-tag',
      );
    }
    if (newName !== undefined && !newName.trim()) throw new UsageError('--new-name is empty');
    const book = await selectBook(ctx, choice);
    if (ctx.flags.dryRun)
      tagChecks(book, await ctx.api.ab.tags(book.guid), { exists: name, free: newName?.trim() });
    if (dryRun(ctx, `change tag '${name}' in ${book.label}`)) return;
    if (color !== undefined) await ctx.api.ab.updateTag(book.guid, name, color);
    if (newName !== undefined) await ctx.api.ab.renameTag(book.guid, name, newName.trim());
    const what = [
      color !== undefined ? `colour ${formatColor(color)}` : '',
      newName !== undefined ? `renamed to '${newName.trim()}'` : '',
    ].filter(Boolean);
    done(ctx, `Updated tag '${name}' in ${book.label}: ${what.join(', ')}.`, {
      ab: book.guid,
      name,
      ...(color !== undefined ? { color, color_hex: formatColor(color) } : {}),
      ...(newName !== undefined ? { new_name: newName.trim() } : {}),
    });
  },
};

const renameTag: VerbSpec = {
  name: 'rename-tag',
  summary: 'Rename a tag (every peer carrying it follows)',
  description: 'Rename a tag: --tag-name is the old name, --new-name the new one. The colour is kept.',
  options: [...bookOpts, tagNameOpt, newNameOpt],
  examples: ['rdadmin ab rename-tag --ab-name Team --tag-name Servers --new-name Hosts'],
  async run(ctx, o) {
    const choice = bookChoice(o, 'rename-tag');
    const from = need(o, 'tagName', '--tag-name', 'rename-tag').trim();
    const to = need(o, 'newName', '--new-name', 'rename-tag').trim();
    const book = await selectBook(ctx, choice);
    if (ctx.flags.dryRun) tagChecks(book, await ctx.api.ab.tags(book.guid), { exists: from, free: to });
    if (dryRun(ctx, `rename tag '${from}' to '${to}' in ${book.label}`)) return;
    await ctx.api.ab.renameTag(book.guid, from, to);
    done(ctx, `Renamed tag '${from}' to '${to}' in ${book.label}.`, { ab: book.guid, old: from, new: to });
  },
};

const deleteTag: VerbSpec = {
  name: 'delete-tag',
  summary: 'Delete tags from an address book (comma lists allowed)',
  description: `Delete tags (--tag-name takes a comma list); they are taken off every peer. More than one tag needs a confirmation (--yes without a terminal). A tag not in the book fails (exit 1); with --if-exists it is reported as already gone and is not an error (--json: its entry has "ok": true, "attempted": false, "outcome": "absent"). The book itself must exist.`,
  options: [...bookOpts, tagNameOpt, ifExistsOpt()],
  examples: [
    'rdadmin ab delete-tag --ab-guid <guid> --tag-name Servers',
    'rdadmin ab delete-tag --ab-name Team --tag-name a,b --yes',
    'rdadmin ab delete-tag --ab-name Team --tag-name Servers --if-exists',
  ],
  async run(ctx, o) {
    const choice = bookChoice(o, 'delete-tag');
    const names = commaList(need(o, 'tagName', '--tag-name', 'delete-tag'));
    const book = await selectBook(ctx, choice);
    return confirmEach(ctx, names, {
      noun: ['tag', 'tags'],
      verb: 'delete',
      where: ` from ${book.label}`,
      call: (n) => ctx.api.ab.deleteTags(book.guid, [n]),
      present: async () => new Set((await ctx.api.ab.tags(book.guid)).map((t) => t.name)),
      absent: `not in ${book.label}`,
      ...(ifExistsOn(o) ? { ifExists: { what: (t: string) => `Tag '${t}' in ${book.label}` } } : {}),
    });
  },
};

// ---- verbs: rules ----

const viewRule: VerbSpec = {
  name: 'view-rule',
  summary: 'List the sharing rules of a shared address book',
  description: `List who a shared book is shared with: a user, a user group, or everyone, with the permission ro (read), rw (read/write) or full (full control). When several rules match someone, user beats group beats everyone. A personal book has no rules: --personal is not taken. --json keeps the numeric "rule" and adds "rule_label" and "type".`,
  options: sharedBookOpts,
  examples: ['rdadmin ab view-rule --ab-guid <guid>', 'rdadmin ab view-rule --ab-name Team --json'],
  async run(ctx, o) {
    const book = await selectBook(ctx, bookChoice(o, 'view-rule', { personal: false }));
    await list(
      ctx,
      ctx.api.ab.listRules(book.guid),
      ruleJson,
      [
        { header: 'GUID', value: (r) => r.guid },
        { header: 'TYPE', value: (r) => ruleType(r) },
        { header: 'TARGET', value: (r) => r.user ?? r.group ?? '' },
        { header: 'PERMISSION', value: (r) => permissionLabel(r.rule) },
      ],
      'rules',
    );
  },
};

const addRule: VerbSpec = {
  name: 'add-rule',
  summary: 'Share a shared address book with a user, a user group or everyone',
  description: `Add a sharing rule. The type is --rule-type, or follows from --rule-user (a user name) or --rule-group (a user-group name); 'everyone' must be asked for with --rule-type everyone. Only a shared book can be shared: --personal is not taken. Prints the new rule's GUID (for update-rule / delete-rule). With --if-not-exists, a rule the book already has for that target (the same user, group, or everyone) is left as it is (a warning says when its permission differs), exit 0, and its GUID is printed.`,
  options: [
    ...sharedBookOpts,
    opt('rule-type', '<type>', 'user, group or everyone (default: from --rule-user / --rule-group)'),
    opt('rule-user', '<user>', 'the user name (rule type user)'),
    opt('rule-group', '<group>', 'the user-group name (rule type group)'),
    rulePermOpt,
    ifNotExistsOpt('target (user, group or everyone)'),
  ],
  examples: [
    'rdadmin ab add-rule --ab-guid <guid> --rule-user mike --rule-permission ro',
    'rdadmin ab add-rule --ab-name Team --rule-group Support --rule-permission rw',
    'rdadmin ab add-rule --ab-name Team --rule-type everyone --rule-permission ro',
    'rdadmin ab add-rule --ab-name Team --rule-group Support --rule-permission rw --if-not-exists --json',
  ],
  async run(ctx, o) {
    const choice = bookChoice(o, 'add-rule', { personal: false });
    const perm = permissionOf(o, 'add-rule');
    const user = str(o['ruleUser']);
    const group = str(o['ruleGroup']);
    const explicit = str(o['ruleType']);
    let type: 'user' | 'group' | 'everyone';
    if (explicit === undefined) {
      if (user && group) throw new UsageError('Cannot specify both --rule-user and --rule-group');
      if (user) type = 'user';
      else if (group) type = 'group';
      else throw new UsageError('Must specify --rule-type=everyone, --rule-user, or --rule-group');
    } else {
      if (explicit !== 'user' && explicit !== 'group' && explicit !== 'everyone')
        throw new UsageError(`--rule-type must be user, group or everyone (got '${explicit}')`);
      type = explicit;
      if (type === 'user' && !user) throw new UsageError('--rule-user is required when rule-type=user');
      if (type === 'group' && !group) throw new UsageError('--rule-group is required when rule-type=group');
      if (type === 'user' && group) throw new UsageError('Cannot specify --rule-group when rule-type=user');
      if (type === 'group' && user) throw new UsageError('Cannot specify --rule-user when rule-type=group');
      if (type === 'everyone' && (user || group))
        throw new UsageError('Cannot specify --rule-user or --rule-group when rule-type=everyone');
    }
    const book = await selectBook(ctx, choice);
    const targetText = type === 'everyone' ? 'everyone' : `${type} '${type === 'user' ? user : group}'`;
    const once = addRuleOnce(ctx, o, { book, type, user, group, perm, target: targetText });
    if (await once.found()) return;
    if (ctx.flags.dryRun) await ruleChecks(ctx, book, type, type === 'user' ? user : group);
    if (dryRun(ctx, `share ${book.label} with ${targetText} (${permissionLabel(perm)})`, once.created))
      return;
    const res = await once.create(() =>
      ctx.api.ab.addRule({
        guid: book.guid,
        rule: perm,
        ...(type === 'user' ? { user } : {}),
        ...(type === 'group' ? { group } : {}),
      }),
    );
    if (res === EXISTED) return;
    const guid = res?.guid;
    done(
      ctx,
      `Shared ${book.label} with ${targetText}: ${RULE_WORDS[perm]} (${permissionLabel(perm)})${guid ? '' : "; the server did not return the rule's GUID (view-rule shows it)"}.`,
      {
        guid,
        ab: book.guid,
        type,
        ...(type === 'user' ? { user } : {}),
        ...(type === 'group' ? { group } : {}),
        rule: perm,
        rule_label: permissionLabel(perm),
        ...once.created,
      },
      guid,
    );
  },
};

const updateRule: VerbSpec = {
  name: 'update-rule',
  summary: "Change a rule's permission (needs only --rule-guid)",
  description: `Change the permission of a sharing rule. Only --rule-guid and --rule-permission are needed (D-15); --ab-name / --ab-guid are accepted and ignored, for ab.py command lines.`,
  options: [abNameOpt, abGuidOpt, ruleGuidOpt, rulePermOpt],
  examples: ['rdadmin ab update-rule --rule-guid <rule_guid> --rule-permission rw'],
  async run(ctx, o) {
    const guid = need(o, 'ruleGuid', '--rule-guid', 'update-rule').trim();
    const perm = permissionOf(o, 'update-rule');
    if (dryRun(ctx, `set rule ${guid} to ${permissionLabel(perm)}`, {}, RULE_GUID_UNCHECKED)) return;
    await ctx.api.ab.updateRule(guid, perm);
    done(ctx, `Rule ${guid} is now ${RULE_WORDS[perm]} (${permissionLabel(perm)}).`, {
      guid,
      rule: perm,
      rule_label: permissionLabel(perm),
    });
  },
};

const deleteRule: VerbSpec = {
  name: 'delete-rule',
  summary: 'Delete sharing rules (needs only --rule-guid; comma lists allowed)',
  description: `Delete sharing rules: --rule-guid takes a comma list (D-15, D-16); --ab-name / --ab-guid are accepted and ignored. More than one rule needs a confirmation (--yes without a terminal).`,
  options: [abNameOpt, abGuidOpt, ruleGuidOpt],
  examples: [
    'rdadmin ab delete-rule --rule-guid <rule_guid>',
    'rdadmin ab delete-rule --rule-guid <g1>,<g2> --yes',
  ],
  async run(ctx, o) {
    const guids = commaList(need(o, 'ruleGuid', '--rule-guid', 'delete-rule'));
    return confirmEach(ctx, guids, {
      noun: ['rule', 'rules'],
      verb: 'delete',
      where: '',
      call: (g) => ctx.api.ab.deleteRules([g]),
      unchecked: RULE_GUID_UNCHECKED,
    });
  },
};

export const abArea: AreaSpec = {
  name: 'ab',
  aliases: ['address-book', 'address-books'],
  summary:
    'Manage address books: shared and personal books, peers, tags, sharing rules (ab.py), the recycle bin',
  description: `Manage address books, like ab.py. Most verbs work on one book, chosen with --ab-name (exact shared-book name), --ab-guid, or --personal (your own personal book, named '${PERSONAL_BOOK_NAME}' in the client). Every error exits non-zero. Colours show as 0xAARRGGBB, permissions as ro/rw/full; --json keeps the raw numbers next to them. Passwords are never printed.`,
  verbs: [
    viewAb,
    addAb,
    updateAb,
    deleteAb,
    getPersonalAb,
    viewPeer,
    peerVerb('add-peer'),
    peerVerb('update-peer'),
    deletePeer,
    viewRecycle,
    restorePeer,
    emptyRecycle,
    viewTag,
    addTag,
    updateTag,
    renameTag,
    deleteTag,
    viewRule,
    addRule,
    updateRule,
    deleteRule,
  ],
};
