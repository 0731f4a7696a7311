// The contract's seeded noise source (models/recipe/CONTRACT.md, "Random numbers"):
// mulberry32 for uniforms and Box–Muller for normals, so that one seed gives the
// same noise in the Python recipe and here.

const TWO_POW_32 = 4294967296;

export class Mulberry32 {
  private state: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    // ToUint32 is the same reduction as Python's `seed & 0xffffffff`, negatives included.
    this.state = seed >>> 0;
  }

  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    const a = this.state;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t = ((t + Math.imul(t ^ (t >>> 7), t | 61)) >>> 0) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in the open interval (0, 1), so that log(u) is always finite. */
  nextUniform(): number {
    return (this.nextUint32() + 0.5) / TWO_POW_32;
  }

  /** Fills `out` with standard normals in row-major order (pairs; an odd tail takes a fresh pair's cosine). */
  fillNormal(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i += 2) {
      const r = Math.sqrt(-2 * Math.log(this.nextUniform()));
      const angle = 2 * Math.PI * this.nextUniform();
      out[i] = r * Math.cos(angle);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(angle);
    }
    return out;
  }
}
