import type { Ctx } from './context';
import {
  ApiError,
  AuthError,
  type CliError,
  Exit,
  GatewayError,
  InterruptedError,
  MissingEndpointError,
  NetworkError,
  NotSentError,
  PartialFailure,
  RateLimitedError,
  RequestInterruptedError,
  TimeoutError,
} from './errors';
import { visible } from './output';

/** How the results of a bulk run are worded (runBulk, sendTogether). */
export interface ReportSpec<T> {
  /** Past tense for results: 'Disabled'. */
  done: string;
  /** Infinitive for failures: 'disable'; also each JSON entry's `action`, unless `jsonAction`. */
  verb: string;
  noun: [string, string];
  label: (t: T) => string;
  describe: (t: T) => Record<string, unknown>;
  /** Each JSON entry's `action` when it is not `verb` (the verb's own name: 'add-devices'). */
  jsonAction?: string;
}

export interface BulkSpec<T> extends ReportSpec<T> {
  action: (t: T) => Promise<unknown>;
  /**
   * Targets named that are not there, under --if-exists: reported first as already gone (stderr;
   * with --json, entries `ok: true, attempted: false, outcome: "absent"`), sent nothing, not a
   * failure.
   */
  absent?: readonly Absent[];
  /** What a done target's answer adds: to its result line (after a colon) and its JSON entry. */
  report?: (answer: unknown) => { text: string; json: Record<string, unknown> };
  /**
   * Targets to act on only once every other one has its result (force-logout of the caller's own
   * account, which ends the session the run works with). They keep their place at the end.
   */
  last?: (t: T) => boolean;
}

/**
 * A target named under --if-exists that is not there (if-exists.ts): `what` names it in messages,
 * capitalised ("User group 'X'"); `json` is its identity in a JSON entry ({name: 'X'}).
 */
export interface Absent {
  what: string;
  json: Record<string, unknown>;
}

/** The stderr line of an absent target: `User group 'X' is not there; nothing to delete.` */
export function absentLine(a: Absent, verb: string): string {
  return `${visible(a.what)} is not there; nothing to ${verb}.`;
}

/** The JSON entry of an absent target, as every bulk entry: identity, action, ok, attempted, outcome. */
export function absentEntry(a: Absent, action: string, dryRun: boolean): Record<string, unknown> {
  return {
    ...a.json,
    action,
    ok: true,
    attempted: false,
    outcome: 'absent',
    ...(dryRun ? { dry_run: true } : {}),
  };
}

/**
 * What became of one target: `done` (the server confirmed it), `failed` (the server refused it, or
 * the request never reached the server), `unknown` (the request was sent but no answer came: it
 * may or may not have been applied), `not_attempted` (the run stopped before this target).
 */
export type Outcome = 'done' | 'failed' | 'unknown' | 'not_attempted';

export interface BulkResult<T> {
  target: T;
  ok: boolean;
  attempted: boolean;
  outcome: Outcome;
  error?: string;
  status?: number;
  /** The action's answer, for `report`. */
  answer?: unknown;
}

/**
 * Transport failures in which the request certainly never reached the server (EPROXY: the forward
 * proxy refused to pass it on).
 */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TLS',
  'EPROXY',
]);

/** Why a run stopped before its end. */
export type Stop =
  | { kind: 'auth'; err: AuthError }
  | { kind: 'unreachable'; err: NetworkError }
  | { kind: 'slow down'; err: RateLimitedError }
  | { kind: 'missing endpoint'; err: MissingEndpointError };

/** Why a run stopped, for the targets it left: `not attempted: the run stopped on …`. */
const STOPPED_ON: Record<Stop['kind'], string> = {
  auth: 'an authentication error',
  unreachable: 'the server became unreachable',
  'slow down': 'the server asking to slow down',
  'missing endpoint': 'an endpoint this server does not have',
};

/** How a failed action counts, and whether it should stop the run. */
function judge(err: unknown): { outcome: Exclude<Outcome, 'done'>; stop?: Stop } {
  // A signal: the change was not sent (or only a read before it), or sent and abandoned unanswered.
  if (err instanceof RequestInterruptedError) return { outcome: err.unknown ? 'unknown' : 'not_attempted' };
  if (err instanceof AuthError) return { outcome: 'failed', stop: { kind: 'auth', err } };
  if (err instanceof NetworkError && UNREACHABLE.has(err.code ?? ''))
    return { outcome: 'failed', stop: { kind: 'unreachable', err } };
  // Reset, closed socket, timeout: the request may have been applied before the answer was lost.
  if (err instanceof NetworkError || err instanceof TimeoutError) return { outcome: 'unknown' };
  // A gateway's answer in the server's place (502, 504, 520–524, a 5xx page that is not the
  // server's JSON), or one made unreadable on the way: the server may have carried the change out.
  if (err instanceof GatewayError) return { outcome: 'unknown' };
  // Still refused after the waits the transport sat out, or asked to wait over a minute: every other
  // request would be refused too (and the server asked for none meanwhile).
  if (err instanceof RateLimitedError) return { outcome: 'failed', stop: { kind: 'slow down', err } };
  if (err instanceof MissingEndpointError)
    return { outcome: 'failed', stop: { kind: 'missing endpoint', err } };
  return { outcome: 'failed' };
}

