import type { IO, Writable } from './io';
import { tableLines } from './table';

// Data goes to stdout; messages, progress, prompts and errors to stderr. Colour is decided once
// per stream. Tables on a terminal, tab-separated lines when piped, JSON with --json.

export interface OutputOptions {
  json: boolean;
  noColor: boolean;
}

export function colorEnabled(stream: Writable, env: IO['env'], noColor: boolean): boolean {
  if (noColor) return false;
  if (env['NO_COLOR']) return false;
  if (env['TERM'] === 'dumb') return false;
  if (env['FORCE_COLOR'] === '0') return false;
  return stream.isTTY === true;
}

const ESC = '\u001b[';
function paint(on: boolean, code: string, s: string): string {
  return on ? `${ESC}${code}m${s}${ESC}0m` : s;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
}

/** Piped output is written in blocks of about this many characters, not a write per line. */
const BLOCK = 64 * 1024;

export class Output {
  readonly json: boolean;
  readonly stdoutColor: boolean;
  readonly stderrColor: boolean;
  // Data for a pipe or a file waits here until a block is full (each write is a system call; a
  // listing of 100,000 rows would otherwise make 100,000 of them). A terminal gets every line now.
  private pending = '';

  constructor(
    readonly io: IO,
    opts: OutputOptions,
  ) {
    this.json = opts.json;
    this.stdoutColor = colorEnabled(io.stdout, io.env, opts.noColor);
    this.stderrColor = colorEnabled(io.stderr, io.env, opts.noColor);
  }

  get stdoutIsTTY(): boolean {
    return this.io.stdout.isTTY === true;
  }

  get stderrIsTTY(): boolean {
    return this.io.stderr.isTTY === true;
  }

  private write(text: string): void {
    if (this.stdoutIsTTY) {
      this.sent(this.io.stdout.write(text));
      return;
    }
    this.pending += text;
    if (this.pending.length >= BLOCK) this.flush();
  }

  /** Writes out what is waiting for stdout (done before anything goes to stderr, and at the end). */
  flush(): void {
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    this.sent(this.io.stdout.write(text));
  }

  // Set while stdout holds more than it likes: a pipe whose reader is slower than the listing
  // (`devices export | gzip`, a paused pager). Node keeps whatever is written meanwhile in memory,
  // so listings wait for it (Transport's `pace`, between pages) instead of reading on.
  private drained: Promise<void> | undefined;

  private sent(taken: boolean): void {
    const s = this.io.stdout;
    if (taken || this.drained || !s.once || !s.removeListener || s.destroyed) return;
    this.drained = new Promise((resolve) => {
      // A reader that has gone ('close', 'error': EPIPE) never drains: no wait then either.
      const done = () => {
        for (const event of ['drain', 'close', 'error'] as const) s.removeListener!(event, done);
        this.drained = undefined;
        resolve();
      };
      for (const event of ['drain', 'close', 'error'] as const) s.once!(event, done);
    });
  }

  /** Settles once stdout has taken what was written to it; undefined when it already has. */
  waiting(): Promise<void> | undefined {
    return this.drained;
  }

  /** Raw text on stdout, as it is (no newline added): for output written piece by piece. */
  text(text: string): void {
    this.write(text);
  }

  /** Raw data line(s) on stdout. */
  data(text: string): void {
    this.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A JSON document on stdout. */
  jsonValue(value: unknown): void {
    this.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Starts a JSON array on stdout whose items are written as they arrive (valid JSON when ended). */
  jsonArray(): { push(item: unknown): void; end(): void } {
    let n = 0;
    return {
      push: (item) => {
        this.write(`${n++ === 0 ? '[\n' : ',\n'}  ${JSON.stringify(item)}`);
      },
      end: () => {
        this.write(n === 0 ? '[]\n' : '\n]\n');
      },
    };
  }

  /**
   * Set while a progress bar holds the last line of the terminal (runBulk): each message for stderr
   * is printed through it, so that the bar steps aside for the message instead of being written over.
   */
  aroundMessage?: (print: () => void) => void;

  private message(line: string): void {
    this.flush();
    const print = () => void this.io.stderr.write(`${line}\n`);
    if (this.aroundMessage) this.aroundMessage(print);
    else print();
  }

  /** A message for the person at the terminal (stderr); suppressed nowhere, so keep it short. */
  info(text: string): void {
    this.message(text);
  }

  success(text: string): void {
    this.message(paint(this.stderrColor, '32', text));
  }

  warn(text: string): void {
    this.message(paint(this.stderrColor, '33', `warning: ${text}`));
  }

  error(text: string): void {
    this.message(paint(this.stderrColor, '31', `error: ${text}`));
  }

  dim(text: string): string {
    return paint(this.stderrColor, '2', text);
  }

  /**
   * Rows as a table on a terminal, or as tab-separated lines without a header when piped.
   * `rows` may be an async iterable: piped output then streams.
   */
  async table<T>(columns: Column<T>[], rows: Iterable<T> | AsyncIterable<T>): Promise<number> {
    let count = 0;
    if (!this.stdoutIsTTY) {
      for await (const row of rows) {
        count++;
        this.write(`${columns.map((c) => tsvCell(c.value(row))).join('\t')}\n`);
      }
      return count;
    }
    // Every row is needed before the first line (the columns' widths), but only as its cells' text.
    const cells: string[][] = [];
    for await (const row of rows) cells.push(columns.map((c) => c.value(row)));
    count = cells.length;
    if (count === 0) return 0;
    // string-width measures characters as a terminal shows them (wide CJK, emoji, accents).
    const { default: width } = await import('string-width');
    let block = '';
    for (const line of tableLines(
      columns.map((c) => c.header),
      cells,
      width,
      this.stdoutColor,
    )) {
      block += `${line}\n`;
      if (block.length >= BLOCK) {
        this.write(block);
        block = '';
      }
    }
    this.write(block);
    return count;
  }
}

function tsvCell(s: string): string {
  return s.replace(/[\t\n\r]/g, ' ');
}
