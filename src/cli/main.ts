import { areas, topLevel } from '../../commands';
import type { CtxDeps } from './context';
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

export async function main(): Promise<void> {
  // `rdadmin … | head`: the reader left; stay quiet and let the command finish its work.
  const ignoreEpipe = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  };
  process.stdout.on('error', ignoreEpipe);
  process.stderr.on('error', ignoreEpipe);
  process.exitCode = await run(process.argv.slice(2), {
    // Only commands that read stdin create it (creating it loads the socket machinery).
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
}