/** What a target whose request failed with `err` ends as, and the words for it. */
export interface Failure {
  outcome: Exclude<Outcome, 'done'>;
  attempted: boolean;
  error: string;
  status?: number;
  /** Set when the failure stops the whole run (a 401/403, or the server unreachable). */
  stop?: Stop;
}

export function failureOf(err: unknown): Failure {
  const { outcome, stop } = judge(err);
  const e = err as CliError & { status?: number };
  const error =
    err instanceof RequestInterruptedError
      ? err.unknown
        ? `not confirmed (outcome unknown): ${e.message}`
        : `not attempted: ${e.message}`
      : outcome === 'unknown'
        ? err instanceof GatewayError && err.status >= 500
          ? `not confirmed (outcome unknown): a gateway answered for the server (${e.message})`
          : err instanceof ApiError
            ? `not confirmed (outcome unknown): ${e.message}`
            : `not confirmed (outcome unknown): no answer from the server (${e.message})`
        : stop?.kind === 'unreachable'
          ? `not done: ${e.message}`
          : e.message;
  return {
    outcome,
    attempted: outcome !== 'not_attempted' && !(err instanceof NotSentError),
    error,
    ...(e.status ? { status: e.status } : {}),
    ...(stop ? { stop } : {}),
  };
}

/** A target's line of text: `Disabled bob`, `FAILED to disable bob: …`, `NOT CONFIRMED: disable bob: …`. */
export function resultLine<T>(
  spec: Pick<ReportSpec<T>, 'done' | 'verb' | 'label'>,
  r: BulkResult<T>,
  extra?: { text: string },
): string {
  // A label holds names from the server (a device name any client sets), so its line breaks are
  // shown as \n too.
  const label = visible(spec.label(r.target));
  const what = `${spec.verb} ${label}`;
  return r.outcome === 'done'
    ? `${spec.done} ${label}${extra ? `: ${visible(extra.text)}` : ''}`
    : r.outcome === 'unknown'
      ? `NOT CONFIRMED: ${what}: ${r.error?.replace(/^not confirmed \(outcome unknown\): /, 'outcome unknown, ')}`
      : `FAILED to ${what}: ${r.error}`;
}

/** A target's JSON entry: what `describe` says of it, `action`, `ok` and, unless done, how it ended. */
export function resultEntry<T>(
  spec: ReportSpec<T>,
  r: BulkResult<T>,
  extra?: { json: Record<string, unknown> },
): Record<string, unknown> {
  return {
    ...spec.describe(r.target),
    action: spec.jsonAction ?? spec.verb,
    ok: r.ok,
    ...extra?.json,
    ...(r.ok
      ? { attempted: true, outcome: 'done' }
      : {
          attempted: r.attempted,
          outcome: r.outcome,
          error: r.error,
          ...(r.status ? { status: r.status } : {}),
        }),
  };
}

/**
 * Runs `work` with the calls it makes gathered into batches, where the server takes them
 * (rdadmin serve; not Pro) and there is more than one item, unless --no-batch. `work` gets how many
 * items to keep in flight: two batches' worth when batching, else --concurrency.
 */
export async function inBatches<R>(
  ctx: Ctx,
  items: number,
  work: (parallel: number) => Promise<R>,
): Promise<R> {
  const transport = ctx.api.transport;
  const batch = ctx.flags.batch !== false && items > 1 ? await transport.startBatching() : 0;
  try {
    return await work(batch ? batch * Math.min(2, ctx.config.concurrency) : ctx.config.concurrency);
  } finally {
    if (batch) transport.stopBatching();
  }
}

