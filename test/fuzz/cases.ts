// The fuzz cases. runCase(seed) picks a scenario and runs it; every choice it
// makes comes from a generator seeded by `seed` alone, so a case replays
// exactly. A scenario throws wrong and edge values at one export (and the
// exports it leads to: a source into a DataLoader, a loader into a
// checkpoint), in random sequences, firing hazards (detach, resize, grow,
// gc) between calls. A thrown Error is fine; what must not happen is a crash
// or a hang, which the parent process (runner.ts) detects.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { types } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Ctx, describeValue, detach, FuzzTrap, type CaseResult, type FuzzEnv, lengthOf, MEMORY_LIMIT, type RawQueue } from './context.js';
import {
  anyValue, BIGINTS, bufferish, intArg, keyish, type MadeArray, maybeWrong, NUMBERS, STRINGS, SUPPORTED_CTORS,
  trickyObject, TYPED_CTORS, typedArray, writablePath,
} from './values.js';

type Scenario = readonly [name: string, weight: number, run: (c: Ctx) => Promise<void> | void];

type AnyLoader = {
  next(): IteratorResult<unknown>;
  nextAsync(): Promise<IteratorResult<unknown>>;
  getState(): unknown;
  setState(s: unknown): void;
  recycle(b: unknown): void;
  close(): void;
  [Symbol.iterator](): Iterator<unknown>;
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
};

type TypedCtor = (typeof TYPED_CTORS)[number];

/** c.call with the arguments in the trace. */
function callWith(c: Ctx, name: string, fn: (...a: unknown[]) => unknown, args: unknown[]): unknown {
  return c.call(name, () => fn(...args), args);
}

// ---------------------------------------------------------------- random.*

function scRandom(c: Ctx): void {
  const { random } = c.pkg;
  const rng = c.rng;
  const r = random as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (let k = rng.range(1, 6); k > 0; k--) {
    switch (rng.int(11)) {
      case 0: callWith(c, 'random.key', r.key!, [rng.chance(0.3) ? rng.pick(BIGINTS) : intArg(c, 0, 2 ** 53 - 1)]); break;
      case 1: callWith(c, 'random.split', r.split!, [keyish(c), rng.chance(0.2) ? undefined : intArg(c, 1, 2 ** 29, 4096)]); break;
      case 2: callWith(c, 'random.foldIn', r.foldIn!, [keyish(c), intArg(c, 0, 2 ** 32 - 1)]); break;
      case 3: callWith(c, 'random.bits', r.bits!, [keyish(c), intArg(c, 0, 2 ** 30, 4)]); break;
      case 4: callWith(c, 'random.keyData', r.keyData!, [keyish(c)]); break;
      case 5:
        callWith(c, 'random.wrapKeyData', r.wrapKeyData!, [rng.chance(0.6) ? typedArray(c, { ctor: rng.chance(0.7) ? Uint32Array as never : undefined, length: rng.pick([2, 2, 0, 1, 3]) }).value : anyValue(c)]);
        break;
      case 6:
        callWith(c, 'random.threefry2x32', r.threefry2x32!, [keyish(c), rng.chance(0.7) ? typedArray(c, { ctor: Uint32Array as never, length: rng.pick([2, 2, 1, 3]) }).value : anyValue(c)]);
        break;
      case 7: callWith(c, 'random.permutationIndex', r.permutationIndex!, [keyish(c), intArg(c, 1, 2 ** 32), intArg(c, 0, 2 ** 32)]); break;
      case 8: {
        const out = rng.chance(0.8) ? typedArray(c, { ctor: rng.chance(0.8) ? Uint32Array as never : undefined, maxLength: 4096 }).value : anyValue(c);
        callWith(c, 'random.permutationIndices', r.permutationIndices!, [keyish(c), intArg(c, 1, 2 ** 32), intArg(c, 0, 2 ** 32), out]);
        break;
      }
      case 9: callWith(c, 'random.permutation', r.permutation!, [keyish(c), intArg(c, 1, 2 ** 31, 4)]); break;
      default: {
        const fromWords = (random.Key as unknown as { fromWords: (w: unknown) => unknown }).fromWords;
        const k2 = c.call('random.Key.fromWords', () => fromWords(rng.chance(0.5) ? typedArray(c, { maxLength: 4 }).value : anyValue(c)));
        c.call('random.Key.toString', () => String(rng.chance(0.5) ? k2 : keyish(c)));
        c.call('random.split', () => random.split(k2 as never, 2));
      }
    }
    c.hazard();
  }
}

// ---------------------------------------------------------------- gather

/** Indices into [0, rows): mostly valid, sometimes past the end. */
function indexValues(c: Ctx, count: number, rows: number): number[] {
  const rng = c.rng;
  const bad = rng.chance(0.15);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    if (bad && rng.chance(0.3)) out.push(rng.pick([rows, rows + 1, 2 ** 32 - 1, 2 ** 31]));
    else out.push(rows === 0 ? 0 : rng.int(rows));
  }
  return out;
}

/** fn(), or undefined if it throws. */
function c0<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

function fillIndices(a: ArrayBufferView & { length: number }, values: number[]): void {
  const arr = a as unknown as { [i: number]: unknown; length: number };
  const tag = c0(() => (Object.prototype.toString.call(a) as string).slice(8, -1));
  const big = tag === 'BigInt64Array' || tag === 'BigUint64Array';
  for (let i = 0; i < Math.min(values.length, lengthOf(a)); i++) arr[i] = big ? BigInt(values[i]!) : values[i]!;
}

function scGather(c: Ctx): void {
  const { gather } = c.pkg;
  const rng = c.rng;
  const big = rng.chance(0.1);
  const rowLength = big ? rng.range(16, 256) : rng.range(1, 12);
  const rows = big ? rng.range(1, 20000) : rng.size(64);
  const ctor = rng.pick(SUPPORTED_CTORS);
  const source = typedArray(c, { ctor, length: rows * rowLength });
  const count = big ? rng.range(0, 4096) : rng.size(32);
  const values = indexValues(c, count, rows);
  let indices: unknown;
  let out: unknown;
  const mode = rng.int(10);
  if (mode === 0) {
    // out and indices over one buffer, overlapping.
    const bpe = ctor.BYTES_PER_ELEMENT;
    const bytes = Math.max(count * 4, count * rowLength * bpe) + 64;
    const buffer = rng.chance(0.5) ? new ArrayBuffer(bytes) : new SharedArrayBuffer(bytes);
    const idx = new Uint32Array(buffer, 0, count);
    fillIndices(idx, values);
    indices = idx;
    const at = rng.pick([0, 8, 16]);
    out = new (ctor as unknown as new (b: ArrayBufferLike, o: number, l: number) => unknown)(buffer, at, Math.floor((bytes - at) / bpe));
  } else if (mode === 1) {
    // out is the source itself, or overlaps it.
    const idx = new Uint32Array(count);
    fillIndices(idx, values);
    indices = idx;
    out = rng.chance(0.5) ? source.value : c.harness(() => (source.value as unknown as Uint8Array).subarray(rng.int(Math.max(1, rowLength))));
  } else if (mode === 2 && ctor === (Uint32Array as unknown) && rows * rowLength <= 4096) {
    // indices are the source's own words.
    indices = source.value;
    out = undefined;
  } else {
    const made = typedArray(c, { ctor: rng.chance(0.85) ? Uint32Array as never : undefined, length: count });
    fillIndices(made.value, values);
    indices = rng.chance(0.05) ? anyValue(c) : made.value;
    const r = rng.int(10);
    if (r < 4) out = undefined;
    else if (r < 8) out = typedArray(c, { ctor: rng.chance(0.9) ? ctor : undefined, length: Math.max(0, count * rowLength + rng.pick([0, 0, 0, -1, 1, rowLength])) }).value;
    else out = anyValue(c);
  }
  let rl: unknown = rowLength;
  if (rng.chance(0.15)) rl = intArg(c, 1, 2 ** 40);
  // gather() allocates out itself when none is given: keep that within the limit.
  const outRows = Math.max(count, lengthOf(indices));
  if (out === undefined && typeof rl === 'number' && Number.isSafeInteger(rl) && rl > 0 && rl * outRows * ctor.BYTES_PER_ELEMENT > MEMORY_LIMIT) rl = rowLength;
  if (rng.chance(0.1)) c.hazard(1);
  const g = gather as unknown as (...a: unknown[]) => unknown;
  callWith(c, 'gather', g, [source.value, rl, indices, out]);
  for (let k = rng.int(3); k > 0; k--) {
    c.hazard(0.5);
    callWith(c, 'gather', g, [source.value, rl, indices, out]);
  }
  if (rng.chance(0.3)) callWith(c, 'native.gather', c.native().gather!, [source.value, rl, indices, out ?? typedArray(c, { ctor, length: count * rowLength }).value]);
}

// ---------------------------------------------------------------- hugePageBuffer

function scHugePageBuffer(c: Ctx): void {
  const { hugePageBuffer, gather, ArraySource, DataLoader } = c.pkg;
  const rng = c.rng;
  const size = rng.chance(0.2) ? anyValue(c) : rng.chance(0.5) ? intArg(c, 0, 2 ** 53 - 1, 1) : rng.pick([8, 64, 4096, 2 ** 21, 2 ** 21 + 8, 3 * 2 ** 20]);
  const buf = c.call('hugePageBuffer', () => hugePageBuffer(size as number), [size]);
  // A buffer over the memory limit is only mapped, never touched or copied.
  if (!(buf instanceof ArrayBuffer) || buf.byteLength > MEMORY_LIMIT) return;
  const f = new Float32Array(buf, 0, Math.floor(buf.byteLength / 4));
  if (f.length > 0) f[f.length - 1] = 1;
  const use = rng.int(5);
  if (use === 0 && f.length >= 4) {
    const idx = new Uint32Array(indexValues(c, rng.size(16), Math.floor(f.length / 4)));
    c.call('gather', () => gather(f, 4, idx));
  } else if (use === 1 && f.length >= 1) {
    const source = c.call('ArraySource.constructor', () => new ArraySource({ x: { data: f, shape: [f.length] } }));
    if (source !== undefined) {
      const loader = c.call('DataLoader.constructor', () => new DataLoader(source, { batchSize: rng.pick([1, 2, 7, 64, 1024]), prefetch: rng.pick([0, 1, 2, 8]), numEpochs: rng.pick([1, 2, Infinity]) }));
      if (loader !== undefined) {
        for (let k = rng.range(0, 5); k > 0; k--) c.call('DataLoader.next', () => loader.next());
        // Not closing it is part of the test (the loader holds the buffer).
        if (rng.chance(0.5)) c.cleanups.push(() => loader.close());
      }
    }
  }
  if (rng.chance(0.3)) {
    c.note('detach the huge-page buffer');
    c.harness(() => detach(rng, buf));
    if (rng.chance(0.7)) c.gc();
    c.call('gather', () => gather(f, 1, new Uint32Array([0])));
  }
}

// ---------------------------------------------------------------- sources

