import { type Absent, absentEntry, absentLine } from './bulk';
import type { Ctx } from './context';
import { AuthError, LookupError, NotConfirmedError, PartialFailure } from './errors';
import { visible } from './output';

export interface Selection<T> {
  /** Singular and plural nouns: ['user', 'users']. */
  noun: [string, string];
  /** The verb as typed: 'disable'. */
  verb: string;
  rows: T[];
  label: (row: T) => string;
  /** Row identity for --json output. */
  describe: (row: T) => Record<string, unknown>;
  /** True when the single match is exactly what was asked for (no confirmation needed). */
  exact: (row: T) => boolean;
  /** Set for a verb confirmed even for one exact match: why (e.g. it deletes for good). */
  always?: string;
  /**
   * Why the server would refuse this target, as far as the rows (or reads made before) tell: a
   * dry run names these targets and exits 1, as the real run would (an enabled user cannot be
   * deleted). Undefined: nothing known against it.
   */
  refuse?: (row: T) => string | undefined;
  /**
   * What --exact named ("user 'bob'"): a record the command names exactly that is not there is an
   * error (exit 1), as for every verb that takes one name, not "Found 0". Unset for a filter.
   */
  named?: string;
  /**
   * Targets named under --if-exists that are not there: reported as already gone (a dry run's
   * listing too), not an error. The real run's runBulk reports them (its `absent`).
   */
  absent?: readonly Absent[];
}

/** Reports targets already gone (--if-exists) when nothing else is left to do: exit 0. */
function onlyAbsent<T>(ctx: Ctx, s: Selection<T>, absent: readonly Absent[]): null {
  const dry = ctx.flags.dryRun === true;
  if (ctx.out.json) ctx.out.jsonValue(absent.map((a) => absentEntry(a, s.verb, dry)));
  else for (const a of absent) ctx.out.info(absentLine(a, s.verb));
  const n = absent.length;
  ctx.out.info(
    `${dry ? 'Dry run: nothing' : 'Nothing'} to ${s.verb}: the ${n === 1 ? s.noun[0] : `${n} ${s.noun[1]}`} named ${n === 1 ? 'is' : 'are'} already gone (--if-exists).`,
  );
  return null;
}

function listTargets<T>(ctx: Ctx, s: Pick<Selection<T>, 'rows' | 'label'>, max = 20): void {
  const shown = s.rows.slice(0, max);
  // One line per target (a label may hold a server's line break: shown as \n).
  for (const r of shown) ctx.out.info(`  ${visible(s.label(r))}`);
  if (s.rows.length > shown.length) ctx.out.info(`  … and ${s.rows.length - shown.length} more`);
}

/**
 * The safety gate of every mutating verb (engineering.md §6). Returns the rows to act on, or
 * `null` when nothing should be done (no match, or --dry-run, whose listing it prints).
 * Throws NotConfirmedError (exit 3) when a needed confirmation is refused or cannot be asked, and
 * PartialFailure (exit 1) after a dry run in which `refuse` found targets the server would refuse.
 */
export async function confirmTargets<T>(ctx: Ctx, s: Selection<T>): Promise<T[] | null> {
  const n = s.rows.length;
  const noun = n === 1 ? s.noun[0] : s.noun[1];
  if (n === 0 && s.absent?.length) return onlyAbsent(ctx, s, s.absent);
  if (n === 0) {
    if (s.named)
      throw new LookupError(
        `${s.named} not found: nothing to ${s.verb}`,
        '--exact matches the whole value, case-sensitively; without it the value is a substring',
      );
    if (ctx.out.json) ctx.out.jsonValue([]);
    ctx.out.info(`Found 0 ${s.noun[1]}`);
    return null;
  }
  if (ctx.flags.dryRun) {
    dryRunTargets(ctx, s);
    return null;
  }
  const needsConfirm = s.always !== undefined || n > 1 || !s.exact(s.rows[0]!);
  if (!needsConfirm || ctx.flags.yes) return s.rows;
  const why =
    n > 1
      ? `${n} ${noun} match`
      : s.exact(s.rows[0]!)
        ? `${s.label(s.rows[0]!)}: ${s.always}`
        : `the only match, '${s.label(s.rows[0]!)}', is not an exact match`;
  const question = `${s.verb[0]!.toUpperCase()}${s.verb.slice(1)} ${n} ${noun}?`;
  await ask(ctx, { verb: s.verb, found: `${n} ${noun}`, question, them: n === 1 ? 'it' : 'them', why }, () =>
    listTargets(ctx, s),
  );
  return s.rows;
}

