import { NotConfirmedError } from './errors';
import type { IO } from './io';

/** A y/N question on the terminal (stderr), only ever asked when stdin and stderr are TTYs. */
export type Confirm = (message: string) => Promise<boolean>;

export function isInteractive(io: IO): boolean {
  return io.stdin.isTTY === true && io.stderr.isTTY === true;
}

export function terminalConfirm(io: IO): Confirm {
  return async (message) => {
    const { confirm } = await import('@inquirer/prompts');
    try {
      return await confirm(
        { message, default: false },
        {
          input: io.stdin as NodeJS.ReadStream,
          output: io.stderr as unknown as NodeJS.WriteStream,
          clearPromptOnDone: false,
        },
      );
    } catch (err) {
      if ((err as Error).name === 'ExitPromptError' || (err as Error).name === 'AbortPromptError') {
        throw new NotConfirmedError('the confirmation prompt was closed; nothing was changed');
      }
      throw err;
    }
  };
}
