import { type Expression, type SqlBool, sql } from 'kysely';

// Filters follow Pro's LIKE semantics: the value is a pattern (`%`, `_`; `\` escapes), matched
// case-insensitively (also beyond ASCII: both sides are folded in JS, the column is stored folded);
// a lone `-` means "not set".

export function fold(s: string): string {
  return s.normalize('NFC').toLowerCase();
}

/** Returns a SQL condition for `column` (already folded) against the filter value, or null for no filter. */
export function likeFilter(
  column: Expression<string | null>,
  value: string | undefined,
): Expression<SqlBool> | null {
  if (value === undefined || value === '') return null;
  if (value === '-') return sql<SqlBool>`(${column} IS NULL OR ${column} = '')`;
  return sql<SqlBool>`${column} LIKE ${fold(value)} ESCAPE '\\'`;
}

/**
 * likeFilter() for fixed SQL text (FixedSql): appends the condition on `column` (already folded)
 * to `where` and its value to `params`; nothing for no filter.
 */
export function likeCondition(
  column: string,
  value: string | undefined,
  where: string[],
  params: (string | number)[],
): void {
  if (value === undefined || value === '') return;
  if (value === '-') where.push(`(${column} IS NULL OR ${column} = '')`);
  else {
    where.push(`${column} LIKE ? ESCAPE '\\'`);
    params.push(fold(value));
  }
}

/** A LIKE pattern read as SQLite reads it: literal characters and wildcards, escapes resolved. */
type LikeToken = { lit: string } | { wild: '%' | '_' };

/** The tokens of a (folded) pattern; `dangling` when it ends in a lone escape (it matches nothing). */
function likeTokens(value: string): { tokens: LikeToken[]; dangling: boolean } {
  // SQLite's LIKE reads its pattern as a C string: a NUL ends it. The tokens must end there too,
  // or the trigram query would demand text the LIKE never looks at (and FTS5 refuses a NUL).
  const nul = value.indexOf('\0');
  const chars = [...fold(nul === -1 ? value : value.slice(0, nul))];
  const tokens: LikeToken[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '\\') {
      if (i + 1 >= chars.length) return { tokens, dangling: true };
      tokens.push({ lit: chars[++i]! });
    } else if (ch === '%' || ch === '_') tokens.push({ wild: ch });
    else tokens.push({ lit: ch });
  }
  return { tokens, dangling: false };
}

/**
 * The literal runs of a LIKE filter (folded), split at the wildcards `%` and `_`. A value the
 * pattern matches contains every one of them, so an index of substrings can narrow the rows
 * before the LIKE itself decides. A lone `-` (not set) has none.
 */
export function likeLiterals(value: string | undefined): string[] {
  if (value === undefined || value === '' || value === '-') return [];
  const out: string[] = [];
  let run = '';
  // (With a dangling escape the pattern matches nothing; the runs before it still hold.)
  for (const t of likeTokens(value).tokens) {
    if ('lit' in t) run += t.lit;
    else {
      if (run) out.push(run);
      run = '';
    }
  }
  if (run) out.push(run);
  return out;
}

/**
 * L when the filter is exactly `%L%` (L without wildcards, escapes resolved, folded, and not
 * ending in a stray escape): the filter then means "contains L", nothing more.
 */
export function containedLiteral(value: string | undefined): string | null {
  if (value === undefined || value === '' || value === '-') return null;
  const { tokens: t, dangling } = likeTokens(value);
  if (dangling) return null;
  const first = t[0];
  const last = t[t.length - 1];
  if (t.length < 3 || !first || !last || !('wild' in first) || !('wild' in last)) return null;
  if (first.wild !== '%' || last.wild !== '%') return null;
  const inner = t.slice(1, -1);
  return inner.every((x) => 'lit' in x) ? inner.map((x) => (x as { lit: string }).lit).join('') : null;
}

/** An FTS5 phrase for a trigram index: the string, quoted. */
function phrase(column: string, text: string): string {
  return `${column} : "${text.replace(/"/g, '""')}"`;
}

/**
 * An FTS5 query (trigram tokenizer) that every row matching the LIKE filters satisfies: each
 * literal run of three or more characters, as a phrase in its column. `exact` when the query
 * matches exactly those rows (every filter given is `%L%` with L of three or more characters).
 * Null when no run is long enough (a trigram index cannot help with shorter ones).
 */
export function trigramQuery(
  filters: Record<string, string | undefined>,
): { match: string; exact: boolean } | null {
  const terms: string[] = [];
  let exact = true;
  for (const [column, value] of Object.entries(filters)) {
    if (value === undefined || value === '') continue;
    const runs = likeLiterals(value).filter((r) => [...r].length >= 3);
    for (const run of runs) terms.push(phrase(column, run));
    const whole = containedLiteral(value);
    if (whole === null || [...whole].length < 3) exact = false;
  }
  return terms.length ? { match: terms.join(' AND '), exact } : null;
}
