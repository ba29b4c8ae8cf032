import { describe, expect, it } from 'vitest';
import { random } from '../src/index.js';

function isBijection(order: Uint32Array, n: number): boolean {
  if (order.length !== n) return false;
  const seen = new Uint8Array(n);
  for (const x of order) {
    if (x >= n || seen[x]) return false;
    seen[x] = 1;
  }
  return true;
}

describe('permutation', () => {
  // The exhaustive sweep (n = 1..3000, 2^k ± 1 up to k = 22) runs in the C++ tests.
  it.each([1, 2, 3, 7, 8, 9, 1000, 65535, 65536, 65537, 262145])('is a bijection on [0, %i)', (n) => {
    expect(isBijection(random.permutation(random.key(n), n), n)).toBe(true);
  });

  it('permutation writes into out when given, and refuses an out of the wrong length', () => {
    const key = random.key(3);
    for (const n of [5, 1000, (2 << 20) / 4 + 1]) {
      const out = new Uint32Array(n);
      expect(random.permutation(key, n, out)).toBe(out);
      expect(out).toEqual(random.permutation(key, n)); // the huge-page path from n = 2^19 + 1 on
    }
    expect(() => random.permutation(key, 10, new Uint32Array(9))).toThrow(/out must have n = 10 elements, has 9/);
    expect(() => random.permutation(key, 10, new Int32Array(10) as never)).toThrow(TypeError);
  });

  it('permutationIndex, permutationIndices and permutation agree', () => {
    const key = random.key(5);
    const n = 1234;
    const full = random.permutation(key, n);
    const part = random.permutationIndices(key, n, 100, new Uint32Array(200));
    expect(part).toEqual(full.subarray(100, 300));
    for (const i of [0, 1, 617, 1233]) expect(random.permutationIndex(key, n, i)).toBe(full[i]);
  });

  it('different keys give different orders, and the same key the same order', () => {
    const a = random.permutation(random.key(1), 100);
    expect(random.permutation(random.key(1), 100)).toEqual(a);
    expect(random.permutation(random.key(2), 100)).not.toEqual(a);
    expect(random.permutation(random.foldIn(random.key(1), 1), 100)).not.toEqual(a);
  });

  it('is roughly uniform: where position 0 lands over many keys', () => {
    const n = 10;
    const trials = 20000;
    const counts = new Array<number>(n).fill(0);
    for (let seed = 0; seed < trials; seed++) counts[random.permutationIndex(random.key(seed), n, 0)]! += 1;
    // Chi-square with 9 degrees of freedom: 27.9 is the 0.1% critical value.
    const expected = trials / n;
    const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(27.9);
  });

  it('works at the maximum size without materialising', () => {
    const n = 2 ** 32;
    const key = random.key(11);
    const out = random.permutationIndices(key, n, n - 4, new Uint32Array(4));
    out.forEach((x, j) => expect(x).toBe(random.permutationIndex(key, n, n - 4 + j)));
    expect(new Set(out).size).toBe(4);
  });
});
