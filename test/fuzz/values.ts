// Wrong and edge values: numbers at every boundary, bigints, strings, symbols,
// proxies with throwing traps, getters that throw or mutate, TypedArrays of
// every kind over plain, offset, shared, growable, resizable, detached,
// huge-page and lying buffers. Every buffer made here registers hazards
// (detach, resize, grow) that the scenarios fire later, between calls.
import { Ctx, detach, FuzzTrap, MEMORY_LIMIT, NO_DETACH } from './context.js';

export const NUMBERS: readonly number[] = [
  0, -0, 1, -1, 2, 3, 7, 8, 15, 16, 17, 63, 64, 65, 255, 256, 1023, 1024, 4095, 4096, 4097, 65535, 65536, 65537,
  0.5, 1.5, -1.5, 1 - 2 ** -53, NaN, Infinity, -Infinity, 2 ** 30, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32,
  2 ** 32 + 1, 2 ** 40, 2 ** 52, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 31), -(2 ** 53), 2 ** 63, 2 ** 64, 1e21,
  1e308, Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, -Number.MIN_VALUE,
];

export const BIGINTS: readonly bigint[] = [
  0n, 1n, -1n, 2n, 2n ** 31n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n, -(2n ** 64n),
  2n ** 128n, 12345678901234567890n,
];

export const STRINGS: readonly string[] = [
  '', '0', '1', '-1', '2', 'NaN', 'Infinity', '1e3', '0x10', ' 7 ', 'abc', '\u0000', 'a\u0000b', '\ud800', '__proto__',
  'constructor', 'length', 'epoch', 'indices', 'x'.repeat(300), '../..', '/', '.', '/dev/null', '/proc/self/status',
];

type TypedCtor = { new (length: number): ArrayBufferView & { length: number }; new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): ArrayBufferView & { length: number }; readonly BYTES_PER_ELEMENT: number; readonly name: string };

const float16 = (globalThis as { Float16Array?: TypedCtor }).Float16Array;

export const TYPED_CTORS: readonly TypedCtor[] = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array,
  Float64Array, BigInt64Array, BigUint64Array, ...(float16 === undefined ? [] : [float16]),
] as unknown as readonly TypedCtor[];

/** The kinds a column or gather source may be: the 11 the package supports. */
export const SUPPORTED_CTORS: readonly TypedCtor[] = TYPED_CTORS.slice(0, 11);

export type BufferKind =
  | 'plain' | 'offset' | 'shared' | 'growable' | 'resizable' | 'tracking' | 'detached' | 'nodebuf' | 'huge'
  | 'overridden' | 'lying' | 'subclass' | 'empty';

export const BUFFER_KINDS: readonly BufferKind[] = [
  'plain', 'plain', 'plain', 'offset', 'shared', 'growable', 'resizable', 'tracking', 'detached', 'nodebuf', 'huge',
  'overridden', 'lying', 'subclass', 'empty',
];

export interface MadeArray<T extends ArrayBufferView = ArrayBufferView & { length: number }> {
  value: T;
  ctor: TypedCtor;
  kind: BufferKind;
  /** The buffer the engine sees (not what an overridden `buffer` property says). */
  buffer: ArrayBufferLike;
}

/** Random bytes (all of a small buffer, a sample of a large one): row data that, read as indices, points anywhere. */
function randomFill(c: Ctx, buffer: ArrayBufferLike, byteOffset: number, byteLength: number): void {
  const words = Math.floor(byteLength / 4);
  const view = new Uint32Array(buffer, byteOffset - (byteOffset % 4), words);
  const step = words <= 16384 ? 1 : Math.floor(words / 4096);
  const pattern = c.rng.int(4);
  for (let i = 0; i < words; i += step) view[i] = pattern === 0 ? 0xffffffff : pattern === 1 ? 0x7fffffff + (i & 1) : c.rng.u32();
}

