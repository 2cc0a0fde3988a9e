import type { Absent } from './bulk';
import type { Ctx } from './context';
import { type OptSpec, opt } from './verb';

// --if-exists on the delete verbs: a teardown job that runs again converges. A record named
// exactly that is not there (a group, strategy, book, peer, tag, token, or a user or device named
// with --exact) is reported as already gone on stderr ("User group 'X' is not there; nothing to
// delete.") and is not an error: exit 0 when nothing else failed. Only "not there" is forgiven: an
// ambiguous name, a refusal, a usage error or a missing permission fails as without the flag.
//
// --json, one rule: a verb that prints an array of per-target results gives such a target an entry
// `"ok": true, "attempted": false, "outcome": "absent"` (bulk.ts absentEntry); a verb that prints
// one object (strategies delete, tokens revoke) prints `"existed": false` for it, and adds
// `"existed": true` when it did delete one with the flag given.

/** The flag. */
export function ifExistsOpt(): OptSpec {
  return opt(
    'if-exists',
    undefined,
    'a target named that is not there is reported as already gone, not an error (exit 0; --json: "outcome": "absent" or "existed": false)',
  );
}

/** Whether --if-exists was given. */
export function ifExistsOn(o: Record<string, unknown>): boolean {
  return o['ifExists'] === true;
}

/** A target already gone: for Selection.absent and BulkSpec.absent. */
export function absent(what: string, json: Record<string, unknown>): Absent {
  return { what, json };
}

/**
 * A single-object verb's report of its one target already gone (exit 0): stderr, and with --json
 * `json` with `"existed": false` (and the dry run's marks).
 */
export function reportGone(ctx: Ctx, what: string, verb: string, json: Record<string, unknown>): void {
  const dry = ctx.flags.dryRun;
  if (ctx.out.json)
    ctx.out.jsonValue({ ...json, existed: false, ...(dry ? { action: 'none', dry_run: true } : {}) });
  ctx.out.info(`${dry ? 'Dry run: ' : ''}${what} is not there; nothing to ${verb}.`);
}
