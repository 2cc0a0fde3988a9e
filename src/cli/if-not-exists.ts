import type { Ctx } from './context';
import { ApiError, GatewayError, MissingEndpointError, RateLimitedError } from './errors';
import { type OptSpec, opt } from './verb';

// --if-not-exists on the create verbs: a provisioning job that runs again converges. A record that
// already exists (the same identity: name, peer ID, tag name, rule target) is reported and left
// alone, exit 0; a create that loses a race (another job made the record between the lookup and
// the create: 409 from rdadmin serve, a 200 {"error"} from Pro) looks again and reports it the same
// way. Only the identity is compared: other values given that differ are named in a warning, with
// the verb that changes them, and are not changed.

/** The flag; `identity`: what is compared ("name", "peer ID", "target"). */
export function ifNotExistsOpt(identity = 'name'): OptSpec {
  return opt(
    'if-not-exists',
    undefined,
    `if one with that ${identity} already exists, change nothing and exit 0 (nothing else is compared; --json: "existed": true)`,
  );
}

/** One value given to the create that the existing record does not have. */
export interface Difference {
  /**
   * 'group', 'note', "'accessed from' rules"; without `have` and `given`, the whole phrase after
   * "already exists with": "another shared password than given".
   */
  field: string;
  /** How each is shown, quoted as needed; left out for a secret (never shown). */
  have?: string;
  given?: string;
  /** The command (or the advice) that changes it. */
  how: string;
}

export interface ExistsSpec<T> {
  /** The record as messages name it, capitalised: "User 'alice'", "Peer '123' in address book 'Team'". */
  what: string;
  /** The record, looked up exactly (reads only); undefined when there is none. */
  find(): Promise<T | undefined>;
  /** What the create prints with --json on success, from the existing record (`existed` is added). */
  json(row: T): object;
  /** The values given that differ from the existing record's. */
  differs?(row: T): Difference[];
}

/** create()'s answer when the record turned out to exist (already reported). */
export const EXISTED: unique symbol = Symbol('existed');

export interface IfNotExists {
  /** Whether --if-not-exists was given. */
  readonly on: boolean;
  /** For the create's JSON: `{existed: false}` when on, else nothing (the shape without the flag). */
  readonly created: { existed?: false };
  /**
   * Before the create (and its dry run's checks): when on and the record exists, reports it (dry
   * run too) and answers true: the verb is done, exit 0.
   */
  found(): Promise<boolean>;
  /**
   * The create. When on and the server refuses it as a conflict (the record made meanwhile by
   * another job), looks again: EXISTED when it is there now (reported); otherwise the refusal.
   */
  create<R>(call: () => Promise<R>): Promise<R | typeof EXISTED>;
}

/**
 * A refusal that may mean "it exists now": 409 (rdadmin serve), an `{"error"}` on a 2xx (Pro), or
 * another 4xx. Not a gateway's answer (the create may have gone through: NOT CONFIRMED stays), not
 * a 429 (nothing was done), not a 5xx, not 401/403 (AuthError, not an ApiError).
 */
function mayBeConflict(err: unknown): err is ApiError {
  if (!(err instanceof ApiError)) return false;
  if (err instanceof GatewayError || err instanceof RateLimitedError || err instanceof MissingEndpointError)
    return false;
  return err.status < 300 || (err.status >= 400 && err.status < 500);
}

export function ifNotExists<T>(ctx: Ctx, o: Record<string, unknown>, spec: ExistsSpec<T>): IfNotExists {
  const on = o['ifNotExists'] === true;
  const report = (row: T) => {
    const dry = ctx.flags.dryRun;
    for (const d of spec.differs?.(row) ?? []) {
      const which =
        d.have !== undefined && d.given !== undefined
          ? `${d.field} ${d.have}, not ${d.given} as given`
          : d.field;
      ctx.out.warn(
        `${spec.what} already exists with ${which}: it ${dry ? 'would not be' : 'was not'} changed (--if-not-exists); to change it: ${d.how}`,
      );
    }
    if (ctx.out.json)
      ctx.out.jsonValue({
        ...spec.json(row),
        existed: true,
        ...(dry ? { action: 'none', dry_run: true } : {}),
      });
    ctx.out.info(
      dry
        ? `Dry run: ${spec.what} already exists; nothing would change.`
        : `${spec.what} already exists; nothing changed.`,
    );
  };
  return {
    on,
    created: on ? { existed: false } : {},
    async found() {
      if (!on) return false;
      const row = await spec.find();
      if (row === undefined) return false;
      report(row);
      return true;
    },
    async create<R>(call: () => Promise<R>): Promise<R | typeof EXISTED> {
      try {
        return await call();
      } catch (err) {
        if (!on || !mayBeConflict(err)) throw err;
        let row: T | undefined;
        try {
          row = await spec.find();
        } catch {
          throw err; // the lookup failed too: the create's own error is the one to report
        }
        if (row === undefined) throw err;
        report(row);
        return EXISTED;
      }
    },
  };
}

/** The first row of an exact lookup (resolve.ts exactRows), or undefined. */
export async function firstOf<T>(rows: AsyncIterable<T>): Promise<T | undefined> {
  for await (const row of rows) return row;
  return undefined;
}

/** A value in a message: quoted, or (none) for an empty one. */
export function shown(value: string | null | undefined): string {
  return value ? `'${value}'` : '(none)';
}

/** A word of a command line to copy: quoted for a POSIX shell when it needs to be. */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
