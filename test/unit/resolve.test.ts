import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LookupError, NotFoundError } from '../../src/cli/errors';
import { looksLike, resolveExact, resolveNameOrGuid } from '../../src/client/resolve';

interface Rec {
  guid: string;
  name: string;
}

/**
 * SQL LIKE as a server runs it, case-insensitive: `%` any run, `_` one character; `\` escapes the
 * next character only when `honoursEscape` is on (a server without `ESCAPE '\'` takes it literally).
 */
function like(pattern: string, text: string, honoursEscape: boolean): boolean {
  const p = Array.from(pattern.toLowerCase());
  const t = Array.from(text.toLowerCase());
  const toks: string[] = []; // '%', '_', or 'L' + literal character
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (honoursEscape && c === '\\' && i + 1 < p.length) toks.push(`L${p[++i]}`);
    else toks.push(c === '%' || c === '_' ? c : `L${c}`);
  }
  let ok = [true, ...t.map(() => false)];
  for (const tok of toks) {
    const next = ok.map(() => false);
    if (tok === '%') {
      let reach = false;
      for (let j = 0; j <= t.length; j++) next[j] = reach ||= ok[j]!;
    } else {
      for (let j = 1; j <= t.length; j++) next[j] = ok[j - 1]! && (tok === '_' || tok.slice(1) === t[j - 1]);
    }
    ok = next;
  }
  return ok[t.length]!;
}

/**
 * A fake list endpoint over `records`, paged in twos to show that every candidate is read. `fuzzy`
 * makes it a substring search (`%pattern%`); `escape: false` is a server that ignores `\`.
 */
function fakeList(records: Rec[], o: { escape?: boolean; fuzzy?: boolean } = {}) {
  const patterns: string[] = [];
  const pagesRead: number[] = [];
  async function* list(pattern: string): AsyncIterable<Rec> {
    patterns.push(pattern);
    const p = o.fuzzy ? `%${pattern}%` : pattern;
    const hits = records.filter((r) => like(p, r.name, o.escape ?? true));
    for (let i = 0; i < hits.length; i += 2) {
      pagesRead.push(i / 2 + 1);
      yield* hits.slice(i, i + 2);
    }
  }
  return { list, patterns, pagesRead };
}

async function rejection(p: Promise<unknown>): Promise<LookupError> {
  try {
    await p;
  } catch (err) {
    return err as LookupError;
  }
  throw new Error('expected a rejection');
}

const recs = (...names: string[]): Rec[] => names.map((name, i) => ({ guid: `g${i}`, name }));

