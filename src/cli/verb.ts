import type { Ctx } from './context';
import { UsageError } from './errors';

export interface OptSpec {
  flags: string;
  description: string;
  defaultValue?: unknown;
  parser?: (value: string, previous: unknown) => unknown;
  /**
   * Set (to the flag as the scripts spell it) when the option selects records (a filter, a name
   * or ID to look up): an empty value is refused before anything else (emptySelector).
   */
  selects?: string;
  /** Taken but not shown in --help (a flag the verb refuses with a message of its own). */
  hidden?: boolean;
}

/**
 * An option in both spellings (`--group_name` and `--group-name`), so the scripts' spelling and
 * the usual one both work. The attribute is always camelCase (`groupName`).
 */
export function opt(
  name: string,
  arg: string | undefined,
  description: string,
  extra: Partial<OptSpec> = {},
): OptSpec {
  const dash = name.replace(/_/g, '-');
  const under = name.replace(/-/g, '_');
  const names = dash === under ? `--${dash}` : `--${under}, --${dash}`;
  return { flags: arg ? `${names} ${arg}` : names, description, ...extra };
}

/** An option that selects records (see OptSpec.selects); both spellings, as opt(). */
export function selector(
  name: string,
  arg: string,
  description: string,
  extra: Partial<OptSpec> = {},
): OptSpec {
  return opt(name, arg, description, { ...extra, selects: `--${name}` });
}

/**
 * The usage error for a selecting option given an empty value, or undefined. An empty
 * filter would match every record (`wildcard('')` is `%%`), so `--name "$LEAVER" --yes` with the
 * variable unset would act on all of them: refused, for views as well as for changes.
 */
export function emptySelector(flag: string, value: unknown): UsageError | undefined {
  // Blanks are text to look for (`% %`), which an empty value is not.
  if (value !== '') return undefined;
  return new UsageError(
    `${flag} is empty: an empty filter would select every record`,
    `an empty value usually comes from an unset or empty shell variable ("$VAR"); give a value, or leave ${flag} out (a change to every record also needs --all)`,
  );
}

export interface VerbSpec {
  name: string;
  aliases?: string[];
  summary: string;
  description?: string;
  /** Shown under "Examples:" in --help. */
  examples?: string[];
  options?: OptSpec[];
  /** Positional arguments in commander syntax ('<key>', '[value]'); handed over as `o._args`. */
  args?: string[];
  /** Needs a server URL and token (default true). */
  api?: boolean;
  /** Lists the client's global options in its help (default true; `serve` takes none of them). */
  globalsHelp?: boolean;
  /**
   * 'own': the verb takes SIGINT/SIGTERM itself (main()'s handlers are released) and its exit code
   * stands (serve shuts down, exit 0). Otherwise a verb that a signal cuts short exits 130/143
   * (see addVerb).
   */
  signals?: 'own';
  /** Resolves to an exit code, or to nothing for success. */
  run(ctx: Ctx, opts: Record<string, unknown>): Promise<unknown>;
}

export interface AreaSpec {
  name: string;
  aliases?: string[];
  summary: string;
  description?: string;
  verbs: VerbSpec[];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