/** Registers detach/resize/grow hazards for a buffer made by the fuzzer. */
export function hazardsFor(c: Ctx, buffer: ArrayBufferLike, label: string): void {
  const rng = c.rng;
  const ab = buffer as ArrayBuffer & { resizable?: boolean; maxByteLength?: number; resize?: (n: number) => void };
  const sab = buffer as SharedArrayBuffer & { growable?: boolean; maxByteLength?: number; grow?: (n: number) => void };
  if (buffer instanceof ArrayBuffer) {
    c.addHazard(`detach ${label}`, () => detach(rng, buffer));
    if (ab.resizable === true) {
      c.addHazard(`resize ${label}`, () => {
        const max = ab.maxByteLength ?? 0;
        const to = rng.pick([0, 1, Math.floor(ab.byteLength / 2), ab.byteLength - 1, ab.byteLength + 1, max, rng.int(max + 1)]);
        ab.resize!(Math.max(0, Math.min(max, to)));
      });
    }
  } else if (sab.growable === true) {
    c.addHazard(`grow ${label}`, () => {
      const max = sab.maxByteLength ?? 0;
      sab.grow!(Math.min(max, sab.byteLength + rng.pick([0, 1, 8, 4096, max])));
    });
  }
}

/**
 * A TypedArray of `length` elements (bounded by MEMORY_LIMIT) over a buffer of
 * the given or a random kind.
 */
export function typedArray(c: Ctx, opts: { ctor?: TypedCtor; length?: number; kind?: BufferKind; maxLength?: number } = {}): MadeArray {
  const rng = c.rng;
  const ctor = opts.ctor ?? rng.pick(TYPED_CTORS);
  const bpe = ctor.BYTES_PER_ELEMENT;
  let length = opts.length ?? rng.size(opts.maxLength ?? 64);
  if (length * bpe > MEMORY_LIMIT) length = Math.floor(MEMORY_LIMIT / bpe);
  const kind = opts.kind ?? rng.pick(BUFFER_KINDS);
  const bytes = length * bpe;
  const made = (value: ArrayBufferView & { length: number }, buffer: ArrayBufferLike, k: BufferKind = kind): MadeArray => {
    hazardsFor(c, buffer, `${ctor.name} ${k}`);
    return { value, ctor, kind: k, buffer };
  };
  switch (kind) {
    case 'offset': {
      const before = rng.range(1, 4) * 8;
      const buffer = new ArrayBuffer(before + bytes + rng.int(3) * 8);
      randomFill(c, buffer, 0, buffer.byteLength);
      return made(new ctor(buffer, before, length), buffer);
    }
    case 'shared': {
      const buffer = new SharedArrayBuffer(bytes);
      randomFill(c, buffer, 0, bytes);
      return made(new ctor(buffer), buffer);
    }
    case 'growable': {
      const max = bytes + rng.pick([0, bpe, 4096, 65536]);
      const buffer = new (SharedArrayBuffer as unknown as new (n: number, o: object) => SharedArrayBuffer)(bytes, { maxByteLength: max });
      return made(rng.chance(0.5) ? new ctor(buffer) : new ctor(buffer, 0, length), buffer);
    }
    case 'resizable':
    case 'tracking':
    case 'overridden': {
      const max = bytes + rng.pick([0, bpe, 4096, 65536, 2 ** 20]);
      const buffer = new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(bytes, { maxByteLength: max });
      randomFill(c, buffer, 0, bytes);
      const value = kind === 'tracking' ? new ctor(buffer) : new ctor(buffer, 0, length);
      if (kind === 'overridden') {
        // Hides the resizable buffer from a check that reads the `buffer` property.
        const decoy = new ArrayBuffer(bytes);
        Object.defineProperty(value, 'buffer', { value: decoy, configurable: true });
        if (rng.chance(0.5)) Object.defineProperty(value, 'length', { value: length, configurable: true });
      }
      return made(value, buffer);
    }
    case 'detached': {
      const buffer = new ArrayBuffer(bytes);
      const value = new ctor(buffer);
      c.harness(() => detach(rng, buffer));
      return made(value, buffer);
    }
    case 'nodebuf': {
      // Buffers share Node's 8 KiB pool: a small one is a view into the middle of it.
      const pooled = length <= 4096 && rng.chance(0.7);
      const buf = pooled ? Buffer.from(new Uint8Array(length * bpe)) : Buffer.allocUnsafeSlow(bytes);
      if (pooled) NO_DETACH.add(buf.buffer);
      // Node's shared pool is never detached or resized here: that would break Buffer itself.
      const result = (value: ArrayBufferView & { length: number }): MadeArray => (pooled ? { value, ctor, kind, buffer: buf.buffer } : made(value, buf.buffer));
      if (ctor === Uint8Array || ctor.BYTES_PER_ELEMENT === 1 || buf.byteOffset % bpe !== 0) {
        return result(buf as unknown as ArrayBufferView & { length: number });
      }
      return result(new ctor(buf.buffer, buf.byteOffset, length));
    }
    case 'huge': {
      const buffer = c.harness(() => c.pkg.hugePageBuffer(bytes));
      if (buffer === undefined) return typedArray(c, { ...opts, ctor, length, kind: 'plain' });
      randomFill(c, buffer, 0, bytes);
      return made(new ctor(buffer), buffer);
    }
    case 'lying': {
      const buffer = new ArrayBuffer(bytes);
      const value = new ctor(buffer);
      const lie = rng.pick<number | (() => never)>([0, length + 1, 2 ** 32, -1, NaN, 2 ** 53, () => { throw new FuzzTrap('lying getter'); }]);
      const prop = rng.pick(['length', 'byteLength', 'byteOffset', 'buffer', 'constructor', Symbol.toStringTag]);
      Object.defineProperty(value, prop, typeof lie === 'function' ? { get: lie, configurable: true } : { value: lie, configurable: true });
      return made(value, buffer);
    }
    case 'subclass': {
      // A subclass whose length lies (the engine's length is another).
      const lying = rng.pick([0, 2 ** 32, length * 2, -1]);
      const Sub = class extends (ctor as unknown as new (n: number) => ArrayBufferView & { length: number }) {};
      Object.defineProperty(Sub.prototype, 'length', { get: () => lying, configurable: true });
      const value = new Sub(length);
      return made(value, value.buffer);
    }
    case 'empty':
      return typedArray(c, { ...opts, ctor, length: 0, kind: 'plain' });
    case 'plain':
    default: {
      const value = new ctor(length);
      randomFill(c, value.buffer, 0, bytes);
      return made(value, value.buffer, 'plain');
    }
  }
}

