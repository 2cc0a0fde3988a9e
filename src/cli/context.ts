import { readFile } from 'node:fs/promises';
import type { Api } from '../client';
import {
  checkCaText,
  type GlobalFlags,
  MAX_SECRET_CHARS,
  type ResolvedConfig,
  resolveConfig,
} from './config';
import { type Confirm, isInteractive, terminalConfirm } from './confirm';
import { UsageError } from './errors';
import { Interruption } from './interrupt';
import type { IO } from './io';
import { type ListingProgressTiming, listingProgress } from './listing-progress';
import { Output, visible } from './output';
import { checkServerUrl } from './server-url';

/** What a command handler gets. Handlers never touch undici, process.*, or the config file. */
export interface Ctx {
  api: Api;
  out: Output;
  confirm: Confirm;
  config: ResolvedConfig;
  interactive: boolean;
  flags: GlobalFlags;
  io: IO;
  /** The signal that stops the command early, once one came (see interrupt.ts). */
  interrupt: Interruption;
}

export interface CtxDeps {
  io: IO;
  /** Replaces the terminal prompt (tests). */
  confirm?: Confirm;
  /** When a long listing's status line appears and how often it is redrawn (tests). */
  listingProgress?: ListingProgressTiming;
}

export function makeOutput(flags: GlobalFlags, io: IO): Output {
  return new Output(io, { json: flags.json === true, noColor: flags.color === false });
}

/**
 * What the client needs of --ca / RDADMIN_CA / the profile's `ca` (the file's PEM text) and
 * --insecure; for every command that talks to a server, login and logout included.
 */
export async function tlsOptions(config: Pick<ResolvedConfig, 'ca' | 'caSource' | 'insecure'>): Promise<{
  ca?: string;
  insecure: boolean;
}> {
  if (!config.ca) return { insecure: config.insecure };
  let text: string;
  try {
    text = await readFile(config.ca, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read the CA file ${config.ca}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  await checkCaText(text, config.ca, config.caSource ?? '--ca');
  return { ca: text, insecure: config.insecure };
}

/** Builds the handler context; `withApi` also checks that a server and a token are configured. */
export async function buildContext(flags: GlobalFlags, deps: CtxDeps, withApi: boolean): Promise<Ctx> {
  const { io } = deps;
  const out = makeOutput(flags, io);
  // A verb that needs no server (serve, login, config) still runs when the config file is broken;
  // the ones that need it get the error that names the file.
  const config = await resolveConfig(flags, io).catch((err: unknown) => {
    if (withApi || !(err instanceof UsageError)) throw err;
    return resolveConfig(flags, io, { ignoreFile: true });
  });
  if (flags.token) {
    out.warn(
      'a token given with --token is visible in the process list and shell history; prefer --token-file FILE or RDADMIN_TOKEN',
    );
  }
  const interrupt = io.interrupt ?? new Interruption();
  let api: Api | undefined;
  if (withApi) {
    const named = flags.profile ?? deps.io.env['RDADMIN_PROFILE'];
    if (named && !config.profileExists) {
      throw new UsageError(
        `no profile named '${named}'${flags.profile ? '' : ' (from RDADMIN_PROFILE)'}`,
        'list them with `rdadmin config list`',
      );
    }
    if (!config.url) {
      throw new UsageError(
        'no server URL',
        'pass --url URL, set RDADMIN_URL, or run `rdadmin login --url URL --username NAME` to save a profile',
      );
    }
    checkServerUrl(config.url);
    if (!config.token) {
      throw new UsageError(
        'no token',
        'pass --token-file FILE (or - for stdin), set RDADMIN_TOKEN, or run `rdadmin login` to save a session',
      );
    }
    // A bearer token is printable ASCII (RFC 6750). undici refuses to send anything else in a header,
    // a refusal that would read as an unreachable server (exit 5, after retries). Never the token itself.
    const bad = /[^\x21-\x7e]/.exec(config.token);
    if (bad) {
      const c = bad[0].charCodeAt(0);
      const what =
        c < 0x20 || c === 0x7f ? 'a control character' : c === 0x20 ? 'a space' : 'a non-ASCII character';
      throw new UsageError(
        `the token from ${config.tokenSource ?? 'the configuration'} is malformed: it holds ${what} (at character ${bad.index + 1})`,
        'a token is one line of printable ASCII, as `rdadmin tokens create` or `rdadmin login` shows it; check that source (a binary file, a line break, an encoding)',
      );
    }
    if (config.token.length > MAX_SECRET_CHARS) {
      throw new UsageError(
        `the token from ${config.tokenSource ?? 'the configuration'} is too long: ${config.token.length} characters (at most ${MAX_SECRET_CHARS})`,
        'a token is one line of printable ASCII, as `rdadmin tokens create` or `rdadmin login` shows it; check that source',
      );
    }
    const { ca } = await tlsOptions(config);
    // undici parses HTTP with a WebAssembly module, which V8 would also recompile with its
    // optimising tier in the background: for a short-lived CLI that is about 35 MB of peak memory
    // and some time for nothing. The baseline compiler parses a few responses just as well.
    const [{ createApi }, v8] = await Promise.all([import('../client'), import('node:v8')]);
    v8.setFlagsFromString('--liftoff-only');
    api = createApi({
      baseUrl: config.url,
      token: config.token,
      timeoutMs: config.timeoutMs,
      connections: config.concurrency,
      pageSize: config.pageSize,
      insecure: config.insecure,
      ca,
      env: io.env,
      batch: flags.batch !== false,
      debug: flags.debug ? (line) => io.stderr.write(`${out.dim(`debug: ${line}`)}\n`) : undefined,
      notice: (line) => out.warn(line),
      rows: listingProgress(io, out, deps.listingProgress),
      // A slow reader is waited for, but not past a signal (a paused pager may never read on).
      pace: () => {
        const drained = out.waiting();
        return drained && !interrupt.signal
          ? Promise.race([drained, interrupt.fired.then(() => undefined)])
          : undefined;
      },
    });
  }
  const transport = api?.transport;
  if (transport) interrupt.on((signal) => transport.interrupt(signal, interrupt.graceMs));
  return {
    get api(): Api {
      if (!api) throw new Error('this command has no API client');
      return api;
    },
    out,
    // What was listed for the question must be out before it is asked.
    confirm: (question) => {
      out.flush();
      // The question may hold names from the server: shown escaped, as every other message.
      return (deps.confirm ?? terminalConfirm(io, { color: out.stderrColor }))(visible(question));
    },
    config,
    interactive: isInteractive(io),
    flags,
    io,
    interrupt,
  };
}
