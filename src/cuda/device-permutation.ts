// random.permutation(key, n, { device: 'cuda' }): the same order as the CPU's,
// computed by the permutation kernel (the same cipher rounds, rp/cipher.h).
import { cudaAddon } from './cuda-addon.js';
import { DeviceArray } from './device-array.js';

/** The whole order of [0, n) under the key's words, in device memory. */
export function devicePermutation(keyWords: Uint32Array, n: number): DeviceArray<'uint32'> {
  const addon = cudaAddon();
  return new DeviceArray(addon.permutation(keyWords, n), 'uint32', n);
}
