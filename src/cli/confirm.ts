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

export function terminalConfirm(io: IO): Confirm {
  return async (message) => {
    const { confirm } = await import('@inquirer/prompts');
    try {
      return await confirm(
        { message, default: false },
        { input: io.stdin as NodeJS.ReadStream, output: promptOutput(io.stderr), clearPromptOnDone: false },
      );
    } catch (err) {
      if ((err as Error).name === 'ExitPromptError' || (err as Error).name === 'AbortPromptError') {
        throw new NotConfirmedError('the confirmation prompt was closed; nothing was changed');
      }
      throw err;
    }
  };
}
