import { type Expression, type SqlBool, sql } from 'kysely';

// Filters follow Pro's LIKE semantics: the value is a pattern (`%`, `_`; `\` escapes), matched
// case-insensitively (also beyond ASCII: both sides are folded in JS, the column is stored folded);
// a lone `-` means "not set".

export function fold(s: string): string {
  return s.normalize('NFC').toLowerCase();
}

/**
 * fold() of the text SQLite's LIKE reads: up to the first NUL (LIKE reads a value and a pattern as
 * C strings). The devices' folded columns hold this, so their trigram index (migration 0007), which
 * would see past a NUL, indexes exactly what a LIKE sees: a `%abc%` filter answered by the index
 * alone then matches the rows its LIKE matches.
 */
export function foldLike(s: string): string {
  const nul = s.indexOf('\0');
  return fold(nul === -1 ? s : s.slice(0, nul));
}

/** Returns a SQL condition for `column` (already folded) against the filter value, or null for no filter. */
export function likeFilter(
  column: Expression<string | null>,
  value: string | undefined,
): Expression<SqlBool> | null {
  if (value === undefined || value === '') return null;
  if (value === '-') return sql<SqlBool>`(${column} IS NULL OR ${column} = '')`;
  const parts = likeSql(value).map((p) =>
    typeof p === 'string' ? sql.raw(p) : 'param' in p ? sql`${p.param}` : column,
  );
  return sql<SqlBool>`${sql.join(parts, sql.raw(''))}`;
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
  if (value === '-') {
    where.push(`(${column} IS NULL OR ${column} = '')`);
    return;
  }
  let text = '';
  for (const p of likeSql(value)) {
    if (typeof p === 'string') text += p;
    else if ('param' in p) {
      text += '?';
      params.push(p.param);
    } else text += column;
  }
  where.push(text);
}

/** SQL text, a parameter, or the filtered column. */
type Part = string | { param: string | number } | { column: true };

/**
 * The condition `column LIKE fold(value) ESCAPE '\\'`, as SQL whose cost is bounded by the length
 * of the column's value, not by value × pattern. SQLite tries a `%` followed by more pattern at
 * every position of the value, comparing it there each time: `%xxx…` (500 characters) took 0.6 ms
 * on each 2,000-character value of x's, and `%x_x_…q` 1 ms (seconds, on the main thread, for a few
 * thousand planted devices). So:
 * - `%L%` with L plain text: instr() finds L with memcmp (0.01 ms on those values); lower() gives
 *   LIKE's case folding (ASCII only, as LIKE's), and substr() to length() ends the value at a NUL,
 *   where LIKE stops reading it.
 * - a pattern whose last `%` is followed by more (literals and `_`: T characters): the value's last
 *   T characters (before a NUL: length() counts to it) must match that tail, and what precedes
 *   them the rest of the pattern (which ends in `%`: in turn `%L%`, or a LIKE).
 * - otherwise LIKE: without `%`, or ending in one, SQLite's LIKE costs value + pattern, except for
 *   the middle runs of `…%a%b%`, where a near miss costs value × run (trigramQuery() narrows the
 *   rows first where the index can).
 * A pattern that ends in a lone escape matches nothing; a NUL ends the pattern (likeTokens).
 */
function likeSql(value: string): Part[] {
  const { tokens, dangling } = likeTokens(value);
  if (dangling) return ['(0 = 1)'];
  return likeParts([{ column: true }], tokens);
}

