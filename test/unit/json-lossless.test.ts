import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { parseJsonLossless, stringifyJson } from '../../src/wire/json-lossless';

describe('lossless JSON', () => {
  it('keeps every digit of integers JSON.parse would round (u64 session ids)', () => {
    const text = '{"session_id":18446744073709551615,"small":7,"neg":-9223372036854775808,"f":1.5e3}';
    expect(JSON.parse(text).session_id).toBe(18446744073709552000);
    const v = parseJsonLossless(text) as Record<string, unknown>;
    expect(v['session_id']).toBe(18446744073709551615n);
    expect(v['small']).toBe(7);
    expect(v['neg']).toBe(-9223372036854775808n);
    expect(v['f']).toBe(1500);
    expect(stringifyJson(v)).toBe(text.replace('1.5e3', '1500'));
    expect(parseJsonLossless('9007199254740993')).toBe(9007199254740993n);
    expect(parseJsonLossless('9007199254740991')).toBe(9007199254740991);
  });

  /** The lossless result with its bigints rounded the way JSON.parse rounds them. */
  function rounded(v: unknown): unknown {
    if (typeof v === 'bigint') return Number(v);
    if (Array.isArray(v)) return v.map(rounded);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rounded(x)]));
    return v;
  }

  it('parses what JSON.parse parses, differing only where JSON.parse rounds', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(rounded(parseJsonLossless(text))).toStrictEqual(JSON.parse(text));
        const pretty = JSON.stringify(value, null, 2);
        expect(rounded(parseJsonLossless(pretty))).toStrictEqual(JSON.parse(pretty));
      }),
      { numRuns: 300 },
    );
  });

  it('reads strings of any characters as JSON.parse does (escapes, controls, surrogates, quotes)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), fc.string({ unit: 'binary' }), (value, raw) => {
        const text = JSON.stringify(value);
        expect(rounded(parseJsonLossless(text))).toStrictEqual(JSON.parse(text));
        // A string literal written by hand: raw characters where JSON.stringify would escape.
        const literal = `"${raw.replace(/["\\]/g, (c) => `\\${c}`)}"`;
        let want: unknown;
        try {
          want = JSON.parse(literal);
        } catch {
          expect(() => parseJsonLossless(literal)).toThrow(SyntaxError);
          return;
        }
        expect(parseJsonLossless(literal)).toBe(want);
      }),
      { numRuns: 500 },
    );
  });

  it('a string kept from a document does not keep the document (as with JSON.parse)', () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const page = (p: number) =>
      JSON.stringify({
        data: Array.from({ length: 50 }, (_, i) => ({
          guid: `01a21c4e-${String(p).padStart(4, '0')}-71ff-b9f4-${String(i).padStart(12, '0')}`,
          note: 'n'.repeat(1000),
        })),
      });
    gc();
    const before = process.memoryUsage().heapUsed;
    const kept: string[] = [];
    // 200 documents of about 55 KB: 11 MB of text, of which only the GUIDs are kept (0.5 MB).
    for (let p = 0; p < 200; p++)
      for (const row of (parseJsonLossless(page(p)) as { data: { guid: string }[] }).data)
        kept.push(row.guid);
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(kept).toHaveLength(10_000);
    expect(grown).toBeLessThan(4_000_000);
  });

  it('rejects what JSON.parse rejects', () => {
    for (const bad of [
      '',
      '{',
      '[1,]',
      '{"a":1,}',
      '01',
      '1.',
      '.5',
      '+1',
      'tru',
      '"\\x"',
      '"a\nb"',
      '{"a" 1}',
      '1 2',
      "'a'",
    ]) {
      expect(() => JSON.parse(bad), bad).toThrow();
      expect(() => parseJsonLossless(bad), bad).toThrow(SyntaxError);
    }
  });

  it('keeps __proto__ an ordinary key and refuses absurd nesting', () => {
    const v = parseJsonLossless('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(() => parseJsonLossless('['.repeat(100_000))).toThrow(/nesting/);
  });

  it('writes what a replacer turning each bigint into its digits writes, for any value', () => {
    /** A JSON value whose non-negative integers became bigints beyond 2^60 (some of them). */
    const withBigints = (v: unknown, i = 0): unknown => {
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && (v + i) % 2 === 0)
        return BigInt(v) + 2n ** 60n;
      if (Array.isArray(v)) return v.map((x, j) => withBigints(x, i + j));
      if (v && typeof v === 'object')
        return Object.fromEntries(Object.entries(v).map(([k, x], j) => [k, withBigints(x, i + j)]));
      return v;
    };
    const reference = (v: unknown, indent?: number) =>
      JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `@big@${x}@` : x), indent).replace(
        /"@big@(-?\d+)@"/g,
        '$1',
      );
    fc.assert(
      fc.property(
        fc.jsonValue().filter((v) => !JSON.stringify(v).includes('@big@')),
        fc.constantFrom(undefined, 2),
        (json, indent) => {
          const v = withBigints(json);
          expect(stringifyJson(v, indent)).toBe(reference(v, indent));
          expect(stringifyJson(json, indent)).toBe(JSON.stringify(json, undefined, indent));
        },
      ),
      { numRuns: 400 },
    );
    const proto = parseJsonLossless('{"__proto__":{"n":18446744073709551615}}');
    expect(stringifyJson(proto)).toBe('{"__proto__":{"n":18446744073709551615}}');
  });

  it('stringifies bigints as numbers and leaves look-alike strings alone', () => {
    const v = { a: 18446744073709551615n, b: 'bigint-x:1', c: [1n, '2'] };
    expect(stringifyJson(v)).toBe('{"a":18446744073709551615,"b":"bigint-x:1","c":[1,"2"]}');
    expect(stringifyJson({ a: 5n }, 2)).toBe('{\n  "a": 5\n}');
  });

  it('compiles no regular expression per call (V8 keeps every one it compiled in a cache)', () => {
    stringifyJson({ first: 1n }); // the process's one marker and expression are made on the first bigint
    const spy = vi.spyOn(globalThis, 'RegExp');
    try {
      for (let i = 0; i < 100; i++) {
        expect(stringifyJson({ id: BigInt(i) + 18446744073709551515n, n: i })).toBe(
          `{"id":${18446744073709551515n + BigInt(i)},"n":${i}}`,
        );
      }
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
