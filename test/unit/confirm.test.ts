import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { terminalConfirm } from '../../src/cli/confirm';
import { Exit, NotConfirmedError } from '../../src/cli/errors';
import { Capture } from '../helpers/cli';

// The real prompt on a terminal-like stdin: a question nobody can answer any more is not
// confirmed (exit 3), never left pending (the process would run out of work and exit 0).
// The real terminal (Ctrl-C, Ctrl-D, colour) is in test/e2e/confirm-tty.test.ts.

function terminal() {
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  const stderr = new Capture(true);
  const confirm = terminalConfirm({ stdin, stdout: new Capture(true), stderr, env: {} }, { color: false });
  return { stdin, stderr, confirm };
}

/** Settles with the answer or the error, or 'pending' when the question is still open after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | Error | 'pending'> {
  return Promise.race([
    p.catch((err: Error) => err),
    new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms)),
  ]);
}

async function asked(stderr: Capture): Promise<void> {
  for (let i = 0; i < 100 && !stderr.text.includes('(y/N)'); i++) await new Promise((r) => setTimeout(r, 10));
  expect(stderr.text).toContain('? Disable 2 users? (y/N)');
}

describe('terminalConfirm', () => {
  it('stdin ending before an answer: not confirmed', async () => {
    const t = terminal();
    const answer = t.confirm('Disable 2 users?');
    await asked(t.stderr);
    t.stdin.end();
    const r = await within(answer, 2000);
    expect(r).toBeInstanceOf(NotConfirmedError);
    expect((r as NotConfirmedError).message).toBe('the confirmation prompt was closed; nothing was changed');
    expect((r as NotConfirmedError).exitCode).toBe(Exit.notConfirmed);
  });

  it('Ctrl-D: not confirmed, also after something was typed', async () => {
    for (const typed of ['\u0004', 'y\u0004']) {
      const t = terminal();
      const answer = t.confirm('Disable 2 users?');
      await asked(t.stderr);
      t.stdin.write(typed);
      const r = await within(answer, 2000);
      expect(r).toBeInstanceOf(NotConfirmedError);
    }
  });

  it('an answer still works: y and Enter', async () => {
    const t = terminal();
    const answer = t.confirm('Disable 2 users?');
    await asked(t.stderr);
    t.stdin.write('y\r');
    expect(await within(answer, 2000)).toBe(true);
  });
});
