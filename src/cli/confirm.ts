import { Writable } from 'node:stream';
import { NotConfirmedError } from './errors';
import type { IO } from './io';

/** A y/N question on the terminal (stderr), only ever asked when stdin and stderr are TTYs. */
export type Confirm = (message: string) => Promise<boolean>;

export function isInteractive(io: IO): boolean {
  return io.stdin.isTTY === true && io.stderr.isTTY === true;
}

/**
 * The prompt library ends the stream it draws on when it closes; stderr must stay usable after
 * the question (progress, summary), so the prompt gets a forwarder that ignores `end()`.
 */
export function promptOutput(target: IO['stderr']): NodeJS.WriteStream {
  const forward = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      target.write(chunk.toString());
      done();
    },
  });
  return Object.assign(forward, { isTTY: target.isTTY === true, columns: target.columns ?? 80 }) as never;
}

const same = (text: string) => text;

/**
 * The prompt's look when colour is off for the CLI (--no-color, NO_COLOR, TERM=dumb,
 * FORCE_COLOR=0): the default theme's text without its colours and styles. The prompt library
 * decides colour on its own and knows nothing of --no-color.
 */
export const PLAIN_THEME = {
  prefix: { idle: '?', done: '✔' },
  style: {
    answer: same,
    message: same,
    error: (text: string) => `> ${text}`,
    defaultAnswer: (text: string) => `(${text})`,
    help: same,
    highlight: same,
    key: (text: string) => `<${text}>`,
  },
};

/**
 * Ends the question unanswered (aborts `question`) when nobody can answer it any more. The prompt
 * library only settles on Enter or Ctrl-C: on Ctrl-D its line editor closes, stdin ends or is
 * paused, and the pending question keeps nothing alive, so the process would simply run out of
 * work and exit 0, as if all had gone well. So: Ctrl-D closes the prompt, as Ctrl-C does; the end
 * of stdin closes it; and should the process run out of work while the question is still open
 * (`beforeExit`), it is closed then, whatever the reason. A signal (SIGINT, SIGTERM: see
 * interrupt.ts) closes it too: the prompt library's own handler for them stands aside once the CLI
 * has one.
 */
function closeWhenUnanswerable(io: IO, question: AbortController): () => void {
  const input = io.stdin;
  const close = () => question.abort();
  const stopHearing = io.interrupt?.on(close);
  const onKey = (_text: unknown, key: { name?: string; ctrl?: boolean } | undefined) => {
    if (key?.ctrl === true && key.name === 'd') close();
  };
  input.on('keypress', onKey);
  input.on('end', close);
  input.on('close', close);
  process.on('beforeExit', close);
  return () => {
    input.removeListener('keypress', onKey);
    input.removeListener('end', close);
    input.removeListener('close', close);
    process.removeListener('beforeExit', close);
    stopHearing?.();
  };
}

/** What a question of the prompt library is given: the streams, the signal that closes it, its look. */
export interface QuestionContext {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
  signal: AbortSignal;
  /** Spread into the question's options: the plain theme when colour is off. */
  look: { theme?: typeof PLAIN_THEME };
}

/**
 * Asks one question of the prompt library that can be closed: Ctrl-C, Ctrl-D or the end of stdin
 * (see closeWhenUnanswerable) end it as not confirmed (exit 3) with the message `closed`. (A signal
 * ends it the same way; the command then exits with the signal's code: see addVerb.)
 */
export async function closableQuestion<T>(
  io: IO,
  o: { color: boolean; closed: string },
  ask: (q: QuestionContext) => Promise<T>,
): Promise<T> {
  const question = new AbortController();
  const stopWatching = closeWhenUnanswerable(io, question);
  try {
    return await ask({
      input: io.stdin as NodeJS.ReadStream,
      output: promptOutput(io.stderr),
      signal: question.signal,
      look: o.color ? {} : { theme: PLAIN_THEME },
    });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'ExitPromptError' || name === 'AbortPromptError') throw new NotConfirmedError(o.closed);
    throw err;
  } finally {
    stopWatching();
  }
}

export function terminalConfirm(io: IO, look: { color: boolean } = { color: true }): Confirm {
  return async (message) => {
    const { confirm } = await import('@inquirer/prompts');
    return closableQuestion(
      io,
      { color: look.color, closed: 'the confirmation prompt was closed; nothing was changed' },
      ({ look, ...context }) =>
        confirm({ message, default: false, ...look }, { ...context, clearPromptOnDone: false }),
    );
  };
}
