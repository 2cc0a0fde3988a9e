import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_CONCURRENCY, type GlobalFlags } from './config';
import { buildContext, type CtxDeps, makeOutput } from './context';
import { CliError, Exit, InterruptedError, RequestInterruptedError, type StopSignal } from './errors';
import { type AreaSpec, emptySelector, type VerbSpec } from './verb';

export const VERSION = '0.1.0';

const GLOBAL_HELP = `
Global options (before or after the verb):
  --url URL              server, e.g. http://127.0.0.1:21114 (env RDADMIN_URL)
  --token TOKEN          API token or session token (env RDADMIN_TOKEN); prefer --token-file
  --token-file PATH      read the token from a file, or from stdin with -
  --profile NAME         use a saved profile (env RDADMIN_PROFILE; see rdadmin config)
  --json                 JSON on stdout, nothing else
  -y, --yes              do not ask for confirmation
  --dry-run              show what would change, change nothing
  --all                  allow a mutating verb without a filter to act on every record
  --no-color             no colours (also NO_COLOR, TERM=dumb, FORCE_COLOR=0)
  --timeout SECONDS      per-request timeout (default 30)
  --concurrency N        parallel requests for bulk work, a whole number 1-64 (default ${DEFAULT_CONCURRENCY})
  --no-batch             one request per target (bulk work) and per page (listings), even
                         where the server takes batches (rdadmin serve does; Pro does not)
  --insecure             do not verify TLS certificates
  --ca FILE              trust this CA certificate (PEM)
  --debug                log requests and show stack traces`;

/** Global options that take a value (their value is not a command name). */
const GLOBALS_WITH_VALUE = new Set([
  '--url',
  '--token',
  '--token-file',
  '--profile',
  '--timeout',
  '--concurrency',
  '--ca',
]);

/**
 * The area a command line invokes: its first word, or the one after `help`. Only that area's verbs
 * are built (start-up is a feature: building every verb's options costs more than the rest of
 * `--help`); the others are registered by name and summary only, which is all the root help and
 * commander's suggestions need.
 */
export function invokedArea(areas: readonly AreaSpec[], argv: readonly string[]): AreaSpec | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return undefined;
    if (arg.startsWith('-')) {
      if (GLOBALS_WITH_VALUE.has(arg)) i++;
      continue;
    }
    if (arg === 'help') continue;
    return areas.find((a) => a.name === arg || (a.aliases ?? []).includes(arg));
  }
  return undefined;
}

function addGlobals(cmd: Command): void {
  cmd
    .addOption(new Option('--url <url>').hideHelp())
    .addOption(new Option('--token <token>').hideHelp())
    .addOption(new Option('--token-file <path>').hideHelp())
    .addOption(new Option('--profile <name>').hideHelp())
    .addOption(new Option('--json').hideHelp())
    .addOption(new Option('-y, --yes').hideHelp())
    .addOption(new Option('--dry-run').hideHelp())
    .addOption(new Option('--all').hideHelp())
    .addOption(new Option('--no-color').hideHelp())
    .addOption(new Option('--timeout <seconds>').hideHelp())
    .addOption(new Option('--concurrency <n>').hideHelp())
    .addOption(new Option('--no-batch').hideHelp())
    .addOption(new Option('--insecure').hideHelp())
    .addOption(new Option('--ca <file>').hideHelp())
    .addOption(new Option('--debug').hideHelp());
}

export interface RunState {
  code: number;
}

/**
 * Help descriptions are written as paragraphs; prose is re-wrapped to the terminal width here
 * (commander would otherwise wrap the hand-wrapped lines again), indented lines stay as written.
 */
export function reflow(text: string, width: number): string {
  const out: string[] = [];
  let words: string[] = [];
  const flush = () => {
    let line = '';
    for (const w of words) {
      if (line && line.length + 1 + w.length > width) {
        out.push(line);
        line = w;
      } else line = line ? `${line} ${w}` : w;
    }
    if (line) out.push(line);
    words = [];
  };
  for (const raw of text.split('\n')) {
    if (raw.trim() === '' || /^\s/.test(raw)) {
      flush();
      out.push(raw);
    } else words.push(...raw.split(/\s+/).filter(Boolean));
  }
  flush();
  return out.join('\n');
}

function helpWidth(deps: CtxDeps): number {
  return Math.min(Math.max((deps.io.stdout.columns ?? 80) - 2, 40), 100);
}