const COLUMN_NAMES = ['x', 'y', 'label', 'z'];
const WEIRD_COLUMN_NAMES = ['', 'epoch', 'indices', '__proto__', 'constructor', 'toString', 'a.b', '0', 'x'.repeat(200), '\u0000'];
const ROW_SHAPES: readonly (readonly number[])[] = [[], [], [1], [2], [3], [4], [2, 3], [16], [17], [64], [3, 1, 2], [256], [1024]];

interface ColumnPlan {
  spec: { data: unknown; shape: unknown };
  made: MadeArray;
}

/** ArraySource columns: valid unless `wrong` (then one thing is off). */
function columnSpecs(c: Ctx, n: number, kinds: readonly string[] | undefined, wrong: boolean): Record<string, unknown> {
  const rng = c.rng;
  const cols: Record<string, unknown> = {};
  const count = rng.range(1, 3);
  const plans: ColumnPlan[] = [];
  for (let i = 0; i < count; i++) {
    const ctor = rng.pick(SUPPORTED_CTORS);
    const rowShape = rng.pick(ROW_SHAPES);
    let rowLen = rowShape.reduce((a, b) => a * b, 1);
    if (n * rowLen * ctor.BYTES_PER_ELEMENT > 8 * 2 ** 20) rowLen = 1;
    const shape = [n, ...(rowLen === 1 && rowShape.length > 0 ? [1] : rowShape)];
    const made = typedArray(c, { ctor, length: n * rowLen, kind: kinds === undefined ? undefined : (rng.pick(kinds) as never) });
    const spec = { data: made.value as unknown, shape: shape as unknown };
    plans.push({ spec, made });
    const name = wrong && rng.chance(0.2) ? rng.pick(WEIRD_COLUMN_NAMES) : `${rng.pick(COLUMN_NAMES)}${i}`;
    cols[name] = spec;
  }
  if (wrong) {
    const p = rng.pick(plans);
    switch (rng.int(6)) {
      case 0: p.spec.shape = rng.chance(0.5) ? anyValue(c) : [rng.pick(NUMBERS), ...((p.spec.shape as number[]).slice(1))]; break;
      case 1: p.spec.data = anyValue(c); break;
      case 2: (p.spec.shape as unknown[]).push(rng.pick([0, 2, -1, NaN])); break;
      case 3: cols[rng.pick(WEIRD_COLUMN_NAMES)] = rng.chance(0.5) ? anyValue(c) : p.spec; break;
      case 4: p.spec.shape = [n + rng.pick([1, -1, 2 ** 32])]; break;
      default: return rng.chance(0.5) ? (trickyObject(c) as Record<string, unknown>) : ({ ...cols, bad: trickyObject(c) });
    }
  }
  return cols;
}

/** Column source kinds the loader should accept. */
const GOOD_KINDS = ['plain', 'plain', 'plain', 'offset', 'shared', 'huge', 'nodebuf'];

function arraySource(c: Ctx, n: number, wrong: boolean, kinds: readonly string[] | undefined = GOOD_KINDS): unknown {
  const cols = columnSpecs(c, n, wrong && c.rng.chance(0.5) ? undefined : kinds, wrong);
  return c.call('ArraySource.constructor', () => new c.pkg.ArraySource(cols as never), [cols]);
}

