import type { IO } from './io';
import type { Output } from './output';

// A long listing written to a file or a pipe (`devices export > devices.csv`, `audits view-conn
// --all --json > log.json`) says nothing for seconds, or minutes across a slow link. When stderr is
// a terminal and stdout is not, a status line there tells how far it has got; it goes away when the
// listing ends. Short listings never show it.

export interface ListingProgressTiming {
  /** A listing shows its line only once it has run this long. */
  afterMs: number;
  /** At most one redraw per this many ms. */
  everyMs: number;
  now: () => number;
}

const TIMING: ListingProgressTiming = { afterMs: 700, everyMs: 150, now: () => performance.now() };

const CLEAR = '\r\u001b[2K';

/** What a listing path is called on the status line: `/api/audits/conn` → `audits conn`. */
function what(path: string): string {
  return path.replace(/^.*?\/api\//, '').replace(/\//g, ' ');
}

/**
 * The transport's `rows` observer for a command, or undefined when the line would not be seen
 * (stderr not a terminal) or would be in the way (stdout on the same terminal, where rows or a
 * table are printed).
 */
export function listingProgress(
  io: IO,
  out: Output,
  timing: ListingProgressTiming = TIMING,
): ((path: string, read: number, total: number | undefined, done: boolean) => void) | undefined {
  if (io.stderr.isTTY !== true || io.stdout.isTTY === true) return undefined;
  const started = new Map<string, number>();
  let shown: string | undefined;
  let drawnAt = Number.NEGATIVE_INFINITY;
  // While the line is up, a message (a warning, an error) clears it first and is redrawn below.
  const around = (print: () => void) => {
    io.stderr.write(CLEAR);
    print();
    if (shown !== undefined) io.stderr.write(shown);
  };
  const clear = () => {
    if (shown === undefined) return;
    io.stderr.write(CLEAR);
    shown = undefined;
    if (out.aroundMessage === around) out.aroundMessage = undefined;
  };
  return (path, read, total, done) => {
    const now = timing.now();
    if (done) {
      started.delete(path);
      clear();
      return;
    }
    if (!started.has(path)) started.set(path, now);
    // Another status line (a bulk run's progress bar) has the terminal: stay out of its way.
    if (out.aroundMessage && out.aroundMessage !== around) return;
    if (now - started.get(path)! < timing.afterMs || now - drawnAt < timing.everyMs) return;
    const of = total === undefined ? '' : ` of ${total.toLocaleString('en')}`;
    shown = out.dim(`reading ${what(path)}: ${read.toLocaleString('en')}${of}…`);
    drawnAt = now;
    out.aroundMessage = around;
    io.stderr.write(CLEAR + shown);
  };
}