/**
 * Runs `action` on every target with bounded concurrency (--concurrency, over the keep-alive
 * pool; in batches where the server takes them, unless --no-batch), continues past per-target
 * failures, prints one result per target (a JSON array with --json) and a summary, and returns
 * the exit code: 0 all done, 1 anything failed or not confirmed, 4 when a 401/403 stopped the run
 * (every other target would fail the same way).
 * A target whose request got no answer is reported as not confirmed (outcome unknown), never as
 * failed or done; once the server is unreachable no new request is started and the rest are
 * reported as not attempted.
 * A signal (SIGINT, SIGTERM: ctx.interrupt) stops the run the same way: no new request, the
 * requests under way get a few seconds to answer (the transport then abandons them: not
 * confirmed), the progress bar goes at once, and every result is printed as usual (a closed JSON
 * array); the summary says it was interrupted and the exit code is the signal's (130, 143), unless
 * the signal came too late to leave anything undone.
 */
export async function runBulk<T>(ctx: Ctx, given: T[], spec: BulkSpec<T>): Promise<number> {
  const { out } = ctx;
  const isLast = spec.last;
  const targets = isLast ? [...given.filter((t) => !isLast(t)), ...given.filter((t) => isLast(t))] : given;
  // Where the targets that go last begin: the workers stop there until the others are settled.
  const lastFrom = isLast ? targets.findIndex((t) => isLast(t)) : -1;
  const results: BulkResult<T>[] = [];
  const json = out.json ? out.jsonArray() : undefined;
  const showBar = !out.json && out.stderrIsTTY && targets.length > 1;
  // With a progress bar on the same terminal, result lines wait until the bar is gone.
  const holdLines = showBar && out.stdoutIsTTY;
  const held: string[] = [];
  let bar: { increment(): void; stop(): void } | undefined;
  if (showBar) {
    // A CommonJS module: bundled, its exports sit on `default`.
    const { default: progress } = await import('cli-progress');
    const { SingleBar, Presets } = progress;
    const b = new SingleBar(
      {
        format: `${spec.verb} {bar} {value}/{total} ${spec.noun[1]}`,
        stream: ctx.io.stderr as unknown as NodeJS.WritableStream,
        hideCursor: true,
        clearOnComplete: true,
      },
      Presets.shades_classic,
    );
    b.start(targets.length, 0);
    bar = b;
    // A message meanwhile (a failure, a warning) takes the bar's line; the bar goes on below it.
    out.aroundMessage = (print) => {
      b.stop();
      print();
      b.start(targets.length, results.length);
    };
  }

  // Actions started and not settled yet.
  let underWay = 0;
  const stopHearing = ctx.interrupt.on((signal) => {
    // The terminal is given back at once (cursor shown, line wrap on); the report follows.
    out.aroundMessage = undefined;
    bar?.stop();
    bar = undefined;
    if (underWay) {
      out.info(
        `interrupted by ${signal}: starting nothing new; waiting at most ${ctx.interrupt.graceMs / 1000} s for the answers to the requests already sent (a second ${signal} stops at once, without this report)`,
      );
    }
  });

  for (const a of spec.absent ?? []) {
    if (json) json.push(absentEntry(a, spec.jsonAction ?? spec.verb, false));
    else out.info(absentLine(a, spec.verb));
  }
  const emit = (r: BulkResult<T>) => {
    results.push(r);
    bar?.increment();
    const extra = r.outcome === 'done' && spec.report ? spec.report(r.answer) : undefined;
    if (json) {
      json.push(resultEntry(spec, r, extra));
      return;
    }
    const line = resultLine(spec, r, extra);
    if (holdLines) held.push(line);
    else if (r.ok) out.data(line);
    else out.info(line);
  };

  let stopped: Stop | undefined;
  let next = 0;
  const worker = async (end: number) => {
    while (!stopped && !ctx.interrupt.signal && next < end) {
      const target = targets[next++]!;
      underWay++;
      try {
        const answer = await spec.action(target);
        emit({ target, ok: true, attempted: true, outcome: 'done', answer });
      } catch (err) {
        const { stop, ...failure } = failureOf(err);
        if (stop) stopped ??= stop;
        emit({ target, ok: false, ...failure });
      } finally {
        underWay--;
      }
    }
  };
  try {
    // Each target still gets its own answer and its own line when its request went in a batch.
    await inBatches(ctx, targets.length, async (parallel) => {
      const phase = (end: number) =>
        Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, end - next)) }, () => worker(end)));
      if (lastFrom > 0) await phase(lastFrom);
      await phase(targets.length);
    });
  } finally {
    stopHearing();
    out.aroundMessage = undefined;
    bar?.stop();
  }
  const why = stopped
    ? `the run stopped on ${STOPPED_ON[stopped.kind]}`
    : `interrupted by ${ctx.interrupt.signal}`;
  for (const target of targets.slice(next)) {
    emit({
      target,
      ok: false,
      attempted: false,
      outcome: 'not_attempted',
      error: `not attempted: ${why}`,
    });
  }
  for (const line of held)
    (line.startsWith('FAILED') || line.startsWith('NOT ') ? out.info : out.data).call(out, line);
  json?.end();
  return endRun(ctx, spec, results, stopped, spec.absent?.length);
}

