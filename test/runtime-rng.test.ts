import { describe, expect, it } from 'vitest';
import { Mulberry32 } from '../src/pipeline/synthesis/rng.js';

// Expected values come from the recipe's Python implementation (models/recipe/emomix/rng.py).
describe('Mulberry32', () => {
  it('produces the reference uint32 sequence for seed 42', () => {
    const rng = new Mulberry32(42);
    expect([rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32()]).toEqual([2581720956, 1925393290, 3661312704, 2876485805]);
  });

  it('reduces seeds modulo 2^32 as Python does with & 0xffffffff', () => {
    const negative = new Mulberry32(-1);
    expect(negative.nextUniform()).toBe(0.896422614227049);
    expect(negative.nextUniform()).toBe(0.18947825685609132);
    expect(new Mulberry32(2 ** 32 + 7).nextUint32()).toBe(new Mulberry32(7).nextUint32());
  });

  it('fills normals pairwise with a fresh pair for an odd tail', () => {
    const values = new Mulberry32(7).fillNormal(new Float32Array(5));
    expect(Array.from(values)).toEqual([2.7593729496002197, 1.1319811344146729, -0.06805135309696198, -0.20517154037952423, -0.9459489583969116]);
    // The odd tail consumed a whole pair: six uniforms in all, so the streams line up again.
    const rng = new Mulberry32(7);
    rng.fillNormal(new Float32Array(5));
    const reference = new Mulberry32(7);
    for (let i = 0; i < 6; i++) reference.nextUniform();
    expect(rng.nextUint32()).toBe(reference.nextUint32());
  });

  it('keeps uniforms strictly inside (0, 1)', () => {
    const rng = new Mulberry32(123);
    for (let i = 0; i < 10_000; i++) {
      const u = rng.nextUniform();
      expect(u > 0 && u < 1).toBe(true);
    }
  });

  it('refuses a seed that is not a safe integer', () => {
    expect(() => new Mulberry32(1.5)).toThrow(RangeError);
  });
});