/**
 * A dry run's report: every target (stdout), and those the real run would have refused, each with
 * the reason (stderr; with --json, `ok: false` and `error` in its entry), then exit 1 for them.
 */
function dryRunTargets<T>(ctx: Ctx, s: Selection<T>): void {
  const n = s.rows.length;
  const refused: [T, string][] = [];
  for (const r of s.rows) {
    const why = s.refuse?.(r);
    if (why !== undefined) refused.push([r, why]);
  }
  const reasons = new Map(refused);
  const absent = s.absent ?? [];
  if (ctx.out.json) {
    ctx.out.jsonValue([
      ...absent.map((a) => absentEntry(a, s.verb, true)),
      ...s.rows.map((r) => {
        const why = reasons.get(r);
        return {
          ...s.describe(r),
          action: s.verb,
          dry_run: true,
          ...(why === undefined ? {} : { ok: false, error: why }),
        };
      }),
    ]);
  } else {
    for (const a of absent) ctx.out.info(absentLine(a, s.verb));
    for (const r of s.rows) ctx.out.data(visible(s.label(r)));
  }
  const gone = absent.length ? ` (${absent.length} already gone)` : '';
  ctx.out.info(
    `Dry run: would ${s.verb} ${n} ${n === 1 ? s.noun[0] : s.noun[1]}${gone}; nothing was changed.`,
  );
  if (!refused.length) return;
  if (n === 1) {
    const [[row, why]] = refused as [[T, string]];
    throw new PartialFailure(`the real run would fail for ${visible(s.label(row))}: ${why}`);
  }
  for (const [row, why] of refused.slice(0, 20))
    ctx.out.info(`  would fail: ${visible(s.label(row))}: ${visible(why)}`);
  if (refused.length > 20) ctx.out.info(`  … and ${refused.length - 20} more`);
  throw new PartialFailure(
    `the real run would fail for ${refused.length} of the ${n} ${s.noun[1]} (named above)`,
  );
}

/**
 * Lists the targets (on stderr) and asks; without a terminal, lists them and refuses (exit 3), so a
 * CI log shows what the command would have changed.
 */
async function ask(
  ctx: Ctx,
  q: { verb: string; found: string; question: string; them: string; why: string },
  list: () => void,
): Promise<void> {
  ctx.out.info(`Found ${q.found}:`);
  list();
  if (!ctx.interactive) {
    throw new NotConfirmedError(
      `${q.why}; confirmation is needed and there is no terminal to ask`,
      `pass --yes to ${q.verb} ${q.them}, or --dry-run to list ${q.them}`,
    );
  }
  const ok = await ctx.confirm(q.question);
  if (!ok) throw new NotConfirmedError('cancelled; nothing was changed');
}

/**
 * The gate of a verb whose targets are named exactly (a comma list of names or IDs): a change to
 * more than one record is confirmed as a filter's matches are. `question` is the whole question
 * ("Add 3 users to 'Sales'?"). Call it after --dry-run is handled.
 */
export async function confirmNamed(
  ctx: Ctx,
  c: { verb: string; noun: [string, string]; labels: readonly string[]; question: string },
): Promise<void> {
  const n = c.labels.length;
  if (n <= 1 || ctx.flags.yes) return;
  const found = `${n} ${c.noun[1]}`;
  await ask(
    ctx,
    { verb: c.verb, found, question: c.question, them: 'them', why: `this changes ${found}` },
    () => listTargets(ctx, { rows: [...c.labels], label: (l: string) => l }),
  );
}

/** A dry run's check by reads only: what it checks ("user 'bob'"), and the check (throws a refusal). */
export type DryRunCheck = [string, () => Promise<void>];

/**
 * Runs a dry run's checks in order; one the caller may not make (a token without read access to
 * that area: 401/403) is skipped with a warning, as the real run's server checks it anyway.
 */
export async function runChecks(ctx: Ctx, checks: readonly DryRunCheck[]): Promise<void> {
  for (const [what, check] of checks) {
    try {
      await check();
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      ctx.out.warn(`could not check ${what}: ${err.message}`);
    }
  }
}