/**
 * The summary of a run whose every target has its result printed, and its exit code: 0 all done,
 * 4 when a 401/403 stopped it; else it throws (exit 1, or the signal's when one stopped it).
 */
export function endRun(
  ctx: Ctx,
  spec: Pick<ReportSpec<unknown>, 'done' | 'noun'>,
  results: { outcome: Outcome }[],
  stopped?: Stop,
  /** How many targets named were already gone (--if-exists): said in the summary, not failures. */
  absent = 0,
): number {
  const { out } = ctx;
  const signal = ctx.interrupt.signal;
  const count = (o: Outcome) => results.filter((r) => r.outcome === o).length;
  const okCount = count('done');
  const noun = (k: number) => (k === 1 ? spec.noun[0] : spec.noun[1]);
  const gone = absent ? `${absent} already gone` : '';
  if (okCount === results.length) {
    out.success(`${spec.done} ${okCount} ${noun(okCount)}${gone ? `; ${gone}` : ''}.`);
    return Exit.ok;
  }
  const unknown = count('unknown');
  const skipped = count('not_attempted');
  const msg = `${spec.done} ${okCount} of ${results.length} ${spec.noun[1]}; ${gone ? `${gone}, ` : ''}${count('failed')} failed${
    unknown ? `, ${unknown} not confirmed (outcome unknown)` : ''
  }${skipped ? `, ${skipped} not attempted` : ''}.`;
  const rerun = unknown
    ? 'the targets marked NOT CONFIRMED may or may not have changed: check them, or run the same command again once the server answers (it selects its targets afresh)'
    : undefined;
  if (signal && (unknown || skipped)) {
    // The report is complete: every target has its result above, the summary says what stopped it.
    throw new InterruptedError(
      signal,
      `interrupted by ${signal}: ${msg}${stopped ? ` Stopped: ${stopped.err.message}` : ''}`,
      rerun ??
        (skipped
          ? 'run the same command again to finish the job (it selects its targets afresh)'
          : undefined),
    );
  }
  if (stopped?.kind === 'auth') {
    out.error(`${msg} Stopped: ${stopped.err.message}`);
    if (stopped.err.hint) out.info(`hint: ${stopped.err.hint}`);
    return Exit.auth;
  }
  if (stopped?.kind === 'unreachable') {
    throw new PartialFailure(
      `${msg} Stopped: ${stopped.err.message}`,
      rerun ?? 'check that the server is running, then run the same command again to finish the job',
    );
  }
  if (stopped) {
    const then = stopped.kind === 'slow down' ? '; then run the same command again to finish the job' : '';
    throw new PartialFailure(
      `${msg} Stopped: ${stopped.err.message}`,
      rerun ?? (stopped.err.hint ? `${stopped.err.hint}${then}` : undefined),
    );
  }
  throw new PartialFailure(msg, rerun);
}

/**
 * For a verb whose one request changes many targets at once (`user-groups add-users`,
 * `device-groups add-devices`/`remove-devices`, `strategies assign`/`unassign`): sends it and gives
 * back its answer, for the verb's own report. When it fails, every target it carried ends as a
 * target of runBulk whose own request failed so: refused (4xx/5xx) → `failed` with the server's
 * error; sent without an answer (connection lost, timeout) → `unknown`; stopped by a signal before
 * it went → `not_attempted`. Each gets its line (its entry in a JSON array with --json), then the
 * summary, and `code` is runBulk's exit code (or it throws, as runBulk does).
 */
export async function sendTogether<T, A>(
  ctx: Ctx,
  targets: T[],
  spec: ReportSpec<T>,
  send: () => Promise<A>,
): Promise<{ answer: A } | { code: number }> {
  try {
    return { answer: await send() };
  } catch (err) {
    const { stop, ...failure } = failureOf(err);
    const results: BulkResult<T>[] = targets.map((target) => ({ target, ok: false, ...failure }));
    if (ctx.out.json) ctx.out.jsonValue(results.map((r) => resultEntry(spec, r)));
    else for (const r of results) ctx.out.info(resultLine(spec, r));
    return { code: endRun(ctx, spec, results, stop) };
  }
}
