import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import type { IO, Writable } from '../../src/cli/io';
import { Output } from '../../src/cli/output';
import { drawTable } from '../../src/cli/table';

// Piped output goes out in blocks, not a system call per line; a terminal gets each line at once;
// nothing written for stdout ever comes after a later message on stderr.

function streams(tty: boolean) {
  const log: { stream: 'out' | 'err'; text: string }[] = [];
  const make = (stream: 'out' | 'err'): Writable => ({
    isTTY: tty,
    write(text: string) {
      log.push({ stream, text });
      return true;
    },
  });
  const io = { stdin: process.stdin, stdout: make('out'), stderr: make('err'), env: {} } as unknown as IO;
  const text = (s: 'out' | 'err') =>
    log
      .filter((l) => l.stream === s)
      .map((l) => l.text)
      .join('');
  return { io, log, text };
}

/** A piped stdout that takes nothing until told (write returns false), with the events it sends. */
function slowPipe() {
  // event → listener → (as EventEmitter does for once(): removeListener takes the listener given)
  const listeners = new Map<string, Map<() => void, () => void>>();
  const written: string[] = [];
  const stdout: Writable = {
    isTTY: false,
    write(text: string) {
      written.push(text);
      return false;
    },
    once(event, fn) {
      const set = listeners.get(event) ?? new Map();
      set.set(fn, () => {
        set.delete(fn);
        fn();
      });
      listeners.set(event, set);
    },
    removeListener(event, fn) {
      listeners.get(event)?.delete(fn);
    },
  };
  const emit = (event: string) => {
    for (const fn of [...(listeners.get(event)?.values() ?? [])]) fn();
  };
  const count = () => [...listeners.values()].reduce((n, s) => n + s.size, 0);
  const io = { stdin: process.stdin, stdout, stderr: streams(false).io.stderr, env: {} } as unknown as IO;
  return { io, written, emit, count };
}

describe('Output', () => {
  it('a pipe that holds too much makes waiting() wait for its drain (or its end), then not', async () => {
    for (const end of ['drain', 'close', 'error']) {
      const p = slowPipe();
      const out = new Output(p.io, { json: false, noColor: true });
      expect(out.waiting()).toBeUndefined();
      out.data('x'.repeat(70_000)); // over a block: written, and refused
      const wait = out.waiting();
      expect(wait).toBeInstanceOf(Promise);
      out.data('y'.repeat(70_000));
      expect(out.waiting(), 'one wait at a time').toBe(wait);
      let settled = false;
      void wait!.then(() => (settled = true));
      await Promise.resolve();
      expect(settled).toBe(false);
      p.emit(end);
      await wait;
      expect(out.waiting()).toBeUndefined();
      expect(p.count(), 'no listener left behind').toBe(0);
    }
  });

  it('piped: thousands of lines leave in a few writes, complete and in order', () => {
    const s = streams(false);
    const out = new Output(s.io, { json: false, noColor: true });
    for (let i = 0; i < 5000; i++) out.data(`line ${i}`);
    out.flush();
    expect(s.text('out')).toBe(Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join(''));
    expect(s.log.length).toBeLessThan(5);
  });

  it('piped: raw pieces (no newline added) leave in blocks too, as written', () => {
    const s = streams(false);
    const out = new Output(s.io, { json: false, noColor: true });
    for (let i = 0; i < 5000; i++) out.text(`${i === 0 ? '[' : ','}${i}`);
    out.text(']\n');
    out.flush();
    expect(JSON.parse(s.text('out'))).toHaveLength(5000);
    expect(s.log.length).toBeLessThan(3);
  });

  it('a JSON array streams in blocks and is valid JSON once ended', () => {
    const s = streams(false);
    const out = new Output(s.io, { json: true, noColor: true });
    const arr = out.jsonArray();
    for (let i = 0; i < 3000; i++) arr.push({ i, name: `n${i}` });
    arr.end();
    out.flush();
    expect(JSON.parse(s.text('out'))).toHaveLength(3000);
    expect(s.log.length).toBeGreaterThan(1); // streamed, not held to the end
    expect(s.log.length).toBeLessThan(10);
  });

  it('a terminal gets every line as it is written', () => {
    const s = streams(true);
    const out = new Output(s.io, { json: false, noColor: true });
    out.data('a');
    expect(s.text('out')).toBe('a\n');
    out.data('b');
    expect(s.log).toHaveLength(2);
  });

  it('a terminal table is written in blocks as it is drawn, the same text as drawn whole', async () => {
    const s = streams(true);
    const out = new Output(s.io, { json: false, noColor: true });
    const rows = Array.from({ length: 5000 }, (_, i) => ({ name: `user-${i}`, note: i % 7 ? '' : 'a\nb' }));
    const columns = [
      { header: 'NAME', value: (r: (typeof rows)[number]) => r.name },
      { header: 'NOTE', value: (r: (typeof rows)[number]) => r.note },
    ];
    expect(await out.table(columns, rows)).toBe(5000);
    const whole = drawTable(
      ['NAME', 'NOTE'],
      rows.map((r) => [r.name, r.note]),
      stringWidth,
      false,
    );
    expect(s.text('out')).toBe(`${whole}\n`);
    expect(s.log.length).toBeGreaterThan(3); // about 400 KB in blocks of 64 KB, not one string
    for (const l of s.log) expect(l.text.length).toBeLessThan(70_000);
  });

  it('data written before a message reaches stdout before the message reaches stderr', () => {
    const s = streams(false);
    const out = new Output(s.io, { json: false, noColor: true });
    out.data('target-1');
    out.data('target-2');
    out.info('Found 2 users');
    out.data('result');
    out.warn('careful');
    out.error('bad');
    out.success('done');
    out.flush();
    expect(s.log).toEqual([
      { stream: 'out', text: 'target-1\ntarget-2\n' },
      { stream: 'err', text: 'Found 2 users\n' },
      { stream: 'out', text: 'result\n' },
      { stream: 'err', text: 'warning: careful\n' },
      { stream: 'err', text: 'error: bad\n' },
      { stream: 'err', text: 'done\n' },
    ]);
  });
});
