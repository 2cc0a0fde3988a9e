import type { Ctx } from './context';
import { AuthError, type CliError, Exit, PartialFailure } from './errors';

export interface BulkSpec<T> {
  /** Past tense for results: 'Disabled'. */
  done: string;
  /** Infinitive for failures: 'disable'. */
  verb: string;
  noun: [string, string];
  label: (t: T) => string;
  describe: (t: T) => Record<string, unknown>;
  action: (t: T) => Promise<unknown>;
}

export interface BulkResult<T> {
  target: T;
  ok: boolean;
  attempted: boolean;
  error?: string;
  status?: number;
}

/**
 * Runs `action` on every target with bounded concurrency (--concurrency, over the keep-alive
 * pool), continues past per-target failures, prints one result per target (a JSON array with
 * --json) and a summary, and returns the exit code: 0 all done, 1 anything failed, 4 when a
 * 401/403 stopped the run (every other target would fail the same way).
 */
export async function runBulk<T>(ctx: Ctx, targets: T[], spec: BulkSpec<T>): Promise<number> {
  const { out } = ctx;
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
  }

  const emit = (r: BulkResult<T>) => {
    results.push(r);
    bar?.increment();
    if (json) {
      json.push({
        ...spec.describe(r.target),
        action: spec.verb,
        ok: r.ok,
        ...(r.ok
          ? {}
          : { attempted: r.attempted, error: r.error, ...(r.status ? { status: r.status } : {}) }),
      });
      return;
    }
    const line = r.ok
      ? `${spec.done} ${spec.label(r.target)}`
      : `FAILED to ${spec.verb} ${spec.label(r.target)}: ${r.error}`;
    if (holdLines) held.push(line);
    else if (r.ok) out.data(line);
    else out.info(line);
  };

  let stopped: AuthError | undefined;
  let next = 0;
  const worker = async () => {
    while (!stopped && next < targets.length) {
      const target = targets[next++]!;
      try {
        await spec.action(target);
        emit({ target, ok: true, attempted: true });
      } catch (err) {
        if (err instanceof AuthError) stopped ??= err;
        const e = err as CliError & { status?: number };
        emit({ target, ok: false, attempted: true, error: e.message, status: e.status });
      }
    }
  };
  const workers = Math.max(1, Math.min(ctx.config.concurrency, targets.length));
  await Promise.all(Array.from({ length: workers }, worker));
  for (const target of targets.slice(next)) {
    emit({
      target,
      ok: false,
      attempted: false,
      error: 'not attempted: the run stopped on an authentication error',
    });
  }
  bar?.stop();
  for (const line of held) (line.startsWith('FAILED') ? out.info : out.data).call(out, line);
  json?.end();

  const failed = results.filter((r) => !r.ok).length;
  const okCount = results.length - failed;
  const noun = (k: number) => (k === 1 ? spec.noun[0] : spec.noun[1]);
  if (failed === 0) {
    out.success(`${spec.done} ${okCount} ${noun(okCount)}.`);
    return Exit.ok;
  }
  const skipped = results.filter((r) => !r.attempted).length;
  const msg = `${spec.done} ${okCount} of ${results.length} ${spec.noun[1]}; ${failed - skipped} failed${
    skipped ? `, ${skipped} not attempted` : ''
  }.`;
  if (stopped) {
    out.error(`${msg} Stopped: ${stopped.message}`);
    if (stopped.hint) out.info(`hint: ${stopped.hint}`);
    return Exit.auth;
  }
  throw new PartialFailure(msg);
}
