import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTags } from '../../src/client/filters';
import {
  autoTagColor,
  formatColor,
  PALETTE,
  parseColor,
  parsePermission,
  permissionLabel,
} from '../../src/wire/ab-rules';

const hex = (n: number) => formatColor(n);

describe('tag colours', () => {
  it('picks the colour like ab.py when nothing is used: names, then code-point sum mod 12', () => {
    expect(autoTagColor('Work', [])).toBe(4286141768); // 419 mod 12 = 11, brown (pro-admin-api.md §6.4)
    expect(autoTagColor('red', [])).toBe(4294901760);
    expect(autoTagColor('RED', [])).toBe(0xffff0000);
    expect(autoTagColor('yellow', [])).toBe(0xffffff00);
    expect(hex(autoTagColor('a', []))).toBe('0xFF008000'); // 97 mod 12 = 1, green
  });

  it('avoids colours the book already uses (D-17), names included', () => {
    expect(autoTagColor('Work', [0xff795548])).toBe(0xffff0000); // brown taken: first unused, red
    expect(autoTagColor('Work', [0xff795548, 0xffff0000])).toBe(0xff008000);
    expect(autoTagColor('red', [0xffff0000])).toBe(0xff008000);
    // signed 32-bit values (as some clients send them) count as the same colour
    expect(autoTagColor('Work', [0xff795548 | 0])).toBe(0xffff0000);
  });

  it('keeps giving distinct colours after the twelve palette colours are used', () => {
    const used: number[] = PALETTE.map(([, c]) => c);
    for (let i = 0; i < 40; i++) {
      const c = autoTagColor(`tag${i}`, used);
      expect(used).not.toContain(c);
      expect(c).toBeGreaterThanOrEqual(0xff000000);
      expect(c).toBeLessThanOrEqual(0xffffffff);
      used.push(c);
    }
  });

  it('after the palette, names alike still get colours unlike each other and the palette', () => {
    const used: number[] = PALETTE.map(([, c]) => c);
    const rgb = (c: number) => [(c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff];
    const dist = (a: number, b: number) => Math.hypot(...rgb(a).map((x, i) => x - rgb(b)[i]!));
    for (const name of ['auto1', 'auto2', 'auto3', 'auto4']) {
      const c = autoTagColor(name, used);
      // Far from every colour the book already has (the 12 palette colours are about 100 apart).
      expect(Math.min(...used.map((u) => dist(c, u)))).toBeGreaterThan(40);
      used.push(c);
    }
  });

  it('property: never returns a used colour while a palette colour is free', () => {
    fc.assert(
      fc.property(fc.string(), fc.subarray(PALETTE.map(([, c]) => c)), (name, used) => {
        const c = autoTagColor(name, used);
        if (used.length < PALETTE.length) expect(used).not.toContain(c);
      }),
    );
  });

  it('formats 0xAARRGGBB and parses hex, decimal, #RGB forms and names', () => {
    expect(formatColor(0xff00ff00)).toBe('0xFF00FF00');
    expect(formatColor(255)).toBe('0x000000FF');
    expect(formatColor(-16711936)).toBe('0xFF00FF00');
    expect(parseColor('0xFF00FF00')).toBe(0xff00ff00);
    expect(parseColor('0XFFff0000')).toBe(0xffff0000);
    expect(parseColor('4294901760')).toBe(0xffff0000);
    expect(parseColor('#00ff00')).toBe(0xff00ff00);
    expect(parseColor('#8000ff00')).toBe(0x8000ff00);
    expect(parseColor('Teal')).toBe(0xff009688);
    for (const bad of ['', 'green-ish', '0x1FFFFFFFF', '4294967296', '-1', '0xZZ', '1.5']) {
      expect(() => parseColor(bad), bad).toThrow(/invalid colour/);
    }
  });
});

describe('permissions and tags', () => {
  it('maps ro/rw/full (any case) and 1/2/3, and shows other numbers as decimals', () => {
    expect(['ro', 'RO', 'rw', 'Full', '1', '2', '3'].map(parsePermission)).toEqual([1, 1, 2, 3, 1, 2, 3]);
    expect(parsePermission('4')).toBeUndefined();
    expect(parsePermission('read')).toBeUndefined();
    expect([1, 2, 3, 7].map(permissionLabel)).toEqual(['ro', 'rw', 'full', '7']);
  });

  it("parses --tags like ab.py: 'a,b', '[a, b]', '[]' (empty), blanks dropped, repeats once", () => {
    expect(parseTags('a,b')).toEqual(['a', 'b']);
    expect(parseTags('[a, b]')).toEqual(['a', 'b']);
    expect(parseTags('[]')).toEqual([]);
    expect(parseTags(' , a ,, a ')).toEqual(['a']);
    expect(parseTags('')).toEqual([]);
  });

  it("--tags takes '\\,' as a comma inside a tag, as every comma list does, brackets or not", () => {
    expect(parseTags('p\\,q,z')).toEqual(['p,q', 'z']);
    expect(parseTags('[p\\,q, z]')).toEqual(['p,q', 'z']);
    expect(parseTags('a\\b')).toEqual(['a\\b']);
  });
});
