import { describe, expect, it } from 'vitest';
import { csvField, csvLine } from '../../src/cli/csv';

describe('CSV export', () => {
  it('quotes separators, quotes and line breaks; defuses spreadsheet formulas', () => {
    expect(csvLine(['a', 'b,c', 'say "hi"', 'two\nlines'])).toBe('a,"b,c","say ""hi""","two\nlines"\r\n');
    expect(csvField('=1+2')).toBe("'=1+2");
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('-cmd')).toBe("'-cmd");
    expect(csvField('-42')).toBe('-42');
    expect(csvField('-4.5')).toBe('-4.5');
    expect(csvField('2026-03-01T10:00:00Z')).toBe('2026-03-01T10:00:00Z');
  });
});
