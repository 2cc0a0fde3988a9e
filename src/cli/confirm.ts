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
 * (`beforeExit`), it is closed then, whatever the reason.
 */
export function closeWhenUnanswerable(input: IO['stdin'], question: AbortController): () => void {
  const close = () => question.abort();
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
  };
}

export function terminalConfirm(io: IO, look: { color: boolean } = { color: true }): Confirm {
  return async (message) => {
    const { confirm } = await import('@inquirer/prompts');
    const question = new AbortController();
    const stopWatching = closeWhenUnanswerable(io.stdin, question);
    try {
      return await confirm(
        { message, default: false, ...(look.color ? {} : { theme: PLAIN_THEME }) },
        {
          input: io.stdin as NodeJS.ReadStream,
          output: promptOutput(io.stderr),
          clearPromptOnDone: false,
          signal: question.signal,
        },
      );
    } catch (err) {
      if ((err as Error).name === 'ExitPromptError' || (err as Error).name === 'AbortPromptError') {
        throw new NotConfirmedError('the confirmation prompt was closed; nothing was changed');
      }
      throw err;
    } finally {
      stopWatching();
    }
  };
}