/** An ArrayBuffer-like of some kind (plain, shared, resizable, growable, detached, huge-page). */
export function bufferish(c: Ctx, maxBytes = 256): ArrayBufferLike {
  const a = typedArray(c, { ctor: Uint8Array, maxLength: maxBytes });
  return a.buffer;
}

/** An object whose every trap throws, or a proxy that lies, or getters with side effects. */
export function trickyObject(c: Ctx, depth = 0): unknown {
  const rng = c.rng;
  switch (rng.int(10)) {
    case 0:
      return new Proxy({}, throwingHandler('proxy trap'));
    case 1: {
      const target = typedArray(c, { maxLength: 16 }).value;
      return new Proxy(target, rng.chance(0.5) ? {} : throwingHandler('typed array proxy trap'));
    }
    case 2: {
      // Answers every property read with a fresh random value.
      const sub = rng.fork();
      return new Proxy(
        {},
        {
          get: (_t, key) => (key === 'then' ? undefined : pickPrimitive(sub)),
          has: () => true,
        },
      );
    }
    case 3: {
      const o: Record<string, unknown> = {};
      for (const key of ['length', 'buffer', 'byteLength', 'byteOffset', 'data', 'shape', 'get', 'batchSize', 'indices', 'file', 'rowBytes', 'rows', 'offset', 'columns', 'n', 'step', 'getState', 'setState']) {
        if (rng.chance(0.5)) {
          Object.defineProperty(o, key, {
            enumerable: true,
            get: () => {
              throw new FuzzTrap(`getter ${key}`);
            },
          });
        }
      }
      return o;
    }
    case 4: {
      const action = rng.pick(['throw', 'nan', 'huge', 'object']);
      const prim = (): unknown => {
        if (action === 'throw') throw new FuzzTrap('toPrimitive');
        if (action === 'nan') return NaN;
        if (action === 'huge') return 2 ** 60;
        return {};
      };
      return { valueOf: prim, toString: prim, [Symbol.toPrimitive]: prim };
    }
    case 5: {
      // A getter that fires a hazard (detach, resize) when read: a value that changes under the reader.
      const o: Record<string, unknown> = {};
      for (const key of ['length', 'data', 'rowBytes', 'get', 'batchSize', 'buffer', 'shape', 'n', 'seed']) {
        Object.defineProperty(o, key, {
          enumerable: true,
          get: () => {
            c.hazard(1);
            return pickPrimitive(rng);
          },
        });
      }
      return o;
    }
    case 6:
      return Object.create(null) as object;
    case 7:
      return { length: rng.pick(NUMBERS), 0: 1, 1: 2 };
    case 8:
      return depth < 2 ? [anyValue(c, depth + 1), anyValue(c, depth + 1)] : [];
    default:
      return rng.pick<unknown>([new Date(NaN), new Map([[1, 2]]), new Set(), /x/g, new WeakMap(), Promise.resolve(1), new Error('x'), new DataView(new ArrayBuffer(8)), Math, globalThis.process.env]);
  }
}

