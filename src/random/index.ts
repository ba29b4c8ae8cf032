export { Key, key } from './key.js';
export { bits, foldIn, keyData, split, threefry2x32, wrapKeyData } from './functions.js';
export { permutation, permutationIndex, permutationIndices, type PermutationOptions } from './permutation.js';
