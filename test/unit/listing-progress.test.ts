import { describe, expect, it } from 'vitest';
import { listingProgress } from '../../src/cli/listing-progress';
import { Output } from '../../src/cli/output';
import { Capture } from '../helpers/cli';
import { screen } from '../helpers/spawn';

function terminal(stdoutTTY = false) {
  const stdout = new Capture(stdoutTTY);
  const stderr = new Capture(true);
  const io = { stdin: undefined as never, stdout, stderr, env: {} };
  const out = new Output(io, { json: false, noColor: true });
  return { io, out, stderr };
}

describe('listingProgress', () => {
  it('a message while the line is up gets a line of its own, the line is redrawn under it, then cleared', () => {
    const { io, out, stderr } = terminal();
    let now = 0;
    const rows = listingProgress(io, out, { afterMs: 500, everyMs: 100, now: () => now })!;
    rows('/api/audits/conn', 100, 1000, false); // under 500 ms: not shown
    expect(stderr.text).toBe('');
    now = 600;
    rows('/api/audits/conn', 200, 1000, false);
    expect(screen(stderr.text).filter(Boolean)).toEqual(['reading audits conn: 200 of 1,000…']);
    now = 650;
    rows('/api/audits/conn', 300, 1000, false); // 50 ms after the last: not redrawn
    expect(screen(stderr.text).filter(Boolean)).toEqual(['reading audits conn: 200 of 1,000…']);
    out.warn('the server asks to slow down');
    expect(screen(stderr.text).filter(Boolean)).toEqual([
      'warning: the server asks to slow down',
      'reading audits conn: 200 of 1,000…',
    ]);
    now = 800;
    rows('/api/audits/conn', 400, undefined, false);
    expect(screen(stderr.text).filter(Boolean)).toEqual([
      'warning: the server asks to slow down',
      'reading audits conn: 400…',
    ]);
    rows('/api/audits/conn', 1000, 1000, true);
    out.info('Found 1000 records.');
    expect(screen(stderr.text).filter(Boolean)).toEqual([
      'warning: the server asks to slow down',
      'Found 1000 records.',
    ]);
    expect(out.aroundMessage).toBeUndefined();
  });

  it("stays out of the way of a status line that has the terminal (a bulk run's bar)", () => {
    const { io, out, stderr } = terminal();
    const bar = () => undefined;
    out.aroundMessage = bar;
    const rows = listingProgress(io, out, { afterMs: 0, everyMs: 0, now: () => 0 })!;
    rows('/api/users', 20, 40, false);
    rows('/api/users', 40, 40, true);
    expect(stderr.text).toBe('');
    expect(out.aroundMessage).toBe(bar);
  });

  it('is off when stdout is the terminal too, or stderr is not one', () => {
    const both = terminal(true);
    expect(listingProgress(both.io, both.out)).toBeUndefined();
    const stdout = new Capture(false);
    const stderr = new Capture(false);
    const io = { stdin: undefined as never, stdout, stderr, env: {} };
    expect(listingProgress(io, new Output(io, { json: false, noColor: true }))).toBeUndefined();
  });
});
