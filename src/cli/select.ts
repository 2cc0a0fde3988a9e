import type { Ctx } from './context';
import { NotConfirmedError } from './errors';

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
}

function listTargets<T>(ctx: Ctx, s: Selection<T>, max = 20): void {
  const shown = s.rows.slice(0, max);
  for (const r of shown) ctx.out.info(`  ${s.label(r)}`);
  if (s.rows.length > shown.length) ctx.out.info(`  … and ${s.rows.length - shown.length} more`);
}

/**
 * The safety gate of every mutating verb (engineering.md §6). Returns the rows to act on, or
 * `null` when nothing should be done (no match, or --dry-run, whose listing it prints).
 * Throws NotConfirmedError (exit 3) when a needed confirmation is refused or cannot be asked.
 */
export async function confirmTargets<T>(ctx: Ctx, s: Selection<T>): Promise<T[] | null> {
  const n = s.rows.length;
  const noun = n === 1 ? s.noun[0] : s.noun[1];
  if (n === 0) {
    if (ctx.out.json) ctx.out.jsonValue([]);
    ctx.out.info(`Found 0 ${s.noun[1]}`);
    return null;
  }
  if (ctx.flags.dryRun) {
    if (ctx.out.json) {
      ctx.out.jsonValue(s.rows.map((r) => ({ ...s.describe(r), action: s.verb, dry_run: true })));
    } else {
      for (const r of s.rows) ctx.out.data(s.label(r));
    }
    ctx.out.info(`Dry run: would ${s.verb} ${n} ${noun}; nothing was changed.`);
    return null;
  }
  const needsConfirm = n > 1 || !s.exact(s.rows[0]!);
  if (!needsConfirm || ctx.flags.yes) return s.rows;
  const why =
    n > 1 ? `${n} ${noun} match` : `the only match, '${s.label(s.rows[0]!)}', is not an exact match`;
  if (!ctx.interactive) {
    throw new NotConfirmedError(
      `${why}; confirmation is needed and there is no terminal to ask`,
      `pass --yes to ${s.verb} ${n === 1 ? 'it' : 'them'}, or --dry-run to list ${n === 1 ? 'it' : 'them'}`,
    );
  }
  ctx.out.info(`Found ${n} ${noun}:`);
  listTargets(ctx, s);
  const ok = await ctx.confirm(`${s.verb[0]!.toUpperCase()}${s.verb.slice(1)} ${n} ${noun}?`);
  if (!ok) throw new NotConfirmedError('cancelled; nothing was changed');
  return s.rows;
}
