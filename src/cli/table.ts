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
  const measure = (line: string) => width(line.replace(SGR, ''));
  const split = (row: readonly string[]) =>
    head.map((_, i) => {
      const lines = String(row[i] ?? '').split('\n');
      return { lines, widths: lines.map(measure) };
    });
  const cells = [split(head), ...rows.map(split)];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => Math.max(...r[i]!.widths))) + 2);

  const paint = (c: readonly [string, string], s: string) => (color ? c[0] + s + c[1] : s);
  const border = (left: string, cross: string, right: string) =>
    widths
      .map((w, i) =>
        paint(GREY, (i === 0 ? left : cross) + '─'.repeat(w) + (i === widths.length - 1 ? right : '')),
      )
      .join('');
  const bar = paint(GREY, '│');
  const out: string[] = [border('┌', '┬', '┐')];
  cells.forEach((row, r) => {
    if (r > 0) out.push(border('├', '┼', '┤'));
    const height = Math.max(...row.map((c) => c.lines.length));
    for (let l = 0; l < height; l++) {
      let line = bar;
      row.forEach((c, i) => {
        const text = c.lines[l] ?? '';
        const padded = ` ${text}${' '.repeat(widths[i]! - 2 - (c.widths[l] ?? 0))} `;
        line += (r === 0 ? paint(CYAN, padded) : padded) + bar;
      });
      out.push(line);
    }
  });
  out.push(border('└', '┴', '┘'));
  return out.join('\n');
}
