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

/**
 * What `visible` leaves as it is: nothing ('line', one line of a message built from a server's
 * answer); a table cell's line breaks ('cell'); the tabs and line ends (LF, CRLF) that lines of data
 * and messages are made of ('lines').
 */
export type Keep = 'line' | 'cell' | 'lines';

// C0, DEL, C1, and the bidi embeddings, overrides and isolates (which make a terminal show text in
// another order than it is written, e.g. a name that reads "exe.txt" while it is "txt.exe").
const UNSAFE: Record<Keep, RegExp> = {
  line: /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
  cell: /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
  lines: /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\r(?!\n)/g,
};
const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escaped(c: string): string {
  const code = c.charCodeAt(0);
  if (NAMED[c]) return NAMED[c];
  // \xNN for C0 (as a shell or a debugger shows it); \uNNNN from DEL on, which is also a JSON
  // escape: JSON text (`audits … --format json`) stays valid JSON of the same value.
  return code < 0x20
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Text from elsewhere (a server; device fields come from any RustDesk client, unauthenticated)
 * made safe to print on a terminal: each control character and bidi control becomes a visible
 * escape (ESC → `\x1b`, U+202E → `\u202e`), except those `keep` allows. Raw, they would let that
 * text clear the screen, set the window title, recolour or hide what follows, or forge a line.
 * Our own colour is added after this, never before.
 */
export function visible(text: string, keep: Keep = 'line'): string {
  return text.replace(UNSAFE[keep], escaped);
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

  /**
   * Text on stdout (no newline added): for output written piece by piece. Controls other than tabs
   * and line ends are shown escaped (see visible), except with --json (JSON.stringify escapes them).
   */
  text(text: string): void {
    this.write(this.json ? text : visible(text, 'lines'));
  }

  /** Data line(s) on stdout, controls escaped as for text(). */
  data(text: string): void {
    const t = this.json ? text : visible(text, 'lines');
    this.write(t.endsWith('\n') ? t : `${t}\n`);
  }

  /** A JSON document on stdout. */
  jsonValue(value: unknown): void {
    this.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /**
   * Starts a JSON array on stdout whose items are written as they arrive (valid JSON when ended).
   * `o.stringify` writes an item (JSON.stringify by default); `o.text` writes through text() (its
   * escapes) rather than as it is.
   */
  jsonArray(o: { stringify?: (item: unknown) => string; text?: boolean } = {}): {
    push(item: unknown): void;
    end(): void;
  } {
    const stringify = o.stringify ?? JSON.stringify;
    const put = (s: string) => (o.text ? this.text(s) : this.write(s));
    let n = 0;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      if (this.unfinished?.end === end) this.unfinished = undefined;
      put(n === 0 ? '[]\n' : '\n]\n');
    };
    this.unfinished = { end, started: () => n > 0 };
    return {
      push: (item) => {
        put(`${n++ === 0 ? '[\n' : ',\n'}  ${stringify(item)}`);
      },
      end,
    };
  }

  // The JSON array being written, until it is ended.
  private unfinished?: { end(): void; started(): boolean };

  /**
   * Ends the JSON array a command left open on stdout (a listing cut short by a signal or an
   * error): what was written stays valid JSON, the items read so far. After an error, an array
   * with no item yet is left unwritten (`[]` would read as "no rows" where the command failed).
   */
  endUnfinished(o: { empty: boolean }): void {
    if (this.unfinished && (o.empty || this.unfinished.started())) this.unfinished.end();
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

  /**
   * A message for the person at the terminal (stderr); suppressed nowhere, so keep it short.
   * Messages often hold names from the server: the controls in them are escaped (see visible), and
   * only then is colour added (here and below).
   */
  info(text: string): void {
    this.message(visible(text, 'lines'));
  }

  success(text: string): void {
    this.message(paint(this.stderrColor, '32', visible(text, 'lines')));
  }

  warn(text: string): void {
    this.message(paint(this.stderrColor, '33', `warning: ${visible(text, 'lines')}`));
  }

  /** `error: …`, always one line: a line break in it (a name from the server) is shown as `\n`. */
  error(text: string): void {
    this.message(paint(this.stderrColor, '31', `error: ${visible(text)}`));
  }

  dim(text: string): string {
    return paint(this.stderrColor, '2', visible(text, 'lines'));
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
    // Every row is needed before the first line (the columns' widths), but only as its cells' text,
    // controls escaped (a cell keeps its line breaks: the table draws them inside its borders), so
    // that the widths are those of what is shown.
    const cells: string[][] = [];
    for await (const row of rows) cells.push(columns.map((c) => visible(c.value(row), 'cell')));
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

/** A cell of a tab-separated line: the separators it holds become spaces, other controls escapes. */
function tsvCell(s: string): string {
  return visible(s.replace(/[\t\n\r]/g, ' '));
}

/**
 * The URL as messages show it: whatever may be a user name or password replaced by `***`, that is
 * everything from after `scheme://` (or from the start, without one) to the last `@`. A URL with an
 * `@` is refused as a server URL (checkServerUrl), so this is what the messages refusing it, and a
 * hand-edited profile in `config list`, show: also for a URL that does not parse (`http://u:a/b@h`,
 * whose password holds a `/`), which is why this does not go by what URL parsing calls userinfo.
 */
export function shownUrl(url: string): string {
  const at = url.lastIndexOf('@');
  if (at < 0) return url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? '';
  return `${scheme}***${url.slice(at)}`;
}
