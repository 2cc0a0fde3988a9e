import { areas, topLevel } from '../../commands';
import type { CtxDeps } from './context';
import { SIGNAL_EXIT, type StopSignal } from './errors';
import { GRACE_MS, Interruption } from './interrupt';
import type { IO } from './io';
import { buildProgram, type RunState, reportError } from './program';

/** Runs one command line; returns the exit code. Never calls process.exit. */
export async function run(argv: string[], io: IO, extra: Omit<CtxDeps, 'io'> = {}): Promise<number> {
  const deps: CtxDeps = { io, ...extra };
  const state: RunState = { code: 0 };
  try {
    // Only the invoked area's verbs are built (see invokedArea).
    const program = buildProgram(areas, topLevel, deps, state, argv);
    await program.parseAsync(argv, { from: 'user' });
    return state.code;
  } catch (err) {
    return reportError(err, deps, argv.includes('--debug'), argv.includes('--no-color'));
  }
}

/**
 * After the first signal the command has this long to report and end before the process stops
 * anyway: past the wait for the answers under way (GRACE_MS), time to print the results. A safety
 * net for what nothing ends (a read of stdin that no signal reaches).
 */
const STOP_AFTER_MS = GRACE_MS + 5_000;

/**
 * SIGINT and SIGTERM. The first one is handed to the command (interrupt.ts): it stops early,
 * reports what it did and exits 130 or 143. A second one stops the process at once (the terminal
 * put back first), as does a command that has not ended STOP_AFTER_MS later.
 */
function hearSignals(interrupt: Interruption): void {
  const stopAtOnce = (signal: StopSignal, why: string) => {
    // What a progress bar or a status line may have left: the line cleared, the cursor shown, line
    // wrap back on. Writes to a terminal are synchronous: they are out before the exit.
    if (process.stderr.isTTY) process.stderr.write('\r\u001b[2K\u001b[?25h\u001b[?7h');
    process.stderr.write(`error: ${why}\n`);
    process.exit(SIGNAL_EXIT[signal]);
  };
  const hear = (signal: StopSignal) => {
    if (interrupt.signal) {
      stopAtOnce(signal, `${signal} again: stopped at once, without the report of what was done`);
      return;
    }
    try {
      interrupt.fire(signal);
    } catch (err) {
      stopAtOnce(signal, `interrupted by ${signal}: ${(err as Error)?.message ?? err}`);
    }
    // Unreferenced: it fires only while something else keeps the process alive.
    setTimeout(
      () =>
        stopAtOnce(
          signal,
          `interrupted by ${signal}: the command did not end within ${STOP_AFTER_MS / 1000} s; stopped`,
        ),
      STOP_AFTER_MS,
    ).unref();
  };
  process.on('SIGINT', hear);
  process.on('SIGTERM', hear);
  interrupt.releaseWith = () => {
    process.off('SIGINT', hear);
    process.off('SIGTERM', hear);
  };
}

export async function main(): Promise<void> {
  // `rdadmin … | head`: the reader left; stay quiet and let the command finish its work. Any other
  // failure to write stdout (a full disk, `> /dev/full`): the command still finishes its work (a
  // bulk run, its changes), and then says that what it printed is incomplete (exit 1), no stack.
  let outputLost: NodeJS.ErrnoException | undefined;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') outputLost ??= err;
  });
  // Nowhere left to say anything.
  process.stderr.on('error', () => undefined);
  const interrupt = new Interruption();
  hearSignals(interrupt);
  process.exitCode = await run(process.argv.slice(2), {
    // Only commands that read stdin create it (creating it loads the socket machinery).
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    interrupt,
  });
  if (outputLost) {
    const why = outputLost.code === 'ENOSPC' ? 'no space left on the device' : outputLost.message;
    process.stderr.write(
      `error: the output could not be written (${why}), so it is incomplete; the command itself ran to its end\n`,
    );
    if (!process.exitCode) process.exitCode = 1;
  }
}
