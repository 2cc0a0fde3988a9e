import { createRequire } from 'node:module';
import fc from 'fast-check';
import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { drawTable } from '../../src/cli/table';

// drawTable() must draw exactly what cli-table3 drew (the CLI used it for terminal tables until its
// quadratic layout made 10,000 rows take 9 s): cli-table3 itself is the reference.
const require = createRequire(import.meta.url);
const Table = require('cli-table3') as new (o: object) => { push(r: string[]): void; toString(): string };
const colors = require('@colors/colors/safe') as { enable(): void; disable(): void };

function reference(head: string[], rows: string[][], color: boolean): string {
  if (color) colors.enable();
  else colors.disable();
  try {
    const style = color ? { head: ['cyan'], border: ['grey'] } : { head: [], border: [] };
    const t = new Table({ head, style });
    for (const r of rows) t.push(r);
    return t.toString();
  } finally {
    colors.disable();
  }
}

/** Text as names, notes and e-mails come: ASCII, accents (also combining), CJK, emoji, line breaks. */
const Text = fc
  .array(
    fc.constantFrom(
      'a',
      'Z',
      '0',
      ' ',
      '%',
      '_',
      '-',
      '@',
      '.',
      'é',
      'e\u0301',
      'ß',
      '日',
      '本語',
      '한',
      '😀',
      '👍🏽',
      '\n',
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));

describe('drawTable', () => {
  it('draws what cli-table3 draws, byte for byte, with and without colour', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((n) =>
          fc.tuple(
            fc.array(
              Text.filter((t) => t.length > 0),
              { minLength: n, maxLength: n },
            ),
            fc.array(fc.array(Text, { minLength: n, maxLength: n }), { maxLength: 6 }),
            fc.boolean(),
          ),
        ),
        ([head, rows, color]) => {
          expect(drawTable(head, rows, stringWidth, color)).toBe(reference(head, rows, color));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('draws a table of 10,000 rows (times are in the bench, not here)', () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => [`user-${i}`, `u${i}@example.com`, 'Default']);
    const lines = drawTable(['NAME', 'EMAIL', 'GROUP'], rows, stringWidth, false).split('\n');
    expect(lines).toHaveLength(2 * 10_001 + 1);
    expect(lines[1]).toBe('│ NAME      │ EMAIL             │ GROUP   │');
    expect(lines.at(-2)).toBe('│ user-9999 │ u9999@example.com │ Default │');
    expect(lines.at(-1)).toBe(`└${'─'.repeat(11)}┴${'─'.repeat(19)}┴${'─'.repeat(9)}┘`);
  });
});
