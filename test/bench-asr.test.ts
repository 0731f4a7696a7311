// The benchmark's word error rate: the same distance and references as the recipe's evaluate.
import { describe, expect, it } from 'vitest';
import { corpusWer, referenceWords, wordErrors } from '../bench/asr.js';

describe('bench word error rate', () => {
  it('counts substitutions, deletions and insertions', () => {
    expect(wordErrors(['a', 'b', 'c'], ['a', 'b', 'c'])).toBe(0);
    expect(wordErrors(['a', 'b', 'c'], ['a', 'x', 'c', 'd'])).toBe(2);
    expect(wordErrors(['a', 'b', 'c'], [])).toBe(3);
    expect(wordErrors([], ['a'])).toBe(1);
  });

  it('pools errors over every reference word', () => {
    expect(corpusWer([{ reference: ['a', 'b'], hypothesis: ['a'] }, { reference: ['c', 'd', 'e'], hypothesis: ['c', 'd', 'e', 'f'] }])).toBeCloseTo(40, 10);
    expect(() => corpusWer([])).toThrow();
  });

  it('takes the words a listener should hear from the front end', () => {
    expect(referenceWords('That comes to $12.50, thanks!')).toEqual(['that', 'comes', 'to', 'twelve', 'dollars', 'fifty', 'cents', 'thanks']);
  });
});
