import { describe, expect, it } from 'vitest';
import { random } from '../src/index.js';

const words = (a: number, b: number) => new Uint32Array([a, b]);
const hex = (w: Uint32Array) => Array.from(w, (x) => x.toString(16).padStart(8, '0'));

describe('Threefry-2x32-20', () => {
  // Random123 known-answer vectors (kat_vectors, threefry2x32_20).
  it.each([
    [[0, 0], [0, 0], ['6b200159', '99ba4efe']],
    [[0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], ['1cb996fc', 'bb002be7']],
    [[0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3], ['c4923a9c', '483df7a0']],
  ])('key %j counter %j', (key, counter, expected) => {
    const out = random.threefry2x32(random.wrapKeyData(words(key[0]!, key[1]!)), words(counter[0]!, counter[1]!));
    expect(hex(out)).toEqual(expected);
  });
});

describe('keys', () => {
  it('key(seed) is (seed >> 32, seed & 0xffffffff), as in JAX', () => {
    expect(Array.from(random.keyData(random.key(42)))).toEqual([0, 42]);
    expect(Array.from(random.keyData(random.key(2n ** 40n + 7n)))).toEqual([256, 7]);
    expect(Array.from(random.keyData(random.key(2n ** 64n - 1n)))).toEqual([0xffffffff, 0xffffffff]);
  });

  it('split(key(0)) matches JAX', () => {
    // jax.random.split(jax.random.PRNGKey(0))
    expect(random.split(random.key(0)).map((k) => Array.from(random.keyData(k)))).toEqual([
      [4146024105, 967050713],
      [2718843009, 1272950319],
    ]);
  });

  it('split is the hash of iota(2*num) under JAX\'s half/half pairing', () => {
    const key = random.key(7);
    const num = 3;
    const flat = random.split(key, num).flatMap((k) => Array.from(random.keyData(k)));
    // threefry_2x32(key, iota(6)): pairs (0,3), (1,4), (2,5); output = concat(firsts, seconds).
    const blocks = [0, 1, 2].map((i) => random.threefry2x32(key, words(i, i + 3)));
    expect(flat).toEqual([...blocks.map((b) => b[0]), ...blocks.map((b) => b[1])]);
  });

  it('split gives distinct keys, foldIn differs per datum, and both are deterministic', () => {
    const key = random.key(123);
    const keys = random.split(key, 16).map((k) => hex(random.keyData(k)).join(''));
    expect(new Set(keys).size).toBe(16);
    expect(random.split(key, 16).map((k) => hex(random.keyData(k)).join(''))).toEqual(keys);
    const folded = [0, 1, 2, 3].map((d) => hex(random.keyData(random.foldIn(key, d))).join(''));
    expect(new Set(folded).size).toBe(4);
    expect(random.keyData(random.foldIn(key, 5))).toEqual(random.threefry2x32(key, words(0, 5)));
  });

  it('bits(key, n) hashes iota(n) (odd n padded with one zero)', () => {
    const key = random.key(3);
    const b = random.bits(key, 5);
    // iota(5) padded with a zero: pairs (0,3), (1,4), (2,0); output = concat(firsts, seconds)[:5]
    const blocks = [0, 1, 2].map((i) => random.threefry2x32(key, words(i, i < 2 ? i + 3 : 0)));
    expect(Array.from(b)).toEqual([...blocks.map((x) => x[0]), ...blocks.map((x) => x[1])].slice(0, 5));
    expect(random.bits(key, 0)).toHaveLength(0);
  });

  it('keyData copies, and wrapKeyData round-trips', () => {
    const key = random.key(9);
    const data = random.keyData(key);
    data[0] = 1234;
    expect(random.keyData(key)[0]).toBe(0);
    expect(random.keyData(random.wrapKeyData(random.keyData(key)))).toEqual(random.keyData(key));
  });
});