async function scArraySource(c: Ctx): Promise<void> {
  const rng = c.rng;
  const n = rng.pick([1, 2, 3, rng.range(1, 100)]);
  const src = arraySource(c, n, rng.chance(0.7), rng.chance(0.5) ? undefined : GOOD_KINDS) as { columns?: unknown; length?: number; storage?: () => unknown } | undefined;
  if (src === undefined) {
    c.call('ArraySource.constructor', () => new c.pkg.ArraySource(anyValue(c) as never));
    return;
  }
  c.call('ArraySource.columns', () => JSON.stringify(src.columns, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
  c.call('ArraySource.storage', () => src.storage?.());
  if (rng.chance(0.5)) await loaderSequence(c, src, n);
}

// ---------------------------------------------------------------- .npy files

const NPY_DTYPES: ReadonlyArray<readonly [string, TypedCtor]> = [
  ['|b1', Uint8Array], ['|i1', Int8Array], ['|u1', Uint8Array], ['<i2', Int16Array], ['<u2', Uint16Array],
  ['<i4', Int32Array], ['<u4', Uint32Array], ['<i8', BigInt64Array], ['<u8', BigUint64Array], ['<f4', Float32Array],
  ['<f8', Float64Array],
] as unknown as ReadonlyArray<readonly [string, TypedCtor]>;
const BAD_DESCRS = ['>f4', '<f2', '|S3', '<c8', '<M8[ns]', "[('a', '<f4')]", 'O', '', "'", '<f4\u0000', '<U4', '<V8'];

interface NpyPlan {
  path: string;
  rows: number;
  valid: boolean;
}

function npyBytes(text: string, version: number, data: Uint8Array, align: number): Uint8Array {
  const preamble = version === 1 ? 10 : 12;
  const total = Math.ceil((preamble + text.length + 1) / align) * align;
  const dict = text.padEnd(total - preamble - 1, ' ') + '\n';
  const header = Buffer.from(dict, 'latin1');
  const out = new Uint8Array(preamble + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length & 0xffff, true);
  else view.setUint32(8, header.length, true);
  out.set(header, preamble);
  out.set(data, preamble + header.length);
  return out;
}

/** Writes a .npy file: valid, or with one mutation when `wrong`. */
function makeNpy(c: Ctx, wrong: boolean, rowsWanted?: number): NpyPlan {
  const rng = c.rng;
  const [descr, ctor] = rng.pick(NPY_DTYPES);
  const rows = rowsWanted ?? rng.pick([1, 2, 3, rng.range(1, 64), rng.range(1, 3000)]);
  let rowShape = rng.pick(ROW_SHAPES).slice();
  if (rows * rowShape.reduce((a, b) => a * b, 1) * ctor.BYTES_PER_ELEMENT > 4 * 2 ** 20) rowShape = [];
  const rowLen = rowShape.reduce((a, b) => a * b, 1);
  const data = new Uint8Array(rows * rowLen * ctor.BYTES_PER_ELEMENT);
  for (let i = 0; i < Math.min(data.length, 512); i++) data[i] = rng.u32() & 0xff;
  const shape = [rows, ...rowShape];
  let shapeText = shape.length === 1 ? `(${rows},)` : `(${shape.join(', ')})`;
  let descrText = descr;
  let fortran = 'False';
  let version = rng.pick([1, 1, 2, 3]);
  let align = 64;
  let body = data;
  let mutateBytes = 0;
  let whole: Uint8Array | undefined;
  if (wrong) {
    switch (rng.int(10)) {
      case 0: descrText = rng.pick(BAD_DESCRS); break;
      case 1: shapeText = rng.pick(['()', '(0,)', '(-1,)', '(4294967297,)', '(4294967296, 4294967296)', '(1e3,)', `(${rows}, 0)`, '(,)', '((1,),)', `(${rows},`, '(9007199254740993,)', '(3, 2**70)']); break;
      case 2: fortran = rng.pick(['True', 'true', '1', 'None']); break;
      case 3: version = rng.pick([0, 4, 255]); break;
      case 4: align = rng.pick([1, 2, 3, 16]); break;
      case 5: body = data.subarray(0, rng.int(data.length + 1)); break;
      case 6: mutateBytes = rng.range(1, 6); break;
      case 7: whole = new Uint8Array(rng.size(200)).map(() => rng.u32() & 0xff); break;
      case 8: whole = new Uint8Array(rng.pick([0, 6, 9, 10, 11])).map((_v, i) => [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 0xff, 0xff, 0xff][i] ?? 0); break;
      default: shapeText = `${shapeText}, 'extra': ${rng.pick(['1', "'x'", '{}', '(1,2)'])}`;
    }
  }
  const text = `{'descr': '${descrText}', 'fortran_order': ${fortran}, 'shape': ${shapeText}, }`;
  let bytes = whole ?? npyBytes(text, version, body, align);
  if (mutateBytes > 0 && bytes.length > 0) {
    bytes = bytes.slice();
    for (let i = 0; i < mutateBytes; i++) bytes[rng.int(Math.min(bytes.length, 160))] = rng.pick([0, 0x7f, 0x80, 0xff, 0x27, 0x29, 0x2c, rng.u32() & 0xff]);
  }
  const path = `${c.path('a')}.npy`;
  writeFileSync(path, bytes);
  return { path, rows, valid: !wrong };
}

/** A path that is not a regular .npy file. */
function oddPath(c: Ctx): string {
  const rng = c.rng;
  switch (rng.int(12)) {
    case 0: return c.path('missing');
    case 1: {
      const d = c.path('dir');
      mkdirSync(d);
      return d;
    }
    case 2: return '/dev/null';
    case 3: return '/proc/self/status';
    case 4: {
      const p = c.path('empty');
      writeFileSync(p, '');
      return p;
    }
    case 5: {
      // A sparse file far larger than the memory limit (no memory or disk used).
      const p = c.path('sparse');
      writeFileSync(p, npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824,), }", 1, new Uint8Array(0), 64));
      truncateSync(p, 2 ** 32 + 128);
      return p;
    }
    case 6: {
      const p = c.path('link');
      symlinkSync(rng.pick(['/nonexistent', p, '/dev/null', c.env.tmp]), p);
      return p;
    }
    case 7: return `${makeNpy(c, false).path}\u0000ignored`;
    case 8: return rng.pick(STRINGS);
    case 9:
      if (rng.chance(0.5)) {
        // A FIFO: opening it for reading must not wait for a writer.
        const p = c.path('fifo');
        c.note(`mkfifo ${p}`);
        execFileSync('mkfifo', [p]);
        return p;
      }
      return c.path('missing');
    default: return makeNpy(c, true).path;
  }
}

async function scNpySource(c: Ctx): Promise<void> {
  const { NpySource } = c.pkg;
  const rng = c.rng;
  let arg: unknown;
  let rows = 0;
  const r = rng.int(10);
  if (r < 4) {
    const plan = makeNpy(c, rng.chance(0.5));
    arg = plan.path;
    rows = plan.rows;
  } else if (r < 6) {
    rows = rng.pick([1, 2, rng.range(1, 200)]);
    const paths: Record<string, unknown> = {};
    for (let i = rng.range(1, 3); i > 0; i--) {
      const bad = rng.chance(0.2);
      paths[bad && rng.chance(0.3) ? rng.pick(WEIRD_COLUMN_NAMES) : `c${i}`] = bad ? (rng.chance(0.5) ? oddPath(c) : anyValue(c)) : makeNpy(c, rng.chance(0.1), rng.chance(0.9) ? rows : undefined).path;
    }
    arg = paths;
  } else if (r < 8) {
    arg = oddPath(c);
  } else {
    arg = anyValue(c);
  }
  const src = c.call('NpySource.open', () => NpySource.open(arg as string), [arg]);
  if (src === undefined) return;
  for (let k = rng.int(3); k > 0; k--) {
    const name = rng.chance(0.7) ? undefined : rng.chance(0.5) ? rng.pick(src.columns).name : anyValue(c);
    const view = c.call('NpySource.array', () => src.array(name as string));
    if (view !== undefined && view.length > 0) {
      const v = view as unknown as { [i: number]: unknown; length: number };
      c.call('NpySource.array[i]', () => {
        v[0] = v[v.length - 1]; // copy-on-write: never reaches the file
      });
      if (rng.chance(0.2)) {
        c.harness(() => detach(rng, view.buffer));
        c.gc();
      }
    }
  }
  // (Not the 4 GiB sparse file: reading it at random would fault in gigabytes.)
  if (rng.chance(0.7) && src.length <= 2 ** 22) await loaderSequence(c, src, rows || src.length);
}

// ---------------------------------------------------------------- DataLoader

interface LoaderHolder {
  loader: AnyLoader | undefined;
  depth: number;
}

/** A record source ({ length, get }) that misbehaves in many ways. */
function recordSource(c: Ctx, holder: LoaderHolder): unknown {
  const rng = c.rng;
  const lengthValue: unknown = rng.chance(0.8) ? rng.pick([1, 2, 3, 5, rng.range(1, 300), rng.range(1, 5000)]) : rng.chance(0.5) ? rng.pick([0, -0, -1, 1.5, NaN, Infinity, 2 ** 32, 2 ** 32 + 1, 2 ** 53, '5', 5n]) : anyValue(c);
  const behaviour = rng.int(12);
  const sub = rng.fork();
  const get = (i: number): unknown => {
    switch (behaviour) {
      case 0:
        if (sub.chance(0.2)) throw new FuzzTrap('get');
        return i;
      case 1: {
        // Re-enters the loader that is asking for the record.
        if (holder.depth > 1 || holder.loader === undefined) return i;
        holder.depth++;
        try {
          const l = holder.loader;
          switch (sub.int(5)) {
            case 0: return l.next();
            case 1: l.close(); return i;
            case 2: l.setState(l.getState()); return i;
            case 3: return l.nextAsync().then(() => i, () => i);
            default: l.recycle({ indices: new Uint32Array(1) }); return i;
          }
        } finally {
          holder.depth--;
        }
      }
      case 2:
        c.hazard(0.3);
        return { i, v: new Float32Array(4) };
      case 3:
        return sub.chance(0.5) ? undefined : anyValue(c);
      default:
        return i;
    }
  };
  const shape = rng.int(6);
  if (shape === 0) {
    return new Proxy({ length: lengthValue, get }, rng.chance(0.5) ? { has: () => { throw new FuzzTrap('has'); } } : { get: (t, k) => (k === 'length' ? anyValue(c) : (t as Record<string | symbol, unknown>)[k]) });
  }
  if (shape === 1) {
    return Object.defineProperty({ get }, 'length', { get: () => (sub.chance(0.3) ? (() => { throw new FuzzTrap('length getter'); })() : lengthValue) });
  }
  if (shape === 2) {
    // A function has a length too.
    const f = (() => undefined) as unknown as Record<string, unknown>;
    f.get = get;
    return f;
  }
  return { length: lengthValue, get: rng.chance(0.05) ? anyValue(c) : get };
}

/** A map option: identity, or one that throws, re-enters, recycles, detaches or closes. */
function mapOption(c: Ctx, holder: LoaderHolder): unknown {
  const rng = c.rng;
  const behaviour = rng.int(9);
  const sub = rng.fork();
  return (batch: Record<string, unknown>, ctx: unknown) => {
    const l = holder.loader;
    switch (behaviour) {
      case 0:
        if (sub.chance(0.3)) throw new FuzzTrap('map');
        return batch;
      case 1:
        if (l !== undefined && holder.depth < 2) {
          holder.depth++;
          try {
            l.next();
          } finally {
            holder.depth--;
          }
        }
        return batch;
      case 2:
        l?.recycle(batch);
        return batch;
      case 3: {
        const indices = batch.indices as Uint32Array | undefined;
        if (indices !== undefined) detach(sub, indices.buffer);
        return batch;
      }
      case 4:
        l?.close();
        return batch;
      case 5:
        l?.setState(l.getState());
        return batch;
      case 6:
        return ctx;
      default:
        return batch;
    }
  };
}

function loaderOptions(c: Ctx, n: number, holder: LoaderHolder, maxBatch = Infinity): unknown {
  const rng = c.rng;
  const batchSize = rng.chance(0.85)
    ? rng.pick([1, 2, 3, 4, 7, 8, 16, 32, 64, 100, 1024, n, n, Math.max(1, n - 1), n + 1, 2 * n, rng.range(1, Math.max(1, n))])
    : rng.chance(0.3) ? rng.pick([2 ** 16, 2 ** 20, 2 ** 30, 2 ** 31, 2 ** 32 - 1, 2 ** 32]) : intArg(c, 1, 2 ** 32);
  const shardCount = rng.chance(0.7) ? 1 : rng.chance(0.8) ? rng.range(1, 5) : intArg(c, 1, 2 ** 20);
  const o: Record<string, unknown> = { batchSize };
  if (rng.chance(0.5)) o.shuffle = rng.chance(0.7);
  if (rng.chance(0.5)) o.seed = rng.chance(0.2) ? rng.pick(BIGINTS) : rng.chance(0.2) ? intArg(c, 0, 2 ** 53 - 1) : rng.int(1000);
  if (rng.chance(0.5)) o.numEpochs = rng.pick<unknown>([1, 1, 2, 3, Infinity, Infinity, 0, -1, NaN, 2 ** 53, -Infinity]);
  if (rng.chance(0.3)) o.dropRemainder = rng.chance(0.5);
  if (shardCount !== 1 || rng.chance(0.1)) {
    o.shardCount = shardCount;
    o.shardIndex = typeof shardCount === 'number' && rng.chance(0.8) ? rng.int(Math.min(shardCount, 2 ** 20)) : intArg(c, 0, 2 ** 20);
  }
  if (rng.chance(0.6)) o.prefetch = rng.chance(0.85) ? rng.pick([0, 0, 1, 2, 3, 8, 64]) : intArg(c, 0, 1024);
  if (rng.chance(0.3)) o.map = mapOption(c, holder);
  // One wrong field now and then.
  if (rng.chance(0.1)) {
    const k = rng.pick(['batchSize', 'shuffle', 'seed', 'numEpochs', 'dropRemainder', 'shardIndex', 'shardCount', 'prefetch', 'map', 'extra']);
    o[k] = anyValue(c);
  }
  if (rng.chance(0.03)) return trickyObject(c);
  // Keep the loader's own allocation (blocks × slots) within the limit where the options are sane.
  const bs = typeof o.batchSize === 'number' ? o.batchSize : 1;
  const pf = typeof o.prefetch === 'number' && o.prefetch >= 0 && o.prefetch <= 1024 ? Math.max(1, o.prefetch) : 2;
  if (Math.min(bs, n) * 256 * pf > MEMORY_LIMIT) o.prefetch = rng.pick([0, 1, 2]);
  if (n >= 2 ** 20 && Math.min(bs, n) > 2 ** 18) o.batchSize = rng.pick([1, 64, 4096, 2 ** 18]);
  // Record sources build each batch in JavaScript, one get() a record.
  if (typeof o.batchSize === 'number' && o.batchSize > maxBatch) o.batchSize = rng.pick([1, 3, 64, maxBatch]);
  return o;
}

/** Makes a loader over `source` and runs a random sequence of calls on it. */
async function loaderSequence(c: Ctx, source: unknown, n: number, holderIn?: LoaderHolder): Promise<void> {
  const { DataLoader } = c.pkg;
  const rng = c.rng;
  const holder = holderIn ?? { loader: undefined, depth: 0 };
  const opts = loaderOptions(c, n, holder, holderIn === undefined ? Infinity : 4096);
  const loader = c.call('DataLoader.constructor', () => new DataLoader(source as never, opts as never), [source, opts]) as AnyLoader | undefined;
  if (loader === undefined) return;
  holder.loader = loader;
  if (!rng.chance(0.1)) c.cleanups.push(() => loader.close());
  const batches: Record<string, unknown>[] = [];
  const states: unknown[] = [];
  let closed = false;
  const keep = (r: IteratorResult<unknown> | undefined): void => {
    if (r !== undefined && r.done === false && typeof r.value === 'object' && r.value !== null) {
      batches.push(r.value as Record<string, unknown>);
      if (batches.length > 64) batches.shift();
    }
  };
  // Draws the same numbers whatever the results so far: a replay stays on the same path.
  const someBatch = (): unknown => {
    const r = rng.float();
    return batches.length > 0 ? batches[Math.floor(r * batches.length)] : { indices: new Uint32Array(2) };
  };
  const ops = rng.range(1, 30);
  for (let k = 0; k < ops; k++) {
    switch (rng.weighted([30, 10, 5, 8, 10, 6, 4, 6, 4, 3, 2, 3, 4, 2, 3, 2, 5])) {
      case 0:
        keep(c.call('DataLoader.next', () => loader.next()));
        break;
      case 1: {
        const p = c.start('DataLoader.nextAsync', () => loader.nextAsync());
        if (rng.chance(0.6)) keep(await p);
        break;
      }
      case 2:
        states.push(c.call('DataLoader.getState', () => loader.getState()));
        break;
      case 3: {
        const current = c.harness(() => loader.getState()) as Record<string, unknown> | undefined;
        let state: unknown;
        switch (rng.int(6)) {
          case 0: state = current; break;
          case 1: {
            const r = rng.float();
            state = states.length > 0 ? states[Math.floor(r * states.length)] : current;
            break;
          }
          case 2: state = current === undefined ? undefined : { ...current, position: rng.pick<unknown>([0, n - 1, n, -1, 1.5, 2 ** 53, NaN, anyValue(c)]) }; break;
          case 3: state = current === undefined ? undefined : { ...current, epoch: rng.pick<unknown>([0, 1, 2 ** 53 - 1, 2 ** 53, -1, anyValue(c)]) }; break;
          case 4: state = current === undefined ? undefined : { ...current, fingerprint: rng.chance(0.5) ? anyValue(c) : { ...(current.fingerprint as object), [rng.pick(['n', 'seed', 'batchSize', 'shuffle', 'dropRemainder'])]: anyValue(c) } }; break;
          default: state = anyValue(c);
        }
        c.call('DataLoader.setState', () => loader.setState(state), [state]);
        break;
      }
      case 4: {
        let arg: unknown;
        switch (rng.int(6)) {
          case 0:
          case 1: arg = someBatch(); break;
          case 2: {
            const any = someBatch();
            arg = batches.length > 0 ? batches[batches.length - 1] : any;
            break;
          }
          case 3: arg = { indices: typedArray(c, { ctor: Uint32Array as never, maxLength: 8 }).value }; break;
          case 4: {
            const b = someBatch() as { indices?: Uint32Array };
            arg = { indices: c.harness(() => b.indices?.subarray(1)) };
            break;
          }
          default: arg = anyValue(c);
        }
        c.call('DataLoader.recycle', () => loader.recycle(arg), [arg]);
        break;
      }
      case 5: {
        // Detach a batch's buffer (a slab, or a large batch's own block), then maybe recycle it.
        const b = someBatch() as { indices?: Uint32Array };
        const buffer = c.harness(() => b.indices?.buffer);
        c.note(() => `detach a batch's buffer ${describeValue(buffer)}`);
        if (buffer !== undefined) c.harness(() => detach(rng, buffer));
        if (rng.chance(0.5)) c.gc();
        if (rng.chance(0.5)) c.call('DataLoader.recycle', () => loader.recycle(b), [b]);
        break;
      }
      case 6: {
        // Read and write a batch's columns (views may be detached or recycled by now).
        const b = someBatch() as Record<string, unknown>;
        c.call('batch access', () => {
          for (const v of Object.values(b)) {
            if (ArrayBuffer.isView(v)) {
              const a = v as unknown as { length: number; fill?: (x: unknown) => void; [i: number]: unknown };
              if (a.length > 0) a[a.length - 1] = a[0];
            }
          }
        });
        break;
      }
      case 7:
        c.hazard(1);
        break;
      case 8:
        c.gc();
        break;
      case 9: {
        const limit = rng.range(1, 40);
        c.call('DataLoader[Symbol.iterator]', () => {
          let i = 0;
          for (const b of loader as Iterable<unknown>) {
            keep({ done: false, value: b });
            if (++i >= limit) break;
          }
        });
        break;
      }
      case 10: {
        const limit = rng.range(1, 10);
        await c.callAsync('DataLoader[Symbol.asyncIterator]', async () => {
          let i = 0;
          for await (const b of loader as AsyncIterable<unknown>) {
            keep({ done: false, value: b });
            if (++i >= limit) break;
          }
        });
        break;
      }
      case 11:
        c.call('DataLoader.close', () => loader.close());
        closed = true;
        break;
      case 12:
        c.call('DataLoader.setState', () => loader.setState(loader.getState() as never));
        break;
      case 13: {
        const method = rng.pick(['next', 'nextAsync', 'getState', 'setState', 'recycle', 'close']);
        const fn = (DataLoader.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!;
        const self = rng.chance(0.5) ? anyValue(c) : Object.create(DataLoader.prototype);
        c.call(`DataLoader.${method}`, () => {
          const r = fn.call(self, anyValue(c));
          if (types.isPromise(r)) (r as Promise<unknown>).catch(() => undefined);
        });
        break;
      }
      case 14: {
        // Overlapping async calls, and sync calls while they are pending.
        const ps = [c.start('DataLoader.nextAsync', () => loader.nextAsync()), c.start('DataLoader.nextAsync', () => loader.nextAsync())];
        if (rng.chance(0.5)) c.call('DataLoader.next', () => loader.next());
        if (rng.chance(0.3)) c.call('DataLoader.setState', () => loader.setState(loader.getState() as never));
        if (rng.chance(0.2)) {
          c.call('DataLoader.close', () => loader.close());
          closed = true;
        }
        for (const p of ps) keep(await p);
        break;
      }
      case 15:
        if (!closed) await checkpointWith(c, loader);
        break;
      default: {
        // Recycle a batch, then detach its buffer (the loader may already have lent it to its threads).
        const b = someBatch() as { indices?: Uint32Array };
        c.call('DataLoader.recycle', () => loader.recycle(b), [b]);
        const buffer = c.harness(() => b.indices?.buffer);
        c.note(() => `detach the recycled batch's buffer ${describeValue(buffer)}`);
        if (buffer !== undefined) c.harness(() => detach(rng, buffer));
        c.gc();
        for (let i = rng.range(1, 4); i > 0; i--) keep(c.call('DataLoader.next', () => loader.next()));
      }
    }
  }
  if (rng.chance(0.8)) await Promise.all(c.pending.splice(0));
}

/** A source of 64 MiB or more: the loader advises such sources for huge pages and collapses them. */
function bigSource(c: Ctx): { source: unknown; rows: number } {
  const rng = c.rng;
  const row = rng.pick([16, 32]);
  const rows = rng.pick([2 ** 20, 2 ** 20 + 1, 2 ** 21 - 3]) * (row === 32 ? 1 : rng.pick([1, 2]));
  const made = typedArray(c, { ctor: Float32Array as never, length: Math.min(rows * row, MEMORY_LIMIT / 4), kind: rng.pick(['plain', 'plain', 'offset', 'huge', 'shared']) as never });
  const n = Math.floor(lengthOf(made.value) / row);
  c.note(() => `a source of ${n} rows of ${row} floats (${(n * row * 4) / 2 ** 20} MiB)`);
  return { source: c.call('ArraySource.constructor', () => new c.pkg.ArraySource({ x: { data: made.value as Float32Array, shape: [n, row] } })), rows: n };
}

function scLoaderColumns(c: Ctx): Promise<void> {
  const rng = c.rng;
  if (rng.chance(0.03)) {
    const { source, rows } = bigSource(c);
    return source === undefined ? Promise.resolve() : loaderSequence(c, source, rows);
  }
  const n = rng.pick([1, 1, 2, 3, 5, 17, rng.range(1, 100), rng.range(1, 3000), rng.range(1, 100000)]);
  const r = rng.int(10);
  let source: unknown;
  let rows = n;
  if (r < 6) {
    source = arraySource(c, n, rng.chance(0.05), rng.chance(0.15) ? undefined : GOOD_KINDS);
  } else if (r < 8) {
    const plan = makeNpy(c, rng.chance(0.05), n);
    source = c.call('NpySource.open', () => c.pkg.NpySource.open(plan.path));
    rows = plan.rows;
  } else if (r < 9) {
    // Resizable or growable buffers hidden behind an overridden `buffer` property, or lying views.
    source = arraySource(c, n, false, ['overridden', 'growable', 'resizable', 'tracking', 'lying', 'subclass']);
  } else {
    source = rng.chance(0.5) ? anyValue(c) : trickyObject(c);
  }
  if (source === undefined) return Promise.resolve();
  return loaderSequence(c, source, rows);
}

function scLoaderRecords(c: Ctx): Promise<void> {
  const holder: LoaderHolder = { loader: undefined, depth: 0 };
  const source = recordSource(c, holder);
  const length = c.harness(() => (source as { length?: unknown }).length);
  const n = typeof length === 'number' && Number.isSafeInteger(length) && length > 0 ? length : 1;
  return loaderSequence(c, source, Math.min(n, 5000), holder);
}

// ---------------------------------------------------------------- native PrefetchQueue

async function scPrefetchQueue(c: Ctx): Promise<void> {
  const N = c.native();
  const rng = c.rng;
  const n = rng.pick([1, 2, 3, 7, rng.range(1, 100), rng.range(1, 3000)]);
  const columns: unknown[] = [];
  const colCount = rng.pick([0, 1, 1, 2, 3]);
  for (let i = 0; i < colCount; i++) {
    const r = rng.int(10);
    if (r < 6) {
      const ctor = rng.pick(TYPED_CTORS);
      const rowLen = rng.pick([1, 1, 2, 3, 16, 100]);
      const made = typedArray(c, { ctor, length: n * rowLen + rng.pick([0, 0, 0, -1, 1]) });
      const rows = rng.chance(0.9) ? n : intArg(c, 0, 2 ** 53 - 1);
      columns.push({ kind: 'fixed', name: `c${i}`, data: { data: made.value }, rows, rowBytes: rng.chance(0.9) ? rowLen * ctor.BYTES_PER_ELEMENT : intArg(c, 1, 2 ** 40) });
    } else if (r < 7) {
      const plan = makeNpy(c, false, n);
      const file = c.call('native.MappedFile', () => new N.MappedFile(plan.path));
      if (file !== undefined) {
        const size = file.byteLength;
        const offset = rng.chance(0.8) ? rng.pick([0, 64, 128, size, size - 1]) : intArg(c, 0, size);
        const bytes = rng.chance(0.8) && typeof offset === "number" ? Math.max(0, size - offset) : intArg(c, 0, 2 ** 53 - 1);
        columns.push({ kind: 'fixed', name: `c${i}`, data: { file, offset, bytes }, rows: rng.chance(0.8) ? rng.pick([n, 1, 0, n + 1]) : intArg(c, 0, 2 ** 53 - 1), rowBytes: rng.chance(0.8) ? rng.pick([1, 4, 8, 12]) : intArg(c, 1, 2 ** 40) });
      }
    } else if (r < 8) {
      // Ragged: offsets that may be bad (the queue trusts nothing but the
      // memory: a bad row fails its batch), hints that may lie, maybe padded.
      const wide = rng.chance(0.3);
      const values = typedArray(c, { ctor: rng.pick(TYPED_CTORS), length: rng.pick([0, 1, 16, 300, n * 3]) }).value as { length: number };
      const offsets = Array.from({ length: n + 1 }, (_, k) => (rng.chance(0.97) ? Math.min(k * 2, values.length) : rng.pick([-1, values.length + 1, 0, 2 ** 31 - 1])));
      const starts = wide ? BigInt64Array.from(offsets, (v) => BigInt(v)) : Int32Array.from(offsets);
      const eb = (values as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
      const ragged: Record<string, unknown> = {
        kind: 'ragged', name: `c${i}`, values: { data: values }, elementBytes: rng.chance(0.9) ? eb : intArg(c, 0, 16), starts: { data: starts },
        ends: undefined, offsets64: wide, rows: rng.chance(0.9) ? n : intArg(c, 0, 2 ** 33),
        maxRow: rng.chance(0.7) ? 2 : intArg(c, 0, 2 ** 53 - 1), totalElements: rng.chance(0.7) ? 2 * n : intArg(c, 0, 2 ** 53 - 1),
        padLength: rng.chance(0.7) ? 0 : rng.chance(0.9) ? rng.pick([1, 3, 64]) : maybeWrong(c, 2, 1), padBytes: new Uint8Array(eb),
      };
      columns.push(rng.chance(0.2) ? { kind: 'chunked', name: `c${i}`, parts: [ragged, rng.chance(0.8) ? ragged : anyValue(c)] } : ragged);
    } else if (r < 9) {
      // A column whose getters detach (and collect) the columns read before it.
      const data = typedArray(c, { ctor: Uint8Array as never, length: n * 4 }).value;
      columns.push(Object.defineProperties({ kind: 'fixed', name: 'g', rows: n }, {
        rowBytes: { enumerable: true, get: () => { c.hazard(1); return 4; } },
        data: { enumerable: true, get: () => { c.hazard(1); c.gc(); return { data }; } },
      }));
    } else {
      columns.push(anyValue(c));
    }
  }
  const opts: Record<string, unknown> = {
    n,
    batchSize: rng.chance(0.9) ? rng.pick([1, 2, 3, 8, 32, n, n + 1, 1024]) : intArg(c, 1, 2 ** 32),
    shardCount: 1,
    shardIndex: 0,
    dropRemainder: rng.chance(0.2),
    numEpochs: rng.pick<unknown>([1, 2, Infinity, 3]),
    seed: rng.chance(0.9) ? BigInt(rng.u32()) : rng.pick(BIGINTS),
    shuffle: rng.chance(0.7),
    prefetch: rng.pick([0, 0, 1, 2, 4, 16]),
    columns,
    epoch: 0,
    position: 0,
  };
  if (rng.chance(0.3)) {
    opts.shardCount = rng.range(1, 4);
    opts.shardIndex = rng.int(opts.shardCount as number);
  }
  if (rng.chance(0.2)) opts.position = rng.int(n);
  if (rng.chance(0.1)) opts.epoch = rng.pick([1, 2 ** 53 - 1, 2 ** 40]);
  for (const key of Object.keys(opts)) opts[key] = maybeWrong(c, opts[key], 0.04);
  let optsArg: unknown = opts;
  if (rng.chance(0.05)) optsArg = new Proxy(opts, { get: (t, k) => { c.hazard(0.5); return t[k as string]; } });
  else if (rng.chance(0.03)) optsArg = anyValue(c);
  const q = c.call('native.PrefetchQueue', () => new N.PrefetchQueue(optsArg), [optsArg]) as RawQueue | undefined;
  if (q === undefined) return;
  let closed = false;
  if (rng.chance(0.8)) c.cleanups.push(() => q.close());
  const blockBytes = c.call('native.PrefetchQueue.blockBytes', () => q.blockBytes) ?? 0;
  const ncols = columns.length;
  const layout = (N as unknown as { infoLayout: { columns: number; perColumn: number } }).infoLayout;
  const infoLen = layout.columns + layout.perColumn * ncols;
  const makeInfo = (): unknown => {
    if (rng.chance(0.85)) return new Float64Array(infoLen);
    return rng.pick<() => unknown>([
      () => new Float64Array(Math.max(0, infoLen - 1)),
      () => typedArray(c, { ctor: Float64Array as never, length: infoLen }).value,
      () => new Float32Array(infoLen),
      () => anyValue(c),
    ])();
  };
  let info = makeInfo();
  const returned: ArrayBuffer[] = [];
  const makeFresh = (): { fresh: unknown; offset: unknown } => {
    const block = typeof blockBytes === 'number' && blockBytes <= MEMORY_LIMIT ? blockBytes : 64;
    const r = rng.int(16);
    let fresh: unknown;
    let offset: unknown = 0;
    if (r < 7) fresh = new ArrayBuffer(block);
    else if (r === 7) {
      fresh = new ArrayBuffer(block + 256);
      offset = rng.pick([64, 128, 1, 32, 256, 257]);
    } else if (r === 8) {
      const ab = new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(block, { maxByteLength: block + 4096 });
      hazardsForLent(c, ab);
      fresh = ab;
    } else if (r === 9) {
      const k = rng.float();
      fresh = returned.length > 0 ? returned[Math.floor(k * returned.length)] : new ArrayBuffer(block);
    }
    else if (r === 10) fresh = bufferish(c, block + 64);
    else if (r === 11) fresh = c.harness(() => c.pkg.hugePageBuffer(block)) ?? new ArrayBuffer(block);
    else if (r === 12) fresh = new ArrayBuffer(Math.max(0, block - 1));
    else if (r === 13) {
      const ab = new ArrayBuffer(block);
      hazardsForLent(c, ab);
      fresh = ab;
    } else fresh = anyValue(c);
    if (rng.chance(0.1)) offset = intArg(c, 0, 2 ** 32);
    return { fresh, offset };
  };
  const waits: Promise<void>[] = [];
  const ops = rng.range(1, 25);
  for (let k = 0; k < ops; k++) {
    switch (rng.weighted([30, 8, 5, 3, 6, 4, 3, 2])) {
      case 0: {
        const { fresh, offset } = makeFresh();
        const got = c.call('native.PrefetchQueue.take', () => q.take(info, fresh, offset), [info, fresh, offset]);
        if (got instanceof ArrayBuffer) {
          returned.push(got);
          if (returned.length > 16) returned.shift();
          const bytes = new Uint8Array(got);
          if (bytes.length > 0) bytes[bytes.length - 1] = bytes[0]! ^ 1;
        }
        break;
      }
      case 1: {
        const behaviour = rng.int(6);
        let resolveWait: () => void = () => undefined;
        const called = new Promise<void>((res) => {
          resolveWait = res;
        });
        const cb = (): void => {
          resolveWait();
          switch (behaviour) {
            case 0: throw new FuzzTrap('wait callback');
            case 1: c.call('native.PrefetchQueue.take', () => q.take(info, new ArrayBuffer(Math.min(Number(blockBytes) || 64, MEMORY_LIMIT)), 0)); break;
            case 2: c.call('native.PrefetchQueue.close', () => q.close()); closed = true; break;
            case 3: c.call('native.PrefetchQueue.wait', () => q.wait(() => undefined)); break;
            case 4: c.call('native.PrefetchQueue.reset', () => q.reset(0, 0)); break;
            default:
          }
        };
        const arg = rng.chance(0.9) ? cb : anyValue(c);
        const ready = c.call('native.PrefetchQueue.wait', () => q.wait(arg));
        const awaitNow = rng.chance(0.7); // drawn whatever wait() answered (that depends on timing)
        if (ready === false && arg === cb) {
          if (awaitNow) await called;
          else waits.push(called);
        }
        break;
      }
      case 2:
        callWith(c, 'native.PrefetchQueue.reset', q.reset.bind(q), [intArg(c, 0, 2 ** 53 - 1), intArg(c, 0, n - 1)]);
        break;
      case 3:
        c.call('native.PrefetchQueue.close', () => q.close());
        closed = true;
        break;
      case 4:
        c.hazard(1);
        break;
      case 5:
        c.gc();
        break;
      case 6: {
        // Methods and the accessor on the wrong receiver (a MappedFile, a plain object).
        const proto = N.PrefetchQueue.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
        const method = rng.pick(['take', 'wait', 'reset', 'close']);
        const receiver = rng.chance(0.5) ? anyValue(c) : c.harness(() => new N.MappedFile(makeNpy(c, false).path));
        c.call(`native.PrefetchQueue.${method}`, () => proto[method]!.call(receiver, info, new ArrayBuffer(64), 0));
        const getter = Object.getOwnPropertyDescriptor(N.PrefetchQueue.prototype, 'blockBytes')?.get;
        c.call('native.PrefetchQueue.blockBytes', () => getter?.call(receiver));
        break;
      }
      default:
        info = makeInfo();
    }
  }
  if (!closed && rng.chance(0.8)) await Promise.all(waits);
}

/** Hazards for a buffer lent to the queue as a block (the queue's threads write into it). */
function hazardsForLent(c: Ctx, ab: ArrayBuffer): void {
  const rng = c.rng;
  c.addHazard('detach lent block', () => detach(rng, ab));
  const r = ab as ArrayBuffer & { resizable?: boolean; resize?: (n: number) => void };
  if (r.resizable === true) c.addHazard('shrink lent block', () => r.resize!(rng.pick([0, 1, Math.floor(ab.byteLength / 2)])));
}

// ---------------------------------------------------------------- native MappedFile

function scMappedFile(c: Ctx): void {
  const N = c.native();
  const rng = c.rng;
  let path: unknown;
  const r = rng.int(10);
  if (r < 4) path = makeNpy(c, rng.chance(0.3)).path;
  else if (r < 5) {
    const p = c.path('raw');
    writeFileSync(p, new Uint8Array(rng.pick([1, 7, 4096, 4097, rng.range(1, 100000)])));
    path = p;
  } else if (r < 8) path = oddPath(c);
  else path = anyValue(c);
  const file = c.call('native.MappedFile', () => new N.MappedFile(path), [path]);
  if (rng.chance(0.1)) c.call('native.MappedFile', () => (N.MappedFile as unknown as (p: unknown) => unknown)(path));
  if (file === undefined) return;
  const size = c.call('native.MappedFile.byteLength', () => file.byteLength) ?? 0;
  const slices: ArrayBuffer[] = [];
  for (let k = rng.range(1, 6); k > 0; k--) {
    const op = rng.int(6);
    if (op <= 2) {
      const offset = rng.chance(0.7) ? rng.pick([0, 1, size, size - 1, rng.int(size + 1)]) : intArg(c, 0, size);
      const rest = typeof offset === 'number' ? size - offset : size;
      const length = rng.chance(0.7) ? rng.pick([0, 1, rest, rest + 1, rng.int(Math.max(1, rest + 1))]) : intArg(c, 0, rest);
      const s = c.call('native.MappedFile.slice', () => file.slice(offset, length), [offset, length]);
      if (s instanceof ArrayBuffer) {
        slices.push(s);
        if (s.byteLength > 0) {
          const bytes = new Uint8Array(s);
          bytes[0] = bytes[s.byteLength - 1]!;
        }
      }
    } else if (op === 3 && slices.length > 0) {
      // (Detaching may copy: only slices within the memory limit.)
      const slice = rng.pick(slices);
      if (slice.byteLength <= MEMORY_LIMIT) {
        c.note(() => `detach the slice ${describeValue(slice)}`);
        c.harness(() => detach(rng, slice));
        c.gc();
      }
    } else if (op === 4) {
      const proto = N.MappedFile.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
      c.call('native.MappedFile.slice', () => proto.slice!.call(rng.chance(0.5) ? anyValue(c) : Object.create(N.MappedFile.prototype), 0, 1));
      const getter = Object.getOwnPropertyDescriptor(N.MappedFile.prototype, 'byteLength')?.get;
      c.call('native.MappedFile.byteLength', () => getter?.call(anyValue(c)));
    } else {
      c.gc();
    }
  }
}

// ---------------------------------------------------------------- the rest of the binding

async function scNativeMisc(c: Ctx): Promise<void> {
  const N = c.native();
  const rng = c.rng;
  const words = (): unknown => (rng.chance(0.8) ? typedArray(c, { ctor: rng.chance(0.8) ? Uint32Array as never : undefined, length: rng.pick([2, 2, 2, 0, 1, 3]) }).value : anyValue(c));
  for (let k = rng.range(1, 5); k > 0; k--) {
    switch (rng.int(16)) {
      case 0: c.call('native.threefry2x32', () => N.threefry2x32!(words(), words())); break;
      case 1: c.call('native.keyFromSeed', () => N.keyFromSeed!(rng.chance(0.6) ? rng.pick(BIGINTS) : anyValue(c))); break;
      case 2: c.call('native.split', () => N.split!(words(), intArg(c, 1, 2 ** 29, 8))); break;
      case 3: c.call('native.foldIn', () => N.foldIn!(words(), intArg(c, 0, 2 ** 32 - 1))); break;
      case 4: c.call('native.bits', () => N.bits!(words(), intArg(c, 0, 2 ** 30, 4))); break;
      case 5: c.call('native.permutationIndex', () => N.permutationIndex!(words(), intArg(c, 1, 2 ** 32), intArg(c, 0, 2 ** 32))); break;
      case 6: {
        const out = rng.chance(0.8) ? typedArray(c, { ctor: rng.chance(0.8) ? Uint32Array as never : undefined, maxLength: 2048 }).value : anyValue(c);
        c.call('native.permutationFill', () => N.permutationFill!(words(), intArg(c, 1, 2 ** 32), intArg(c, 0, 2 ** 32), out));
        break;
      }
      case 7: c.call('native.permutation', () => N.permutation!(words(), intArg(c, 1, 2 ** 31, 4))); break;
      case 8: {
        const src = typedArray(c, { maxLength: 256 });
        const out = rng.chance(0.5) ? typedArray(c, { ctor: rng.chance(0.8) ? src.ctor : undefined, maxLength: 256 }).value : anyValue(c);
        const idx = typedArray(c, { ctor: rng.chance(0.8) ? Uint32Array as never : undefined, maxLength: 16 });
        if (idx.ctor === (Uint32Array as unknown)) fillIndices(idx.value, indexValues(c, lengthOf(idx.value), 8));
        c.call('native.gather', () => N.gather!(src.value, intArg(c, 1, 2 ** 40), idx.value, out));
        break;
      }
      case 9: {
        const data = rng.chance(0.8) ? typedArray(c, { ctor: rng.chance(0.8) ? Uint8Array as never : undefined, maxLength: 4096 }).value : anyValue(c);
        c.call('native.crc32c', () => N.crc32c!(data, rng.chance(0.5) ? undefined : intArg(c, 0, 2 ** 32 - 1)));
        break;
      }
      case 10: {
        const path = writablePath(c, rng.chance(0.7) ? c.path('lock') : rng.chance(0.5) ? oddPath(c) : anyValue(c));
        const fd = c.call('native.lockFile', () => N.lockFile!(path));
        if (rng.chance(0.3)) c.call('native.lockFile', () => N.lockFile!(path)); // held by us: -1
        // Only ever unlock what lockFile returned: any other number would close someone else's descriptor.
        if (typeof fd === 'number' && fd >= 0) c.call('native.unlockFile', () => N.unlockFile!(fd));
        else c.call('native.unlockFile', () => N.unlockFile!(rng.pick<unknown>([-1, 2 ** 31, NaN, 1.5, '3', undefined, 2 ** 53])));
        break;
      }
      case 11: {
        // The data is read on a libuv thread after the call returns: mutate it meanwhile.
        const made = typedArray(c, { ctor: rng.chance(0.9) ? Uint8Array as never : undefined, length: rng.pick([0, 1, 100, 65536, rng.range(1, 4 * 2 ** 20)]) });
        const store = storeDir(c);
        const dir = writablePath(c, rng.chance(0.85) ? store : rng.chance(0.5) ? oddPath(c) : anyValue(c));
        const name = rng.chance(0.85) ? `w${rng.int(5)}` : rng.pick<unknown>(['', '.', '..', 'a/b', 'x\u0000y', anyValue(c)]);
        const temp = rng.chance(0.85) ? `w${rng.int(5)}.tmp` : rng.pick<unknown>(['', '..', 'a/b', anyValue(c)]);
        const args: unknown[] = [dir, name, temp, made.value];
        if (rng.chance(0.15)) {
          // The prune list is read after the data: its getter detaches the data (and frees it) in between.
          const prune: unknown[] = ['w9'];
          Object.defineProperty(prune, 0, {
            get: () => {
              c.note('prune[0] getter: detach the data');
              c.harness(() => detach(rng, made.buffer));
              c.gc();
              return 'w9';
            },
          });
          args.push(prune);
        } else if (rng.chance(0.5)) {
          args.push(pruneList(c));
        }
        const p = c.start('native.writeFileDurable', () => N.writeFileDurable!(...args) as Promise<unknown>, args);
        if (rng.chance(0.5)) {
          c.hazard(1);
          c.harness(() => detach(rng, made.buffer));
          c.gc();
        }
        if (rng.chance(0.7)) await p;
        checkVictim(c, 'native.writeFileDurable');
        break;
      }
      case 12: {
        const dir = writablePath(c, rng.chance(0.6) ? c.env.tmp : rng.chance(0.5) ? oddPath(c) : anyValue(c));
        const p = c.start('native.syncDirectory', () => N.syncDirectory!(dir) as Promise<unknown>);
        if (rng.chance(0.7)) await p;
        break;
      }
      case 13: {
        // madvise on the caller's memory, of any kind.
        const view = rng.chance(0.85) ? typedArray(c, { maxLength: rng.pick([16, 4096, 2 ** 20]) }).value : anyValue(c);
        const collapse = rng.chance(0.9) ? rng.chance(0.5) : anyValue(c);
        if (typeof N.adviseHugePages === 'function') callWith(c, 'native.adviseHugePages', N.adviseHugePages, [view, collapse]);
        break;
      }
      case 14:
        c.call('native.infoLayout', () => JSON.stringify([(N as unknown as Record<string, unknown>).infoLayout, (N as unknown as Record<string, unknown>).limits]));
        break;
      default:
        c.call('native.hugePageBuffer', () => N.hugePageBuffer!(intArg(c, 0, 2 ** 53 - 1, 1)));
    }
    c.hazard();
  }
}

/** A store directory inside the case's directory, with a file next to it that no call may delete. */
function storeDir(c: Ctx): string {
  const dir = `${c.env.tmp}/store`;
  if (!existsSync(dir)) {
    mkdirSync(dir);
    writeFileSync(`${c.env.tmp}/victim`, 'outside the store');
  }
  return dir;
}

/** A list of names to prune: step files, odd names, and one that escapes the directory (to ../victim, in the case's directory). */
function pruneList(c: Ctx): unknown {
  const rng = c.rng;
  if (rng.chance(0.1)) return anyValue(c);
  const names: unknown[] = [];
  for (let i = rng.size(6); i > 0; i--) {
    names.push(rng.chance(0.6) ? rng.pick([`w${rng.int(5)}`, `step_${rng.int(5)}.msgpack`, `w${rng.int(5)}.tmp`]) : rng.pick<unknown>(['', '.', '..', 'a/b', 'x\u0000y', '../victim', 'victim', 'x'.repeat(300), 7, null, {}]));
  }
  if (rng.chance(0.05)) names.length = 100000; // holes
  return names;
}

/** A name list that escaped the store directory must not have deleted ../victim. */
function checkVictim(c: Ctx, name: string): void {
  if (existsSync(`${c.env.tmp}/store`) && !existsSync(`${c.env.tmp}/victim`)) {
    c.classify(name, new Error(`deleted a file outside its directory (${c.env.tmp}/victim)`));
    writeFileSync(`${c.env.tmp}/victim`, 'outside the store');
  }
}

// ---------------------------------------------------------------- checkpoints

/** A State-like value: valid mostly, with TypedArrays of every kind, and some things a State may not hold. */
function stateValue(c: Ctx, depth = 0): unknown {
  const rng = c.rng;
  switch (rng.int(depth > 3 ? 6 : 10)) {
    case 0: return rng.pick<unknown>([null, true, false]);
    case 1: return rng.pick(NUMBERS);
    case 2: return rng.pick(BIGINTS);
    case 3: return rng.pick(STRINGS);
    case 4: return typedArray(c, { maxLength: 64 }).value;
    case 5: return rng.chance(0.8) ? rng.int(1000) : anyValue(c, 2);
    case 6: {
      const a: unknown[] = [];
      for (let i = rng.size(6); i > 0; i--) a.push(stateValue(c, depth + 1));
      if (rng.chance(0.05)) a.length += 3; // holes
      return a;
    }
    case 7: {
      const o: Record<string, unknown> = rng.chance(0.1) ? (Object.create(null) as Record<string, unknown>) : {};
      for (let i = rng.size(6); i > 0; i--) o[rng.chance(0.8) ? `k${rng.int(10)}` : rng.pick(STRINGS)] = stateValue(c, depth + 1);
      return o;
    }
    case 8: {
      if (rng.chance(0.5)) {
        const o: Record<string, unknown> = {};
        o.self = o; // a cycle
        return o;
      }
      let deep: unknown = 1;
      for (let i = rng.pick([500, 511, 512, 513, 5000]); i > 0; i--) deep = [deep];
      return deep;
    }
    default:
      return trickyObject(c, 2);
  }
}

class PlainPipeline {
  constructor(private readonly c: Ctx) {}
  getState(): unknown {
    if (this.c.rng.chance(0.05)) throw new FuzzTrap('getState');
    return stateValue(this.c);
  }
  setState(s: unknown): void {
    if (this.c.rng.chance(0.2)) throw new FuzzTrap('setState');
    void s;
  }
}

function pipelineFor(c: Ctx): unknown {
  switch (c.rng.int(5)) {
    case 0: return new PlainPipeline(c);
    case 1: return iteratorSubclass(c);
    case 2: {
      const src = arraySource(c, c.rng.range(1, 50), false);
      return src === undefined ? undefined : c.harness(() => new c.pkg.DataLoader(src as never, { batchSize: c.rng.range(1, 8), prefetch: c.rng.pick([0, 2]) }));
    }
    case 3: return anyValue(c);
    default: return { getState: () => stateValue(c), setState: (s: unknown) => void s };
  }
}

/** Saves the pipeline into a fresh directory and restores it, with wrong arguments now and then. */
async function checkpointWith(c: Ctx, pipeline: unknown): Promise<void> {
  const { PipelineCheckpoint } = c.pkg;
  const rng = c.rng;
  const dir = c.path('ckpt');
  const ck = c.call('PipelineCheckpoint.constructor', () => new PipelineCheckpoint(dir, rng.chance(0.8) ? { keep: rng.pick([1, 2, 3]) } : (anyValue(c) as never)));
  if (ck === undefined) return;
  const step = rng.int(5);
  await c.callAsync('PipelineCheckpoint.save', () => ck.save(pipeline as never, { step, metadata: rng.chance(0.8) ? {} : (stateValue(c) as never) }));
  await c.callAsync('PipelineCheckpoint.restoreLatest', () => ck.restoreLatest(pipeline as never));
  await c.callAsync('PipelineCheckpoint.restore', () => ck.restore(pipeline as never, rng.chance(0.8) ? step : (intArg(c, 0, 2 ** 53 - 1) as number)));
  await c.callAsync('PipelineCheckpoint.close', () => ck.close());
}

/** Files a reader may meet in a checkpoint directory. */
function garbageStepFiles(c: Ctx, dir: string): void {
  const { encodeState } = c.pkg;
  const rng = c.rng;
  for (let i = rng.int(4); i > 0; i--) {
    const step = rng.pick([0, 1, 2, 3, 7, 100, 2 ** 53 - 1, 2 ** 53]);
    const name = rng.chance(0.9) ? `step_${step}.msgpack` : rng.pick(['step_-1.msgpack', 'step_01.msgpack', 'step_1.msgpack.tmp', '.step_1.msgpack.tmp-123', 'step_1e3.msgpack', 'LOCK', 'step_99999999999999999999.msgpack']);
    const path = `${dir}/${name}`;
    const r = rng.int(10);
    if (existsSync(path)) continue; // writing to a FIFO made by an earlier round would block the fuzzer
    if (r < 5) {
      const value = stateValue(c);
      c.note(() => `encodeState(${describeValue(value)}) for a step file`);
      let bytes = c.harness(() => encodeState(value as never)) ?? new Uint8Array(3);
      bytes = bytes.slice();
      for (let k = rng.int(4); k > 0 && bytes.length > 0; k--) bytes[rng.int(bytes.length)] = rng.u32() & 0xff;
      if (rng.chance(0.3)) bytes = bytes.subarray(0, rng.int(bytes.length + 1));
      c.harness(() => writeFileSync(path, bytes));
    } else if (r < 7) {
      c.harness(() => writeFileSync(path, new Uint8Array(rng.size(300)).map(() => rng.u32() & 0xff)));
    } else if (r < 8) {
      c.harness(() => mkdirSync(path));
    } else if (r < 9) {
      c.harness(() => symlinkSync(rng.pick(['/nonexistent', dir, '/dev/null', '/proc/self/status']), path));
    } else if (rng.chance(0.1)) {
      // A FIFO named like a step file: readers must not wait for a writer.
      c.note(`mkfifo ${name}`);
      c.harness(() => execFileSync('mkfifo', [path]));
    } else {
      c.harness(() => writeFileSync(path, ''));
    }
  }
}

async function scCheckpoint(c: Ctx): Promise<void> {
  const { PipelineCheckpoint, inspectDirectory } = c.pkg;
  const rng = c.rng;
  const dir = c.path('ckpt');
  mkdirSync(dir);
  if (rng.chance(0.5)) garbageStepFiles(c, dir);
  const dirArg = writablePath(c, rng.chance(0.9) ? dir : rng.chance(0.5) ? oddPath(c) : anyValue(c));
  let optsArg: unknown = rng.chance(0.7) ? (rng.chance(0.5) ? undefined : { keep: rng.pick([1, 2, 3]), keepEvery: rng.pick([undefined, 2, 5]) }) : anyValue(c);
  if (rng.chance(0.25) && storeClass(c) !== undefined) {
    // A store of its own: a misbehaving one, or a real one for this or another directory.
    const Store = storeClass(c)!;
    optsArg = { keep: rng.pick([undefined, 1, 2]), store: rng.chance(0.6) ? customStore(c, dir) : new Store(rng.chance(0.5) ? dir : storeDir(c)) };
  }
  const ck = c.call('PipelineCheckpoint.constructor', () => new PipelineCheckpoint(dirArg as string, optsArg as never));
  if (ck === undefined) return;
  if (rng.chance(0.8)) c.cleanups.push(() => ck.close());
  const pipeline = pipelineFor(c);
  // (instanceof runs a proxy's getPrototypeOf trap.)
  if (c.harness(() => pipeline instanceof c.pkg.DataLoader) === true) c.cleanups.push(() => (pipeline as { close(): void }).close());
  const stepArg = (): number => (rng.chance(0.8) ? rng.int(8) : (intArg(c, 0, 2 ** 53 - 1) as number));
  for (let k = rng.range(1, 8); k > 0; k--) {
    let p: Promise<unknown>;
    switch (rng.int(12)) {
      case 0:
      case 1:
      case 2: {
        const opts = rng.chance(0.9)
          ? { step: stepArg(), ...(rng.chance(0.3) ? { metadata: stateValue(c) } : {}), ...(rng.chance(0.2) ? { keep: intArg(c, 1, 10) } : {}), ...(rng.chance(0.2) ? { overwrite: rng.chance(0.7) ? true : anyValue(c) } : {}) }
          : anyValue(c);
        p = c.start('PipelineCheckpoint.save', () => ck.save((rng.chance(0.9) ? pipeline : anyValue(c)) as never, opts as never));
        break;
      }
      case 3: p = c.start('PipelineCheckpoint.restoreLatest', () => ck.restoreLatest((rng.chance(0.9) ? pipeline : anyValue(c)) as never)); break;
      case 4: p = c.start('PipelineCheckpoint.restore', () => ck.restore(pipeline as never, stepArg())); break;
      case 5: p = c.start('PipelineCheckpoint.steps', () => ck.steps()); break;
      case 6: p = c.start('PipelineCheckpoint.latestStep', () => ck.latestStep()); break;
      case 7: p = c.start('PipelineCheckpoint.metadata', () => ck.metadata(stepArg())); break;
      case 8: p = c.start('PipelineCheckpoint.delete', () => ck.delete(stepArg())); break;
      case 9: p = c.start('PipelineCheckpoint.waitUntilFinished', () => ck.waitUntilFinished()); break;
      case 10: p = c.start('PipelineCheckpoint.close', () => ck.close()); break;
      default: {
        // A second writer on the same directory.
        const other = c.call('PipelineCheckpoint.constructor', () => new PipelineCheckpoint(dir));
        p = other === undefined ? Promise.resolve() : c.start('PipelineCheckpoint.save', () => other.save(new PlainPipeline(c) as never, { step: stepArg() })).then(() => other.close());
      }
    }
    if (rng.chance(0.6)) await p;
    c.hazard();
  }
  await Promise.all(c.pending.splice(0));
  if (rng.chance(0.3)) await c.callAsync('inspectDirectory', () => inspectDirectory(rng.chance(0.9) ? dir : (anyValue(c) as string)));
}

function scStateCodec(c: Ctx): Promise<void> | void {
  const { encodeState, decodeState, inspectDirectory } = c.pkg;
  const rng = c.rng;
  for (let k = rng.range(1, 4); k > 0; k--) {
    const r = rng.int(4);
    if (r === 0) {
      const value = stateValue(c);
      c.call('encodeState', () => encodeState(value as never), [value]);
    } else if (r === 1) {
      const value = stateValue(c);
      c.note(() => `encodeState(${describeValue(value)})`);
      const bytes = c.harness(() => encodeState(value as never)) ?? new Uint8Array(0);
      const made = typedArray(c, { ctor: rng.chance(0.9) ? Uint8Array as never : undefined, length: bytes.length });
      c.harness(() => (made.value as Uint8Array).set(bytes));
      const view = made.value as Uint8Array;
      c.harness(() => {
        for (let i = rng.int(3); i > 0 && lengthOf(view) > 0; i--) view[rng.int(lengthOf(view))] = rng.u32() & 0xff;
      });
      if (rng.chance(0.2)) c.hazard(1);
      c.call('decodeState', () => decodeState(view));
    } else if (r === 2) {
      c.call('decodeState', () => decodeState(rng.chance(0.5) ? (typedArray(c, { ctor: Uint8Array as never, maxLength: 64 }).value as Uint8Array) : (anyValue(c) as Uint8Array)));
    } else {
      const dir = c.path('insp');
      mkdirSync(dir);
      garbageStepFiles(c, dir);
      return c.callAsync('inspectDirectory', () => inspectDirectory(dir)).then(() => undefined);
    }
  }
}

// ---------------------------------------------------------------- step stores

type AnyStore = Record<string, (...a: unknown[]) => unknown>;

function storeClass(c: Ctx): (new (dir: unknown) => AnyStore) | undefined {
  const Store = (c.pkg as unknown as Record<string, unknown>)['PosixStepStore'];
  return typeof Store === 'function' ? (Store as new (dir: unknown) => AnyStore) : undefined;
}

const STORE_METHODS = ['create', 'list', 'read', 'put', 'remove', 'setAside', 'syncDirectory', 'lock'];

/** A StepStore that misbehaves now and then (throws, rejects, answers nonsense), else forwards to a real one. */
function customStore(c: Ctx, dir: string): unknown {
  const Store = storeClass(c);
  const real = Store === undefined ? undefined : new Store(dir);
  const sub = c.rng.fork();
  const nonsense = (): unknown => {
    switch (sub.int(6)) {
      case 0: return [1, null, 'step_1.msgpack', 'step_x.msgpack', {}];
      case 1: return { bytes: sub.chance(0.5) ? new Uint8Array(sub.size(64)) : 'bytes', size: sub.pick([NaN, -1, 2 ** 53]), mtimeMs: 'x' };
      case 2: return { release: sub.chance(0.5) ? 5 : () => { throw new FuzzTrap('release'); } };
      case 3: return [{ name: 7, reason: null }];
      case 4: return null;
      default: return undefined;
    }
  };
  const store: Record<string, unknown> = {};
  for (const method of STORE_METHODS) {
    store[method] = (...args: unknown[]): unknown => {
      const r = sub.int(12);
      if (r === 0) throw new FuzzTrap(`store.${method}`);
      if (r === 1) return Promise.reject(new FuzzTrap(`store.${method} rejects`));
      if (r === 2) return Promise.resolve(nonsense());
      if (r === 3) return nonsense();
      if (real === undefined) return undefined;
      return real[method]!(...args);
    };
  }
  return sub.chance(0.05) ? trickyObject(c) : store;
}

async function scStepStore(c: Ctx): Promise<void> {
  const Store = storeClass(c);
  if (Store === undefined) return;
  const rng = c.rng;
  const dir = storeDir(c);
  const dirArg = writablePath(c, rng.chance(0.85) ? dir : rng.chance(0.5) ? oddPath(c) : anyValue(c));
  const store = c.call('PosixStepStore.constructor', () => new Store(dirArg), [dirArg]);
  if (store === undefined) return;
  // Names stay inside the store (remove and setAside act on whatever path a name makes).
  const inside = (v: unknown): unknown => (typeof v === 'string' && (v.includes('..') || v.startsWith('/')) ? 'dotdot' : v);
  const name = (): unknown => (rng.chance(0.7) ? `step_${rng.int(5)}.msgpack` : inside(rng.pick<unknown>(['', '.', 'a/b', 'x\u0000y', 'x'.repeat(300), '.resumable-pipeline.lock', 7, anyValue(c)])));
  const locks: unknown[] = [];
  for (let k = rng.range(1, 8); k > 0; k--) {
    let p: Promise<unknown> | undefined;
    switch (rng.int(10)) {
      case 0: c.call('PosixStepStore.create', () => store.create!()); break;
      case 1: p = c.start('PosixStepStore.list', async () => store.list!()); break;
      case 2: {
        const n = rng.chance(0.1) ? '../victim' : name();
        p = c.start('PosixStepStore.read', async () => store.read!(n), [n]);
        break;
      }
      case 3:
      case 4: {
        const made = typedArray(c, { ctor: rng.chance(0.9) ? Uint8Array as never : undefined, length: rng.pick([0, 1, 100, 65536, rng.range(1, 2 ** 20)]) });
        const args = [name(), made.value, ...(rng.chance(0.5) ? [pruneList(c)] : [])];
        p = c.start('PosixStepStore.put', async () => store.put!(...args), args);
        if (rng.chance(0.5)) {
          c.hazard(1);
          c.harness(() => detach(rng, made.buffer));
          c.gc();
        }
        break;
      }
      case 5: {
        const n = name();
        p = c.start('PosixStepStore.remove', async () => store.remove!(n), [n]);
        break;
      }
      case 6: {
        const args = [name(), name()];
        p = c.start('PosixStepStore.setAside', async () => store.setAside!(...args), args);
        break;
      }
      case 7: p = c.start('PosixStepStore.syncDirectory', async () => store.syncDirectory!()); break;
      case 8: p = c.start('PosixStepStore.lock', async () => store.lock!()).then((l) => { locks.push(l); }); break;
      default: {
        const lock = locks.length > 0 ? locks.pop() : undefined;
        const release = (lock as { release?: () => void } | null | undefined)?.release;
        if (typeof release === 'function') {
          c.call('PosixStepStore lock.release', () => release.call(lock));
          if (rng.chance(0.3)) c.call('PosixStepStore lock.release', () => release.call(lock)); // twice
        }
      }
    }
    if (p !== undefined && rng.chance(0.7)) await p;
  }
  await Promise.all(c.pending.splice(0));
  checkVictim(c, 'PosixStepStore.put');
  for (const lock of locks) c.harness(() => (lock as { release(): void }).release());
}

// ---------------------------------------------------------------- CheckpointableIterator

function iteratorSubclass(c: Ctx): unknown {
  const { CheckpointableIterator } = c.pkg;
  const rng = c.rng;
  const sub = rng.fork();
  const limit = rng.range(0, 20);
  class Counter extends CheckpointableIterator<unknown> {
    i = 0;
    next(): IteratorResult<unknown> {
      if (sub.chance(0.05)) throw new FuzzTrap('next');
      if (this.i >= limit) return { done: true, value: undefined };
      return sub.chance(0.1) ? (anyValue(c) as IteratorResult<unknown>) : { done: false, value: this.i++ };
    }
    getState(): never {
      return (sub.chance(0.8) ? { i: this.i } : stateValue(c)) as never;
    }
    setState(s: unknown): void {
      if (typeof s !== 'object' || s === null || typeof (s as { i?: unknown }).i !== 'number') throw new TypeError('bad state');
      this.i = (s as { i: number }).i;
    }
  }
  return new Counter();
}

async function scIterator(c: Ctx): Promise<void> {
  const { CheckpointableIterator, DataLoader } = c.pkg;
  const rng = c.rng;
  const it = iteratorSubclass(c) as Iterable<unknown> & { getState(): unknown; setState(s: unknown): void };
  c.call('CheckpointableIterator[Symbol.iterator]', () => {
    let n = 0;
    for (const v of it) {
      void v;
      if (++n > 50) break;
    }
  });
  c.call('CheckpointableIterator.setState', () => it.setState(rng.chance(0.5) ? it.getState() : anyValue(c)));
  const iterFn = (CheckpointableIterator.prototype as unknown as { [Symbol.iterator]: () => unknown })[Symbol.iterator];
  c.call('CheckpointableIterator[Symbol.iterator]', () => iterFn.call(anyValue(c)));
  c.call('CheckpointableIterator.constructor', () => Reflect.construct(CheckpointableIterator, []));
  if (rng.chance(0.3)) {
    // A DataLoader subclass whose state is not a DataLoader's.
    class Odd extends DataLoader {
      override getState(): never {
        return stateValue(c) as never;
      }
    }
    const src = arraySource(c, rng.range(1, 20), false);
    const l = c.call('DataLoader.constructor', () => new Odd(src as never, { batchSize: rng.range(1, 4) }));
    if (l !== undefined) {
      c.cleanups.push(() => l.close());
      c.call('DataLoader.setState', () => l.setState(l.getState()));
      c.call('DataLoader.next', () => l.next());
    }
  }
  if (rng.chance(0.5)) await checkpointWith(c, it);
}

// ---------------------------------------------------------------- worker threads

/** Runs in a worker: a loader (over memory the main thread made, or its own) iterated until terminated. */
const WORKER_CODE = `
const { parentPort, workerData: w } = require('node:worker_threads');
const pkg = require(w.root + '/dist/cjs/index.js');
let data;
if (w.memory === 'shared') data = new Float32Array(w.buffer);
else if (w.memory === 'huge') data = new Float32Array(pkg.hugePageBuffer(w.rows * w.row * 4));
else data = new Float32Array(w.rows * w.row);
const loaders = [];
for (let i = 0; i < w.loaders; i++) {
  loaders.push(new pkg.DataLoader(new pkg.ArraySource({ x: { data, shape: [w.rows, w.row] } }), { batchSize: w.batchSize, prefetch: w.prefetch, numEpochs: Infinity, seed: i }));
}
parentPort.on('message', (m) => {
  if (m === 'close') for (const l of loaders) l.close();
});
parentPort.postMessage('ready');
(async () => {
  for (let k = 0; ; k++) {
    for (const l of loaders) {
      const b = w.async ? await l.nextAsync() : l.next();
      if (w.post && k % 7 === 0 && k < 200 && !b.done) {
        try { parentPort.postMessage(b.value.x, [b.value.x.buffer]); } catch {}
      }
      if (w.recycle && !b.done) { try { l.recycle(b.value); } catch {} }
    }
    if (k % 16 === 0) await new Promise((r) => setImmediate(r));
  }
})().catch(() => {});
`;

async function scWorker(c: Ctx): Promise<void> {
  const rng = c.rng;
  const rows = rng.pick([1, 3, 64, 1000, 20000]);
  const row = rng.pick([1, 4, 16, 64]);
  const memory = rng.pick(['shared', 'huge', 'plain']);
  const buffer = memory === 'shared' ? new SharedArrayBuffer(rows * row * 4) : undefined;
  const workerData = {
    root: c.env.root, memory, buffer, rows, row, loaders: rng.range(1, 3),
    batchSize: rng.pick([1, 7, 64, 512, rows]), prefetch: rng.pick([0, 1, 2, 8]), async: rng.chance(0.5),
    post: rng.chance(0.3), recycle: rng.chance(0.5),
  };
  c.note(() => `worker ${describeValue(workerData)}`);
  const worker = c.call('worker', () => new Worker(WORKER_CODE, { eval: true, workerData }));
  if (worker === undefined) return;
  const received: unknown[] = [];
  worker.on('message', (m: unknown) => {
    if (m !== 'ready' && received.length < 8) received.push(m);
  });
  worker.on('error', (err: unknown) => c.classify('worker', err));
  const ready = new Promise<void>((resolve) => {
    worker.once('message', () => resolve());
    worker.once('exit', () => resolve());
  });
  if (rng.chance(0.7)) await ready;
  // The main thread also loads from the shared memory while the worker does.
  if (buffer !== undefined && rng.chance(0.5)) {
    const source = c.call('ArraySource.constructor', () => new c.pkg.ArraySource({ x: { data: new Float32Array(buffer), shape: [rows, row] } }));
    if (source !== undefined) await loaderSequence(c, source, rows);
  }
  await new Promise((r) => setTimeout(r, rng.pick([0, 1, 5, 20, 50])));
  if (rng.chance(0.3)) worker.postMessage('close');
  if (rng.chance(0.3)) await new Promise((r) => setTimeout(r, rng.pick([0, 5])));
  c.gc();
  await c.callAsync('worker.terminate', () => worker.terminate());
  for (const m of received) {
    // Batches the worker transferred: touch them, then drop them.
    c.harness(() => {
      const a = m as Float32Array;
      if (a.length > 0) a[0] = a[a.length - 1]!;
    });
  }
}

// ---------------------------------------------------------------- error classes

function scErrors(c: Ctx): void {
  const p = c.pkg as unknown as Record<string, new (...a: unknown[]) => Error>;
  for (const name of ['ResumablePipelineError', 'CheckpointCorruptError', 'CheckpointLockedError', 'CheckpointExistsError', 'CheckpointWriteError', 'CheckpointClosedError', 'CheckpointNotFoundError', 'IncompatibleStateError', 'SourceOpenError']) {
    if (!c.rng.chance(0.4) || typeof p[name] !== 'function') continue;
    const e = c.call(name, () => new p[name]!(anyValue(c), anyValue(c), anyValue(c)));
    c.call(`${name}.message`, () => `${String(e?.message)} ${String((e as { code?: unknown } | undefined)?.code)} ${String(e)}`);
  }
  c.call('FORMAT_NAME', () => String(c.pkg.FORMAT_NAME) + String(c.pkg.FORMAT_VERSION));
  const withCode = (c.pkg as unknown as Record<string, unknown>)['withCode'];
  if (typeof withCode === 'function') {
    const args = [c.rng.chance(0.7) ? new Error('x') : anyValue(c), c.rng.chance(0.7) ? 'RP_X' : anyValue(c)];
    callWith(c, 'withCode', withCode as (...a: unknown[]) => unknown, args);
  }
}

// ---------------------------------------------------------------- the table

export const SCENARIOS: readonly Scenario[] = [
  ['random', 8, scRandom],
  ['gather', 12, scGather],
  ['hugePageBuffer', 6, scHugePageBuffer],
  ['ArraySource', 6, scArraySource],
  ['NpySource', 7, scNpySource],
  ['DataLoader/columns', 22, scLoaderColumns],
  ['DataLoader/records', 7, scLoaderRecords],
  ['native.PrefetchQueue', 14, scPrefetchQueue],
  ['native.MappedFile', 4, scMappedFile],
  ['native/misc', 7, scNativeMisc],
  ['PipelineCheckpoint', 6, scCheckpoint],
  ['state codec', 3, scStateCodec],
  ['CheckpointableIterator', 3, scIterator],
  ['errors', 1, scErrors],
  ['worker threads', 1, scWorker],
  ['PosixStepStore', 3, scStepStore],
];

/** The scenario a seed runs (the first draw of its generator). */
export function scenarioOf(seed: number): string {
  const env = { pkg: undefined, native: () => undefined, tmp: '', root: '', gc: () => undefined, selftest: undefined };
  return pickScenario(new Ctx(seed, env as unknown as FuzzEnv))[0];
}

function pickScenario(c: Ctx): Scenario {
  return SCENARIOS[c.rng.weighted(SCENARIOS.map((s) => s[1]))]!;
}

/**
 * RP_FUZZ_SELFTEST=<what>@<seed> (hidden; for the runner's own tests): that
 * one case fails on purpose (abort, segv, exit, atexit, stall, hang) and every
 * other case does nothing, so the outcome does not depend on the package's bugs.
 */
async function selftest(env: FuzzEnv, seed: number): Promise<void> {
  const m = /^(\w+)@(\d+)$/.exec(env.selftest ?? '');
  if (m === null || Number(m[2]) !== seed) return;
  const what = m[1];
  if (what === 'abort') process.abort();
  if (what === 'segv') process.kill(process.pid, 'SIGSEGV');
  if (what === 'exit') process.exit(3);
  if (what === 'atexit') process.on('exit', () => process.abort());
  if (what === 'stall') await new Promise(() => undefined);
  if (what === 'hang') {
    const start = Date.now();
    while (Date.now() - start < 3_600_000) {
      // a busy loop that never yields
    }
  }
}

export async function runCase(seed: number, env: FuzzEnv): Promise<CaseResult> {
  const t0 = performance.now();
  const c = new Ctx(seed, env);
  const [name, , run] = pickScenario(c);
  if (env.selftest !== undefined && env.selftest !== '') {
    await selftest(env, seed);
    c.call('random.key', () => c.pkg.random.key(seed));
    return c.result(seed, 'selftest');
  }
  await run(c);
  await Promise.all(c.pending.splice(0));
  for (const cleanup of c.cleanups.splice(0)) {
    if (c.rng.chance(0.1)) continue; // left for the garbage collector, or for exit
    const r = c.harness(cleanup);
    if (r instanceof Promise) c.pending.push(r.catch(() => undefined));
  }
  await Promise.all(c.pending.splice(0));
  if (c.rng.chance(0.2)) c.gc();
  return { ...c.result(seed, name), ms: performance.now() - t0 };
}