describe('resolveExact', () => {
  it('picks the exact (case-sensitive) match among fuzzy candidates', async () => {
    const server = fakeList(recs('bobby', 'jimbob', 'Bob', 'BOB', 'bob', 'bob2'), { fuzzy: true });
    await expect(resolveExact('user', 'bob', server.list)).resolves.toEqual({ guid: 'g4', name: 'bob' });
    // bob is the 5th of 6 candidates: all pages were read, and one query was enough.
    expect(server.pagesRead).toEqual([1, 2, 3]);
    expect(server.patterns).toEqual(['bob']);
  });

  it('finds a name that looks like a GUID by lookup, not by shape', async () => {
    const guidLike = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const server = fakeList([{ guid: 'g-real', name: guidLike }]);
    await expect(resolveExact('user', guidLike, server.list)).resolves.toEqual({
      guid: 'g-real',
      name: guidLike,
    });
  });

  it('not found: LookupError (exit 1) naming the kind and the name, hinting similar names', async () => {
    const server = fakeList(recs('bobby', 'jimbob', 'Bob'), { fuzzy: true });
    const err = await rejection(resolveExact('user', 'bob', server.list));
    // "not there" (what --if-exists forgives), a LookupError like any failed lookup
    expect(err.constructor).toBe(NotFoundError);
    expect(err).toBeInstanceOf(LookupError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe("user 'bob' not found");
    expect(err.hint).toBe('similar names: bobby, jimbob, Bob');
  });

  it('not found with no candidates at all: no hint', async () => {
    const err = await rejection(resolveExact('device group', 'lab', fakeList(recs('prod')).list));
    expect(err).toBeInstanceOf(LookupError);
    expect(err.message).toMatch(/device group 'lab' not found/);
    expect(err.hint).toBeUndefined();
  });

  it('lists at most five similar names', async () => {
    const server = fakeList(recs('ann1', 'ann2', 'ann3', 'ann4', 'ann5', 'ann6', 'ann7'), { fuzzy: true });
    const err = await rejection(resolveExact('user', 'ann', server.list));
    expect(err.hint).toBe('similar names: ann1, ann2, ann3, ann4, ann5');
  });

  it('ambiguous: several records with exactly that name, listed as candidates', async () => {
    const server = fakeList(
      [
        { guid: 'g-1', name: 'ops' },
        { guid: 'g-2', name: 'ops-2' },
        { guid: 'g-3', name: 'ops' },
      ],
      { fuzzy: true },
    );
    const err = await rejection(resolveExact('user group', 'ops', server.list));
    expect(err.constructor).toBe(LookupError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(/user group name 'ops' is ambiguous: 2 records/);
    expect(err.hint).toMatch(/g-1, g-3/);
    expect(err.hint).not.toMatch(/g-2/);
  });

  it('escapes _ and % on a server that honours \\: one query, no wildcard over-match', async () => {
    const server = fakeList(recs('a_b', 'axb', '100%', '1000'));
    await expect(resolveExact('user', 'a_b', server.list)).resolves.toEqual({ guid: 'g0', name: 'a_b' });
    await expect(resolveExact('user', '100%', server.list)).resolves.toEqual({ guid: 'g2', name: '100%' });
    expect(server.patterns).toEqual(['a\\_b', '100\\%']);
  });

  it('falls back to the raw name on a server that does not honour \\', async () => {
    const server = fakeList(recs('axb', 'a_b', 'ayb'), { escape: false });
    await expect(resolveExact('user', 'a_b', server.list)).resolves.toEqual({ guid: 'g1', name: 'a_b' });
    expect(server.patterns).toEqual(['a\\_b', 'a_b']);
  });

  it('on a server without \\ escapes, an ambiguous raw fallback is still reported', async () => {
    const server = fakeList(
      [
        { guid: 'g-1', name: '50%' },
        { guid: 'g-2', name: '50% off' },
        { guid: 'g-3', name: '50%' },
      ],
      { escape: false },
    );
    const err = await rejection(resolveExact('strategy', '50%', server.list));
    expect(err.message).toMatch(/ambiguous/);
    expect(err.hint).toMatch(/g-1, g-3/);
  });

  it('property: finds any name among decoys, whether or not the server honours \\', async () => {
    const name = fc.string({
      unit: fc.constantFrom('a', 'B', '_', '%', '\\', ' ', 'é', '😀'),
      minLength: 1,
      maxLength: 6,
    });
    await fc.assert(
      fc.asyncProperty(
        name,
        fc.uniqueArray(name, { maxLength: 8 }),
        fc.boolean(),
        async (target, others, honours) => {
          const decoys = others.filter((n) => n !== target);
          const records = [...decoys, target].map((n, i) => ({ guid: `g${i}`, name: n }));
          const server = fakeList(records, { escape: honours });
          await expect(resolveExact('user', target, server.list)).resolves.toEqual({
            guid: `g${decoys.length}`,
            name: target,
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('looksLike: names suggested for a mistyped one', () => {
  it('takes a name holding the text, or one edit away (two from eight characters on)', () => {
    expect(looksLike('alice', 'alise')).toBe(true); // substitution
    expect(looksLike('alice', 'alcie')).toBe(true); // neighbours swapped
    expect(looksLike('alice', 'alic')).toBe(true); // holds the text
    expect(looksLike('alice', 'allice')).toBe(true); // insertion
    expect(looksLike('alice', 'alxxe')).toBe(false); // two edits on a short name
    expect(looksLike('production', 'prodcutoin')).toBe(true); // two swaps, ten characters
    expect(looksLike('production', 'prxdxctxon')).toBe(false);
    expect(looksLike('bob', 'ab')).toBe(false); // two characters: only a name holding them
    expect(looksLike('ab', 'ab')).toBe(true);
  });

  it('property: agrees with a plain full-table edit distance', () => {
    const osa = (a: string, b: string): number => {
      const d = Array.from({ length: a.length + 1 }, (_, i) =>
        Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
      );
      for (let i = 1; i <= a.length; i++)
        for (let j = 1; j <= b.length; j++) {
          d[i]![j] = Math.min(
            d[i - 1]![j]! + 1,
            d[i]![j - 1]! + 1,
            d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
          );
          if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
            d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
        }
      return d[a.length]![b.length]!;
    };
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd'), maxLength: 10 });
    fc.assert(
      fc.property(word, word, (name, text) => {
        const limit = text.length >= 8 ? 2 : text.length >= 3 ? 1 : 0;
        expect(looksLike(name, text)).toBe(name.includes(text) || osa(name, text) <= limit);
      }),
      { numRuns: 2000 },
    );
  });

  it('a name or GUID not found hints names one typo away', async () => {
    const records = ['alice', 'bob', 'carol'].map((name, i) => ({ guid: `g${i}`, name }));
    const server = fakeList(records, { escape: true });
    const list = (p: string | undefined) => server.list(p ?? '%');
    const err = await rejection(resolveNameOrGuid('user', 'alise', list));
    expect(err.message).toBe("user 'alise' not found");
    expect(err.hint).toBe('similar: alice');
  });
});
