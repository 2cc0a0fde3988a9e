import { LookupError, NotFoundError } from '../cli/errors';
import { escapeLike } from './filters';

/**
 * Finds the one record whose name (or `key`) is exactly `name` (case-sensitive), through a list function
 * that takes a LIKE pattern. The escaped pattern narrows the search on servers that honour `\`;
 * if nothing matches and the name holds LIKE metacharacters, the raw name (a pattern that always
 * matches itself) is tried too, for servers without that escape. Candidates are filtered here,
 * so GUIDs are never guessed from the shape of a string (D-3).
 */
export async function resolveExact<T>(
  kind: string,
  name: string,
  list: (pattern: string) => AsyncIterable<T>,
  key: (row: T) => string = (row) => (row as { name: string }).name,
): Promise<T> {
  const patterns = [escapeLike(name)];
  if (patterns[0] !== name) patterns.push(name);
  const near: string[] = [];
  for (const pattern of patterns) {
    const exact: T[] = [];
    for await (const row of list(pattern)) {
      const k = key(row);
      if (k === name) exact.push(row);
      else if (near.length < 5 && !near.includes(k)) near.push(k);
    }
    if (exact.length === 1) return exact[0]!;
    if (exact.length > 1) {
      const guids = exact.map((r) => (r as { guid?: unknown }).guid).filter((g) => typeof g === 'string');
      throw new LookupError(
        `${kind} name '${name}' is ambiguous: ${exact.length} records have it`,
        guids.length ? `candidates (GUID): ${guids.join(', ')}` : undefined,
      );
    }
  }
  throw new NotFoundError(
    `${kind} '${name}' not found`,
    near.length ? `similar names: ${near.join(', ')}` : undefined,
  );
}

/**
 * The rows `hit` accepts, listed by `list(false)` with the values escaped; when it finds none and
 * escaping changed a value (`escapes`), by `list(true)` with them raw too: a server that ignores
 * `\` escapes reads the backslash literally and finds nothing, and a raw value is a pattern that
 * always matches itself (the rows are held to the exact value by `hit`).
 */
export async function* exactMatches<T>(
  list: (raw: boolean) => AsyncIterable<T>,
  hit: (row: T) => boolean,
  escapes: boolean,
): AsyncGenerator<T> {
  let found = 0;
  for await (const row of list(false)) {
    if (hit(row)) {
      found++;
      yield row;
    }
  }
  if (found === 0 && escapes) for await (const row of list(true)) if (hit(row)) yield row;
}

/** Rows whose `key` is exactly `value` (case-sensitive), through a list that takes a LIKE pattern. */
export function exactRows<T>(
  value: string,
  list: (pattern: string) => AsyncIterable<T>,
  key: (row: T) => string | null | undefined,
): AsyncGenerator<T> {
  const escaped = escapeLike(value);
  return exactMatches(
    (raw) => list(raw ? value : escaped),
    (row) => key(row) === value,
    escaped !== value,
  );
}

/**
 * Whether a record is named exactly `name` (case-sensitive): what a dry run checks before it says a
 * create or a rename would go through. The same lookups as resolveExact, reads only.
 */
export async function nameExists<T>(
  name: string,
  list: (pattern: string) => AsyncIterable<T>,
  key: (row: T) => string = (row) => (row as { name: string }).name,
): Promise<boolean> {
  for await (const _ of exactRows(name, list, key)) return true;
  return false;
}

/**
 * A target given as a name or a GUID (D-3): the exact name wins; only if no record has that name
 * is it looked up as a GUID among all records. Nothing is guessed from the shape of the text.
 */
export async function resolveNameOrGuid<T extends { guid: string }>(
  kind: string,
  text: string,
  list: (pattern: string | undefined) => AsyncIterable<T>,
  key: (row: T) => string = (row) => (row as unknown as { name: string }).name,
): Promise<T> {
  try {
    return await resolveExact(kind, text, (p) => list(p), key);
  } catch (err) {
    if (!(err instanceof LookupError) || /ambiguous/.test(err.message)) throw err;
    const near: string[] = [];
    const needle = text.toLowerCase();
    for await (const row of list(undefined)) {
      if (row.guid === text) return row;
      const k = key(row);
      if (near.length < 5 && looksLike(k.toLowerCase(), needle)) near.push(k);
    }
    if (near.length && !err.hint) throw new LookupError(err.message, `similar: ${near.join(', ')}`);
    throw err;
  }
}

/**
 * A name worth suggesting for a mistyped one: it holds the text, or is at most one edit away from it
 * (two for texts of eight or more characters); an edit is an insertion, deletion, substitution or
 * a swap of two neighbouring characters. Both are lower-cased by the caller.
 */
export function looksLike(name: string, text: string): boolean {
  if (name.includes(text)) return true;
  const limit = text.length >= 8 ? 2 : text.length >= 3 ? 1 : 0;
  if (limit === 0 || Math.abs(name.length - text.length) > limit) return false;
  // Optimal string alignment distance, three rows, given up once a row is past the limit.
  let prev2: number[] = [];
  let prev = Array.from({ length: text.length + 1 }, (_, j) => j);
  for (let i = 1; i <= name.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= text.length; j++) {
      const cost = name[i - 1] === text[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && name[i - 1] === text[j - 2] && name[i - 2] === text[j - 1])
        d = Math.min(d, prev2[j - 2]! + 1);
      row.push(d);
      if (d < best) best = d;
    }
    if (best > limit) return false;
    prev2 = prev;
    prev = row;
  }
  return prev[text.length]! <= limit;
}
