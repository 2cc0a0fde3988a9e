import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commaList, escapeLike, wildcard } from '../../src/client/filters';

type Tok = { kind: 'any' } | { kind: 'one' } | { kind: 'lit'; ch: string };

/**
 * Reference SQL LIKE with `ESCAPE '\'`, case-sensitive: `%` matches any run of characters, `_` exactly
 * one character (code point), `\` makes the next character literal. Dynamic programming, so
 * patterns full of `%` cannot backtrack exponentially.
 */
function like(pattern: string, text: string): boolean {
  const p = Array.from(pattern);
  const toks: Tok[] = [];
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\' && i + 1 < p.length) toks.push({ kind: 'lit', ch: p[++i]! });
    else if (c === '%') toks.push({ kind: 'any' });
    else if (c === '_') toks.push({ kind: 'one' });
    else toks.push({ kind: 'lit', ch: c });
  }
  const t = Array.from(text);
  let ok = t.map(() => false);
  ok.unshift(true); // ok[j]: the tokens so far match the first j characters
  for (const tok of toks) {
    const next = ok.map(() => false);
    if (tok.kind === 'any') {
      let reach = false;
      for (let j = 0; j <= t.length; j++) next[j] = reach ||= ok[j]!;
    } else {
      for (let j = 1; j <= t.length; j++) {
        next[j] = ok[j - 1]! && (tok.kind === 'one' || tok.ch === t[j - 1]);
      }
    }
    ok = next;
  }
  return ok[t.length]!;
}

/** Strings dense in LIKE metacharacters, quotes, and characters outside the BMP. */
const tricky = fc.string({
  unit: fc.constantFrom('%', '_', '\\', "'", '"', 'a', 'b', 'é', 'ß', '😀', '字', ' ', '-'),
  maxLength: 10,
});
const anyText = fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 12 }));
/** Plain text: no LIKE metacharacters. */
const plain = fc.string({ unit: fc.constantFrom('a', 'b', 'é', '😀', ' ', '-', "'"), maxLength: 6 });

describe('reference LIKE matcher', () => {
  it('behaves like SQL LIKE on known cases', () => {
    expect(like('a%', 'abc')).toBe(true);
    expect(like('%c', 'abc')).toBe(true);
    expect(like('a_c', 'abc')).toBe(true);
    expect(like('a_c', 'ac')).toBe(false);
    expect(like('_', '😀')).toBe(true);
    expect(like('%', '')).toBe(true);
    expect(like('a\\_c', 'abc')).toBe(false);
    expect(like('a\\_c', 'a_c')).toBe(true);
    expect(like('100\\%', '100%')).toBe(true);
    expect(like('100\\%', '1000')).toBe(false);
    expect(like('a\\\\b', 'a\\b')).toBe(true);
    expect(like('abc', 'abcd')).toBe(false);
  });
});

describe('escapeLike', () => {
  it('escapes %, _ and \\ with a backslash', () => {
    expect(escapeLike("50%_off\\n 'x'")).toBe("50\\%\\_off\\\\n 'x'");
    expect(escapeLike('plain')).toBe('plain');
  });

  it('as a LIKE pattern, matches the original string', () => {
    fc.assert(fc.property(anyText, (s) => like(escapeLike(s), s)));
  });

  it('as a LIKE pattern, matches nothing but the original string', () => {
    const pair = anyText.chain((s) =>
      fc.tuple(
        fc.constant(s),
        fc.oneof(
          tricky,
          fc.constant(`${s}a`),
          fc.constant(s.slice(1)),
          fc.constant(s.replace(/[%_\\]/, 'x')),
        ),
      ),
    );
    fc.assert(
      fc.property(pair, ([s, t]) => {
        expect(like(escapeLike(s), t)).toBe(s === t);
      }),
      { numRuns: 500 },
    );
  });

  it('is needed: the unescaped name over-matches', () => {
    expect(like('a_c', 'abc')).toBe(true);
    expect(like(escapeLike('a_c'), 'abc')).toBe(false);
  });
});

describe('wildcard', () => {
  it('follows the scripts: - and values with % go as they are, the rest becomes %v%', () => {
    fc.assert(
      fc.property(fc.oneof(tricky, fc.string(), fc.constantFrom('-', '%', '', '--', 'a%b', ' - ')), (v) => {
        const expected = v === '-' || v.includes('%') ? v : `%${v}%`;
        expect(wildcard(v)).toBe(expected);
      }),
    );
    expect(wildcard('')).toBe('%%');
    expect(wildcard('-')).toBe('-');
    expect(wildcard('--')).toBe('%--%');
    expect(wildcard('bo%')).toBe('bo%');
    expect(wildcard('bob')).toBe('%bob%');
  });

  it('for plain text other than -, is a substring match', () => {
    fc.assert(
      fc.property(plain, plain, (v, t) => {
        fc.pre(v !== '-');
        expect(like(wildcard(v), t)).toBe(t.includes(v));
        expect(like(wildcard(v), `x${v}y`)).toBe(true);
      }),
    );
  });
});

describe('commaList', () => {
  const item = fc.string({ unit: fc.constantFrom('a', 'b', 'é', '😀', ' ', '\t', '-'), maxLength: 4 });

  it('trims, drops empty items and duplicates, keeps first-seen order', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 12 }), (items) => {
        const expected: string[] = [];
        for (const raw of items) {
          const v = raw.trim();
          if (v && !expected.includes(v)) expected.push(v);
        }
        const got = commaList(items.join(','));
        expect(got).toEqual(expected);
        expect(new Set(got).size).toBe(got.length);
        for (const v of got) expect(v).toBe(v.trim());
      }),
    );
  });

  it('handles the edge cases', () => {
    expect(commaList(undefined)).toEqual([]);
    expect(commaList('')).toEqual([]);
    expect(commaList(' , ,')).toEqual([]);
    expect(commaList(' b , a,,b ,c ')).toEqual(['b', 'a', 'c']);
    expect(commaList('a b')).toEqual(['a b']);
  });

  it('takes \\, as a comma inside an item, and keeps other backslashes', () => {
    expect(commaList('Doe\\, John,p\\,q')).toEqual(['Doe, John', 'p,q']);
    expect(commaList('back\\slash,a\\\\b')).toEqual(['back\\slash', 'a\\\\b']);
    expect(commaList('\\,')).toEqual([',']);
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom('a', ',', ' ', 'é'), minLength: 1, maxLength: 5 }), {
          maxLength: 6,
        }),
        (items) => {
          const kept = items.filter((v) => v.trim() !== '');
          const got = commaList(kept.map((v) => v.replaceAll(',', '\\,')).join(','));
          expect(got).toEqual([...new Set(kept.map((v) => v.trim()))]);
        },
      ),
    );
  });
});
