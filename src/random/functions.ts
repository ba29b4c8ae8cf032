// split, foldIn, bits and raw key data: thin, checked calls into the core.
import { native } from '../native.js';
import { Key, keyWords } from './key.js';
import { argumentTypeError } from '../error-codes.js';

/** num new keys derived from key (JAX's split). */
export function split(key: Key, num = 2): Key[] {
  const words = native().split(keyWords(key), num);
  const keys: Key[] = [];
  for (let j = 0; j < num; j++) keys.push(Key.fromWords(words.slice(2 * j, 2 * j + 2)));
  return keys;
}

/** A new key from key and a 32-bit integer (JAX's fold_in). */
export function foldIn(key: Key, data: number): Key {
  return Key.fromWords(native().foldIn(keyWords(key), data));
}

/** count random 32-bit words from key (JAX's random_bits). */
export function bits(key: Key, count: number): Uint32Array {
  return native().bits(keyWords(key), count);
}

/** A copy of the key's two words, e.g. to store in iterator state. */
export function keyData(key: Key): Uint32Array {
  return keyWords(key).slice();
}

/** The key whose words are data (a Uint32Array of length 2), as from keyData(). */
export function wrapKeyData(data: Uint32Array): Key {
  if (!(data instanceof Uint32Array) || data.length !== 2) {
    throw argumentTypeError('data must be a Uint32Array of length 2, as returned by random.keyData()');
  }
  return Key.fromWords(data.slice());
}

/** One raw Threefry-2x32-20 block: hashes counter (2 words) under key. */
export function threefry2x32(key: Key, counter: Uint32Array): Uint32Array {
  return native().threefry2x32(keyWords(key), counter);
}