function likeParts(subject: Part[], tokens: LikeToken[]): Part[] {
  const render = (ts: LikeToken[]) => ts.map((t) => ('lit' in t ? escapeLike(t.lit) : t.wild)).join('');
  const isAny = (t: LikeToken | undefined) => t !== undefined && 'wild' in t && t.wild === '%';
  const like = (ts: LikeToken[]): Part[] => [...subject, ' LIKE ', { param: render(ts) }, " ESCAPE '\\'"];
  const lastAny = tokens.findLastIndex(isAny);
  if (lastAny === -1) return like(tokens);
  const inner = tokens.slice(1, -1);
  if (
    tokens.length >= 3 &&
    isAny(tokens[0]) &&
    lastAny === tokens.length - 1 &&
    inner.every((t) => 'lit' in t)
  ) {
    const literal = inner.map((t) => (t as { lit: string }).lit).join('');
    return [
      'instr(lower(substr(',
      ...subject,
      ', 1, length(',
      ...subject,
      '))), ',
      { param: literal },
      ') > 0',
    ];
  }
  const tail = tokens.slice(lastAny + 1);
  if (tail.length === 0) return like(tokens);
  const len: Part[] = ['length(', ...subject, ')'];
  // Characters a match needs at least: one per literal and `_` (a `%` may match none).
  const fixed = tokens.filter((t) => !isAny(t)).length;
  const head = likeParts(
    ['substr(', ...subject, ', 1, ', ...len, ' - ', { param: tail.length }, ')'],
    tokens.slice(0, lastAny + 1),
  );
  return [
    '(',
    ...len,
    ' >= ',
    { param: fixed },
    ' AND substr(',
    ...subject,
    ', ',
    ...len,
    ' - ',
    { param: tail.length - 1 },
    ', ',
    { param: tail.length },
    ')',
    ' LIKE ',
    { param: render(tail) },
    " ESCAPE '\\'",
    ' AND ',
    ...head,
    ')',
  ];
}

function escapeLike(ch: string): string {
  return ch === '%' || ch === '_' || ch === '\\' ? `\\${ch}` : ch;
}

/** A LIKE pattern read as SQLite reads it: literal characters and wildcards, escapes resolved. */
type LikeToken = { lit: string } | { wild: '%' | '_' };

/** The tokens of a (folded) pattern; `dangling` when it ends in a lone escape (it matches nothing). */
function likeTokens(value: string): { tokens: LikeToken[]; dangling: boolean } {
  // SQLite's LIKE reads its pattern as a C string: a NUL ends it. The tokens must end there too,
  // or the trigram query would demand text the LIKE never looks at (and FTS5 refuses a NUL).
  const chars = [...foldLike(value)];
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

/** Longest literal run that goes to the index whole, as one phrase (8 characters: 6 trigrams). */
const PHRASE_MAX = 8;
/** Trigrams taken from a longer run: its first, its last, and some spread between. */
const RUN_TRIGRAMS = 6;
/** Most terms in one query: the rest of the runs are left to the LIKE. */
const TERMS_MAX = 12;

/**
 * The index terms for one literal run: the run as a phrase while it is short, else a few of its
 * trigrams, each a term of its own. A phrase makes FTS5 line up every token's positions in each
 * row: a 500-character run was a 498-token phrase, and on rows holding a long run of one character
 * (a trigram at each of 2,000 positions) it took seconds for a few thousand rows. A few trigrams
 * narrow the rows about as well; the LIKE decides on the whole value (`exact` is then false).
 */
function runTerms(column: string, run: string): { terms: string[]; whole: boolean } {
  const chars = [...run];
  if (chars.length <= PHRASE_MAX) return { terms: [phrase(column, run)], whole: true };
  const last = chars.length - 3;
  const picked = new Set<string>();
  for (let i = 0; i < RUN_TRIGRAMS; i++) {
    const at = Math.round((i * last) / (RUN_TRIGRAMS - 1));
    picked.add(chars.slice(at, at + 3).join(''));
  }
  return { terms: [...picked].map((t) => phrase(column, t)), whole: false };
}

/**
 * An FTS5 query (trigram tokenizer) that every row matching the LIKE filters satisfies: for each
 * literal run of three or more characters, the run as a phrase in its column, or a few of its
 * trigrams (runTerms()), at most TERMS_MAX terms in all. `exact` when the query matches exactly
 * those rows (every filter given is `%L%` with L of three to PHRASE_MAX characters). Null when no
 * run is long enough (a trigram index cannot help with shorter ones).
 */
export function trigramQuery(
  filters: Record<string, string | undefined>,
): { match: string; exact: boolean } | null {
  const terms: string[] = [];
  let exact = true;
  for (const [column, value] of Object.entries(filters)) {
    if (value === undefined || value === '') continue;
    const runs = likeLiterals(value).filter((r) => [...r].length >= 3);
    for (const run of runs) {
      const t = runTerms(column, run);
      if (!t.whole) exact = false;
      for (const term of t.terms) {
        if (terms.includes(term)) continue;
        if (terms.length >= TERMS_MAX) exact = false;
        else terms.push(term);
      }
    }
    const whole = containedLiteral(value);
    if (whole === null || [...whole].length < 3) exact = false;
  }
  return terms.length ? { match: terms.join(' AND '), exact } : null;
}