function throwingHandler(what: string): ProxyHandler<object> {
  const t = (): never => {
    throw new FuzzTrap(what);
  };
  return { get: t, set: t, has: t, ownKeys: t, getOwnPropertyDescriptor: t, getPrototypeOf: t, defineProperty: t, deleteProperty: t, apply: t, construct: t, isExtensible: t, preventExtensions: t, setPrototypeOf: t };
}

function pickPrimitive(rng: Ctx['rng']): unknown {
  switch (rng.int(5)) {
    case 0: return rng.pick(NUMBERS);
    case 1: return rng.pick(BIGINTS);
    case 2: return rng.pick(STRINGS);
    case 3: return rng.pick([undefined, null, true, false]);
    default: return rng.int(10);
  }
}

/** Anything at all. */
export function anyValue(c: Ctx, depth = 0): unknown {
  const rng = c.rng;
  switch (rng.int(12)) {
    case 0: return undefined;
    case 1: return null;
    case 2:
    case 3: return rng.pick(NUMBERS);
    case 4: return rng.pick(BIGINTS);
    case 5: return rng.pick(STRINGS);
    case 6: return rng.pick<unknown>([Symbol('fuzz'), Symbol.iterator, true, false, () => undefined, class {}, function thrower() { throw new FuzzTrap('called'); }]);
    case 7:
    case 8: return typedArray(c, { maxLength: 32 }).value;
    case 9: return bufferish(c);
    case 10: return keyish(c);
    default: return trickyObject(c, depth);
  }
}

/** A key, or something pretending to be one. */
export function keyish(c: Ctx): unknown {
  const { random } = c.pkg;
  const rng = c.rng;
  switch (rng.int(6)) {
    case 0:
    case 1: return random.key(rng.u32());
    case 2: return Object.create(random.Key.prototype) as unknown;
    case 3: {
      // Key.fromWords is internal (no check): wrap something that is not two words.
      const fromWords = (random.Key as unknown as { fromWords: (w: unknown) => unknown }).fromWords;
      return fromWords(rng.chance(0.5) ? typedArray(c, { maxLength: 4 }).value : anyValue(c, 2));
    }
    case 4: return new Uint32Array([rng.u32(), rng.u32()]);
    default: return rng.chance(0.5) ? random.split(random.key(rng.int(100)), 3)[rng.int(3)] : trickyObject(c, 2);
  }
}

/**
 * A number argument: mostly an integer in [lo, hi] (biased to the ends), else
 * a boundary number, else anything. `bytesPer` keeps accepted sizes within
 * the memory limit (values above `hi`, which are refused, are kept).
 */
export function intArg(c: Ctx, lo: number, hi: number, bytesPer = 0): unknown {
  const rng = c.rng;
  const r = rng.int(10);
  let v: unknown;
  if (r < 6) {
    const span = Math.min(hi, 2 ** 53) - lo;
    v = rng.pick([lo, lo, lo + 1, Math.min(hi, lo + rng.int(17)), Math.min(hi, lo + rng.int(1025)), hi, hi - 1, lo + Math.floor(rng.float() * span)]);
  } else if (r < 9) {
    v = rng.pick(NUMBERS);
  } else {
    v = anyValue(c, 1);
  }
  // Large accepted sizes are slow to fill: most cases stay far below the limit.
  const cap = rng.chance(0.03) ? MEMORY_LIMIT : 4 * 2 ** 20;
  if (bytesPer > 0 && typeof v === 'number' && v >= 0 && v <= hi && v * bytesPer > cap) {
    v = Math.floor(cap / bytesPer / (1 + rng.int(64)));
  }
  return v;
}

/**
 * A path argument for a call that may create or write files: an absolute path
 * outside the case's directory, or one with "..", becomes a fresh path inside
 * it (the children run as whatever user runs the fuzzer, maybe root).
 */
export function writablePath(c: Ctx, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const readOnly = value === '/dev/null' || value === '/proc/self/status';
  if (value.includes('..') || (value.startsWith('/') && !readOnly && !value.startsWith(`${c.env.tmp}/`))) return c.path('w');
  return value;
}

/** Replaces the value with a wrong one with probability p. */
export function maybeWrong<T>(c: Ctx, value: T, p = 0.1): T | unknown {
  return c.rng.chance(p) ? anyValue(c, 1) : value;
}
