// A PRNG key: two 32-bit words of Threefry key material, as in JAX.
import { native } from '../native.js';
import { argumentRangeError, argumentTypeError } from '../error-codes.js';

const data = new WeakMap<Key, Uint32Array>();

/** An immutable Threefry-2x32 key. Make one with `random.key(seed)`. */
export class Key {
  private constructor(words: Uint32Array) {
    data.set(this, words);
  }

  /** @internal Wraps two words without checking them. */
  static fromWords(words: Uint32Array): Key {
    return new Key(words);
  }

  toString(): string {
    const [a, b] = keyWords(this);
    return `Key(${a!.toString(16).padStart(8, '0')}, ${b!.toString(16).padStart(8, '0')})`;
  }
}

/** The two words of key (shared, never handed out: callers copy). */
export function keyWords(key: Key, name = 'key'): Uint32Array {
  const words = key instanceof Key ? data.get(key) : undefined;
  if (words === undefined) {
    throw argumentTypeError(`${name} must be a Key made by random.key(), random.split() or random.wrapKeyData()`);
  }
  return words;
}

/** A key from a seed: an integer in [0, 2^53) or a bigint in [0, 2^64). */
export function key(seed: number | bigint): Key {
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw argumentRangeError(`seed must be a non-negative safe integer, got ${seed}`);
    }
    seed = BigInt(seed);
  } else if (typeof seed !== 'bigint') {
    throw argumentTypeError(`seed must be a number or a bigint, got ${typeof seed}`);
  }
  return Key.fromWords(native().keyFromSeed(seed));
}
