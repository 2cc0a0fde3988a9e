/**
 * A table for a terminal, drawn the way cli-table3 draws one with its defaults (box-drawing borders,
 * a line between rows, one space of padding, the header in cyan and the borders in grey when
 * colour is on), in time proportional to its size. cli-table3's layout step compares every cell
 * with every cell of the rows above it (it supports spans, which we never use): 10,000 users took
 * 9 s to draw, 100,000 devices would take many minutes. Widths are measured as cli-table3 measures
 * them (`width` is string-width, given by the caller because it is loaded on demand); a test holds
 * the output to cli-table3's, byte for byte, on random tables.
 */

/** What cli-table3 strips before measuring a line: SGR escape sequences. */
const SGR = /\u001b\[(?:\d*;){0,5}\d*m/g;

const GREY = ['\u001b[90m', '\u001b[39m'] as const;
const CYAN = ['\u001b[36m', '\u001b[39m'] as const;

export function drawTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  width: (text: string) => number,
  color: boolean,
): string {
  return [...tableLines(head, rows, width, color)].join('\n');
}

/**
 * The lines of drawTable()'s table, one at a time, so that a large table is written as it is
 * drawn rather than built whole (100,000 devices: 71 MB of text, twice that as JavaScript
 * strings). Every cell is measured once; only cells holding a line break keep their lines.
 */
export function* tableLines(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  width: (text: string) => number,
  color: boolean,
): Generator<string> {
  const measure = (line: string) => width(line.replace(SGR, ''));
  const n = head.length;
  const text = (row: readonly string[], i: number) => String(row[i] ?? '');
  // The width of every cell (of its widest line), row by row; the header is row 0.
  const cellWidths = new Float64Array((rows.length + 1) * n);
  const widths = new Array<number>(n).fill(0);
  const all = (r: number) => (r === 0 ? head : rows[r - 1]!);
  for (let r = 0; r <= rows.length; r++) {
    const row = all(r);
    for (let i = 0; i < n; i++) {
      const t = text(row, i);
      const w = t.includes('\n') ? Math.max(...t.split('\n').map(measure)) : measure(t);
      cellWidths[r * n + i] = w;
      if (w > widths[i]!) widths[i] = w;
    }
  }
  for (let i = 0; i < n; i++) widths[i]! += 2;

  const paint = (c: readonly [string, string], s: string) => (color ? c[0] + s + c[1] : s);
  const border = (left: string, cross: string, right: string) =>
    widths
      .map((w, i) =>
        paint(GREY, (i === 0 ? left : cross) + '─'.repeat(w) + (i === widths.length - 1 ? right : '')),
      )
      .join('');
  const bar = paint(GREY, '│');
  const between = border('├', '┼', '┤');
  yield border('┌', '┬', '┐');
  for (let r = 0; r <= rows.length; r++) {
    if (r > 0) yield between;
    const row = all(r);
    const cells = Array.from({ length: n }, (_, i) => text(row, i));
    const multi = cells.some((t) => t.includes('\n'));
    // A cell of one line is padded by its measured width; the lines of the others are measured again.
    const lines = multi ? cells.map((t) => t.split('\n')) : undefined;
    const height = lines ? Math.max(...lines.map((l) => l.length)) : 1;
    for (let l = 0; l < height; l++) {
      let line = bar;
      for (let i = 0; i < n; i++) {
        const own = lines?.[i];
        const t = own ? (own[l] ?? '') : cells[i]!;
        let w = cellWidths[r * n + i]!;
        if (own && own.length > 1) w = measure(t);
        else if (own && l > 0) w = 0; // below a one-line cell of a taller row
        const padded = ` ${t}${' '.repeat(widths[i]! - 2 - w)} `;
        line += (r === 0 ? paint(CYAN, padded) : padded) + bar;
      }
      yield line;
    }
  }
  yield border('└', '┴', '┘');
}
