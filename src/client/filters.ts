// Filter values sent to list endpoints.

/**
 * The scripts' wildcard rule: a lone `-` ("not set") and any value holding `%` (the user's own
 * pattern) go as they are; anything else becomes a substring match `%value%`.
 */
export function wildcard(value: string): string {
  if (value === '-' || value.includes('%')) return value;
  return `%${value}%`;
}

/** Escapes LIKE metacharacters so the server matches the text literally (`\` is the escape). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Splits a comma list, trimming items and dropping empty ones and duplicates (order kept). `\,` is
 * a comma inside an item (names that hold one: a tag or user created elsewhere); any other
 * backslash is kept as it is.
 */
export function commaList(value: string | undefined): string[] {
  if (!value) return [];
  return [
    ...new Set(
      value
        .split(/(?<!\\),/)
        .map((s) => s.replaceAll('\\,', ',').trim())
        .filter(Boolean),
    ),
  ];
}

/**
 * ab.py's `--tags` syntax: `[]` is the empty list; otherwise one pair of surrounding brackets is
 * dropped and the rest is a comma list (commaList: items trimmed, empty ones and repeats dropped,
 * `\,` a comma inside a tag).
 */
export function parseTags(text: string): string[] {
  let t = text.trim();
  if (t === '[]') return [];
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  return commaList(t);
}
