import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reflow } from '../../src/cli/program';

describe('reflow (help text)', () => {
  it('re-wraps prose to the width, keeps blank lines and indented lines as written', () => {
    const text = 'one two three four\nfive six\n\n  keep  this   line\nseven';
    expect(reflow(text, 10)).toBe('one two\nthree four\nfive six\n\n  keep  this   line\nseven');
  });

  it('never loses or reorders a word, and no prose line exceeds the width unless one word does', () => {
    const word = fc.stringMatching(/^[a-z]{1,12}$/);
    fc.assert(
      fc.property(fc.array(word, { maxLength: 60 }), fc.integer({ min: 10, max: 100 }), (words, width) => {
        const out = reflow(words.join(' '), width);
        expect(out.split(/\s+/).filter(Boolean)).toEqual(words);
        for (const line of out.split('\n'))
          if (line.includes(' ')) expect(line.length).toBeLessThanOrEqual(width);
      }),
    );
  });
});
