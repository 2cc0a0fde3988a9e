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
