// fast-check arbitraries for every State kind, and an exact comparison
// (Object.is for numbers, same TypedArray kind and bytes, same key order).
import fc from 'fast-check';
import type { State } from '../../src/index.js';

const typedArrays: fc.Arbitrary<State>[] = [
  fc.int8Array(), fc.uint8Array(), fc.uint8ClampedArray(), fc.int16Array(), fc.uint16Array(),
  fc.int32Array(), fc.uint32Array(), fc.float32Array(), fc.float64Array(), fc.bigInt64Array(), fc.bigUint64Array(),
];

/** A TypedArray, sometimes a view at an offset into a larger buffer. */
const typedArray = fc.tuple(fc.oneof(...typedArrays), fc.boolean()).map(([array, sliced]) => {
  const a = array as Uint8Array;
  return (sliced && a.length > 1 ? a.subarray(1) : a) as State;
});

const leaf: fc.Arbitrary<State> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double(), // includes -0, NaN and the infinities
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(-0, 0, 2 ** 32, -(2 ** 31) - 1, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 53, 1e300, 5e-324),
  fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ maxLength: 300 }),
  typedArray,
);

const key = fc.string({ unit: 'binary', maxLength: 12 }).filter((k) => k !== '__proto__');

export const state: fc.Arbitrary<State> = fc.letrec<{ value: State }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(key, tie('value'), { maxKeys: 6 }) as fc.Arbitrary<State>,
  ),
})).value;

function kind(value: unknown): string {
  return Object.prototype.toString.call(value);
}

/** Why a and b differ, or undefined if they are exactly the same State. */
export function difference(a: unknown, b: unknown, path = 'state'): string | undefined {
  if (typeof a !== typeof b) return `${path}: ${typeof a} vs ${typeof b}`;
  if (typeof a === 'number') return Object.is(a, b) ? undefined : `${path}: ${a} vs ${String(b)}`;
  if (a === null || typeof a !== 'object') return a === b ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
  if (b === null) return `${path}: object vs null`;
  if (ArrayBuffer.isView(a)) {
    if (kind(a) !== kind(b)) return `${path}: ${kind(a)} vs ${kind(b)}`;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array((b as ArrayBufferView).buffer, (b as ArrayBufferView).byteOffset, (b as ArrayBufferView).byteLength);
    return x.length === y.length && x.every((v, i) => v === y[i]) ? undefined : `${path}: TypedArray contents differ`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array vs object`;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return `${path}: length ${a.length} vs ${bb.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = difference(a[i], bb[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b as object);
  if (ka.join('\u0000') !== kb.join('\u0000')) return `${path}: keys ${JSON.stringify(ka)} vs ${JSON.stringify(kb)}`;
  for (const k of ka) {
    const d = difference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return undefined;
}
