import type { z } from 'zod';
import { UsageError } from '../cli/errors';

/** Which flag gave each field of a request body (`info.password` for a nested one). */
export type FlagNames = Record<string, string>;

/**
 * A request body checked, and made what the server would store (names trimmed), by the wire
 * schema the server itself applies (src/wire), so that a dry run refuses what the real run would
 * be refused, and the real run is refused before it is sent. What the schema refuses is a usage
 * error naming the flag that gave the field.
 */
export function checkInput<S extends z.ZodType>(
  schema: S,
  body: unknown,
  flags: FlagNames = {},
): z.output<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  throw new UsageError(problem(r.error.issues[0]!, flags));
}

function problem(issue: z.core.$ZodIssue, flags: FlagNames): string {
  const whole = issue.path.map(String).join('.');
  const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
  if (flags[whole]) return `${flags[whole]} ${message}`;
  const [first, ...rest] = issue.path;
  const flag = flags[String(first ?? '')] ?? (whole ? `--${String(first).replace(/_/g, '-')}` : 'the input');
  if (!rest.length) return `${flag} ${message}`;
  // Inside a field: a record's key (an option name) or a list's item (a tag).
  const where = rest.map((p) => (typeof p === 'number' ? `item ${p + 1}` : `'${String(p)}'`)).join(' ');
  return `${flag} ${where}: ${message}`;
}
