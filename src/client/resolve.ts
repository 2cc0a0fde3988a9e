import { LookupError } from '../cli/errors';
import { escapeLike } from './filters';

/**
 * Finds the one record whose name is exactly `name` (case-sensitive), through a list function
 * that takes a LIKE pattern. The escaped pattern narrows the search on servers that honour `\`;
 * if nothing matches and the name holds LIKE metacharacters, the raw name (a pattern that always
 * matches itself) is tried too, for servers without that escape. Candidates are filtered here,
 * so GUIDs are never guessed from the shape of a string (D-3).
 */
export async function resolveExact<T extends { name: string }>(
  kind: string,
  name: string,
  list: (pattern: string) => AsyncIterable<T>,
): Promise<T> {
  const patterns = [escapeLike(name)];
  if (patterns[0] !== name) patterns.push(name);
  const near: string[] = [];
  for (const pattern of patterns) {
    const exact: T[] = [];
    for await (const row of list(pattern)) {
      if (row.name === name) exact.push(row);
      else if (near.length < 5 && !near.includes(row.name)) near.push(row.name);
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
  throw new LookupError(
    `${kind} '${name}' not found`,
    near.length ? `similar names: ${near.join(', ')}` : undefined,
  );
}