function addVerb(area: Command, spec: VerbSpec, deps: CtxDeps, state: RunState): void {
  const cmd = area
    .command(spec.name)
    .summary(spec.summary)
    .description(reflow(spec.description ?? spec.summary, helpWidth(deps)));
  for (const a of spec.aliases ?? []) cmd.alias(a);
  for (const a of spec.args ?? []) cmd.argument(a);
  // Selecting options: [attribute, the flag as the scripts spell it].
  const selectors: [string, string][] = [];
  for (const o of spec.options ?? []) {
    const option = new Option(o.flags, o.description);
    if (o.selects) selectors.push([option.attributeName(), o.selects]);
    if (o.parser) option.argParser(o.parser as (v: string, p: unknown) => unknown);
    if (o.defaultValue !== undefined) option.default(o.defaultValue);
    if (o.hidden) option.hideHelp();
    cmd.addOption(option);
  }
  // The global options live on the root command, which picks them out anywhere on the line
  // (before or after the verb); the verb reads them through optsWithGlobals().
  const examples = spec.examples?.length
    ? `\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join('\n')}\n`
    : '';
  cmd.addHelpText('after', spec.globalsHelp === false ? examples : `${GLOBAL_HELP}\n${examples}`);
  cmd.action(async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const flags = command.optsWithGlobals() as GlobalFlags;
    // A verb that takes the signals itself (serve) gets them from now on (a signal that came
    // before reached the interruption: the verb sees it there).
    if (spec.signals === 'own') deps.io.interrupt?.release();
    const interrupt = spec.signals === 'own' ? undefined : deps.io.interrupt;
    try {
      const opts = command.opts();
      // Before anything else (a token, a request): an empty filter is a usage error.
      for (const [key, flag] of selectors) {
        const err = emptySelector(flag, opts[key]);
        if (err) throw err;
      }
      const ctx = await buildContext(flags, deps, spec.api !== false);
      try {
        const code = await spec.run(ctx, { ...opts, _args: command.processedArgs });
        state.code = typeof code === 'number' ? code : Exit.ok;
        // Done, but over a listing that may have missed rows (a warning said so): not a success.
        const missing = spec.api !== false ? ctx.api.transport.incompleteListing : undefined;
        if (state.code === Exit.ok && missing && !interrupt?.signal) {
          throw new CliError(
            `${missing} changed while it was read and could not be read whole, so rows may be missing from what was shown or done above`,
            Exit.failed,
            'run the same command again once the changes are done (it selects its rows afresh)',
          );
        }
      } finally {
        // A listing cut short (a signal, a lost connection, a server error): stdout still holds
        // valid JSON, the rows read so far; the exit code says it is not whole.
        ctx.out.endUnfinished({ empty: interrupt?.signal !== undefined });
        ctx.out.flush();
        if (spec.api !== false) await ctx.api.close().catch(() => undefined);
      }
    } catch (err) {
      // Cut short by a signal (a verb that ended its work anyway, as the signal came, ends as usual).
      throw interrupt?.signal ? interrupted(err, interrupt.signal) : err;
    }
  });
}

/**
 * The error a verb that a signal stopped ends with; always the signal's exit code. A bulk run's
 * report says it all already; a request cut short says only what became of it; anything else
 * that went wrong meanwhile is told (`the confirmation prompt was closed; nothing was changed`).
 */
function interrupted(err: unknown, signal: StopSignal): CliError {
  if (err instanceof RequestInterruptedError) {
    return err.unknown
      ? new InterruptedError(
          signal,
          `interrupted by ${signal}: a change was sent and got ${err.message}: it may or may not have been made`,
          'check, then run the same command again if need be',
        )
      : new InterruptedError(signal);
  }
  if (err instanceof InterruptedError) return err;
  if (err instanceof CliError)
    return new InterruptedError(signal, `interrupted by ${signal}: ${err.message}`, err.hint);
  return new InterruptedError(signal);
}

export function buildProgram(
  areas: readonly AreaSpec[],
  top: VerbSpec[],
  deps: CtxDeps,
  state: RunState,
  argv?: readonly string[],
): Command {
  const { io } = deps;
  const program = new Command('rdadmin');
  program
    .description(
      'Administer a RustDesk Server Pro (or `rdadmin serve`) fleet: users, groups, devices, address books, strategies, audits.',
    )
    .version(VERSION, '-V, --version')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  addGlobals(program);
  program.addHelpText(
    'after',
    `${GLOBAL_HELP}

Examples:
  $ rdadmin serve --demo                       start a server with a demo fleet
  $ rdadmin login --url http://127.0.0.1:21114 --username admin
  $ rdadmin users view --group_name Default
  $ rdadmin users disable --name bob --dry-run

Exit codes: 0 ok, 1 failed, 2 usage, 3 not confirmed, 4 auth/permission, 5 network/timeout/TLS,
130 interrupted (Ctrl-C, SIGINT), 143 terminated (SIGTERM).
`,
  );
  // Without argv (a caller that wants the whole tree), every area is built.
  const wanted = argv ? invokedArea(areas, argv) : undefined;
  for (const area of areas) {
    const cmd = program
      .command(area.name)
      .summary(area.summary)
      .description(reflow(area.description ?? area.summary, helpWidth(deps)));
    for (const a of area.aliases ?? []) cmd.alias(a);
    if (!argv || area === wanted) for (const verb of area.verbs) addVerb(cmd, verb, deps, state);
  }
  for (const verb of top) addVerb(program, verb, deps, state);
  return program;
}

/**
 * Prints an error for a person and returns its exit code (the one error boundary). The error may
 * come before commander parsed anything, so --debug and --no-color are read from argv by the caller.
 * (NO_COLOR, TERM=dumb, FORCE_COLOR=0 and a non-TTY stderr are checked by the Output itself.)
 */
export function reportError(err: unknown, deps: CtxDeps, debug: boolean, noColor = false): number {
  const out = makeOutput({ color: !noColor }, deps.io);
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return Exit.ok;
    // `rdadmin help users` asked for help (exit code 0); `rdadmin users` alone is missing its verb (1).
    if (err.code === 'commander.help') return err.exitCode === 0 ? Exit.ok : Exit.usage;
    // Commander already printed its message (unknown option, missing argument, help of a group).
    return err.code === 'commander.executeSubCommandAsync' ? Exit.failed : Exit.usage;
  }
  if (err instanceof CliError) {
    out.error(err.message);
    if (err.hint) out.info(`hint: ${err.hint}`);
    if (debug && err.stack) out.info(err.stack);
    return err.exitCode;
  }
  const e = err as Error;
  out.error(`unexpected failure: ${e?.message ?? String(err)}`);
  if (debug) out.info(e?.stack ?? '');
  else out.info('hint: run again with --debug for details');
  return Exit.failed;
}
