// A small seeded PRNG (mulberry32 over a splitmix-mixed seed): every fuzz case
// is a pure function of its 32-bit seed, so `--replay SEED` reruns it exactly.

export class Rng {
  private state: number;

  constructor(seed: number) {
    // Mix the seed so that neighbouring seeds give unrelated streams.
    let z = (seed >>> 0) + 0x9e3779b9;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    this.state = (z ^ (z >>> 16)) >>> 0;
  }

  /** A uniform 32-bit unsigned integer (mulberry32). */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** An integer in [0, n) (n >= 1). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('fuzz: pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** An index chosen with the given (non-negative) weights. */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    let x = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** A small size biased towards 0, 1 and other edges, at most max. */
  size(max: number): number {
    const r = this.int(8);
    if (r === 0) return 0;
    if (r === 1) return Math.min(1, max);
    if (r === 2) return max;
    if (r <= 5) return this.int(Math.min(max, 16) + 1);
    return this.int(max + 1);
  }

  /** A new independent generator (a sub-stream for a nested structure). */
  fork(): Rng {
    return new Rng(this.u32());
  }
}
