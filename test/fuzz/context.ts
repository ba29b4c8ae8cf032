// The per-case harness: the seeded generator, the package under test, call
// accounting (which export was called, which errors came back) and
// "hazards": deferred mutations of buffers made earlier in the case (detach,
// resize, grow) that scenarios fire between calls.
import { types } from 'node:util';
import { runInNewContext } from 'node:vm';
import type * as Pkg from '../../src/index.js';
import { Rng } from './prng.js';

/** Protocol lines from a child start with this (other output is kept as diagnostics). */
export const MARK = '\u001eRPF ';

/** Each case allocates at most this much itself (a single buffer or array). */
export const MEMORY_LIMIT = 256 * 2 ** 20;

/** Thrown by the fuzzer's own traps (proxies, getters, callbacks): expected to pass through. */
export class FuzzTrap extends Error {
  constructor(what: string) {
    super(`fuzz-trap: ${what}`);
    this.name = 'FuzzTrap';
  }
}

export type AnyFn = (...args: unknown[]) => unknown;

export interface RawMappedFile {
  readonly byteLength: number;
  slice(offset: unknown, length: unknown): ArrayBuffer;
}

export interface RawQueue {
  readonly blockBytes: number;
  take(...args: unknown[]): ArrayBuffer | null;
  wait(...args: unknown[]): boolean;
  reset(...args: unknown[]): void;
  close(...args: unknown[]): void;
}

/** The binding as the fuzzer sees it: every function takes anything. */
export type RawBinding = Record<string, AnyFn> & {
  MappedFile: new (...args: unknown[]) => RawMappedFile;
  PrefetchQueue: new (...args: unknown[]) => RawQueue;
};

export type Package = typeof Pkg;

export interface FuzzEnv {
  pkg: Package;
  native: () => RawBinding;
  /** A fresh, empty directory for this case's files. */
  tmp: string;
  gc: () => void;
  /** The repository root (workers load the package from its dist/). */
  root: string;
  /** RP_FUZZ_SELFTEST, e.g. "abort@123" (see cases.ts). */
  selftest: string | undefined;
}

export interface CaseResult {
  seed: number;
  scenario: string;
  /** export name → calls made. */
  calls: Record<string, number>;
  /** Errors that are not TypeError/RangeError/RP_*, by "call: Class: message prefix". */
  unexpected: Record<string, number>;
  /** TypeError, RangeError or an RP_ code: the documented way to refuse. */
  expected: number;
  /** Our own trap errors passed back to us. */
  traps: number;
  /** How long the case took. */
  ms?: number;
}

interface Hazard {
  name: string;
  run: () => void;
}

export class Ctx {
  readonly rng: Rng;
  readonly pkg: Package;
  readonly env: FuzzEnv;
  readonly calls = new Map<string, number>();
  readonly unexpected = new Map<string, number>();
  expected = 0;
  traps = 0;
  /** Promises the case started but did not await; awaited (and classified) at the end. */
  readonly pending: Promise<unknown>[] = [];
  /** Cleanups run at the end (each is skipped at random: leaked objects are part of the test). */
  readonly cleanups: Array<() => unknown> = [];
  private readonly hazards: Hazard[] = [];
  private fileCounter = 0;
  private hazardsFired = 0;
  private gcs = 0;

  constructor(seed: number, env: FuzzEnv) {
    caseStart = Date.now();
    this.rng = new Rng(seed);
    this.env = env;
    this.pkg = env.pkg;
  }

  native(): RawBinding {
    return this.env.native();
  }

  /** A fresh path in the case's directory. */
  path(stem = 'f'): string {
    return `${this.env.tmp}/${stem}${this.fileCounter++}`;
  }

  count(name: string, args?: readonly unknown[]): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    if (TRACE) process.stderr.write(`[fuzz] ${elapsed()} ${name}${args === undefined ? '' : `(${args.map((a) => describeValue(a)).join(', ')})`}\n`);
  }

  /** A line in the trace (RP_FUZZ_TRACE=1). */
  note(text: string | (() => string)): void {
    if (TRACE) process.stderr.write(`[fuzz]   ${typeof text === 'string' ? text : text()}\n`);
  }

  /**
   * Calls an export; a throw is classified and turned into undefined. `args`
   * (the arguments fn passes) only go to the trace.
   */
  call<T>(name: string, fn: () => T, args?: readonly unknown[]): T | undefined {
    this.count(name, args);
    try {
      return fn();
    } catch (err) {
      this.classify(name, err);
      return undefined;
    }
  }

  /** Like call, awaiting the result. */
  async callAsync<T>(name: string, fn: () => Promise<T> | T, args?: readonly unknown[]): Promise<T | undefined> {
    this.count(name, args);
    try {
      return await fn();
    } catch (err) {
      this.classify(name, err);
      return undefined;
    }
  }

  /** Calls an async export without awaiting it now; it is awaited at the end of the case. */
  start<T>(name: string, fn: () => Promise<T>, args?: readonly unknown[]): Promise<T | undefined> {
    this.count(name, args);
    let p: Promise<T>;
    try {
      p = fn();
    } catch (err) {
      this.classify(name, err);
      return Promise.resolve(undefined);
    }
    const settled = Promise.resolve(p).then(
      (v) => v,
      (err: unknown) => {
        this.classify(name, err);
        return undefined;
      },
    );
    this.pending.push(settled);
    return settled;
  }

  /** The fuzzer's own operations (detach, resize, ...): errors are ignored. */
  harness<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch {
      return undefined;
    }
  }

  classify(name: string, err: unknown): void {
    const kind = classifyError(err);
    if (TRACE) process.stderr.write(`[fuzz]   ${name} threw: ${kind === 'expected' || kind === 'trap' ? `${kind}: ${messageOf(err)}` : kind}\n`);
    if (kind === 'trap') this.traps++;
    else if (kind === 'expected') this.expected++;
    else {
      const group = `${name}: ${kind}`;
      this.unexpected.set(group, (this.unexpected.get(group) ?? 0) + 1);
    }
  }

  /** Registers a deferred mutation; fired by hazard() at random points. */
  addHazard(name: string, run: () => void): void {
    this.hazards.push({ name, run });
  }

  /** With probability p, fires one registered hazard (and maybe collects garbage). */
  hazard(p = 0.15): void {
    if (this.hazards.length === 0 || !this.rng.chance(p)) return;
    if (++this.hazardsFired > 100) return; // callbacks may fire them per record: keep cases short
    const h = this.rng.pick(this.hazards);
    if (TRACE) process.stderr.write(`[fuzz] hazard: ${h.name}\n`);
    this.harness(h.run);
    if (this.rng.chance(0.5)) this.gc();
  }

  gc(): void {
    if (++this.gcs > 40) return; // a full collection costs milliseconds
    if (TRACE) process.stderr.write('[fuzz] gc\n');
    this.env.gc();
  }

  result(seed: number, scenario: string): CaseResult {
    return {
      seed,
      scenario,
      calls: Object.fromEntries(this.calls),
      unexpected: Object.fromEntries(this.unexpected),
      expected: this.expected,
      traps: this.traps,
    };
  }
}

/** RP_FUZZ_TRACE=1: each call, hazard and error goes to stderr (replay with --trace). */
const TRACE = process.env['RP_FUZZ_TRACE'] === '1';
let caseStart = Date.now();
const elapsed = (): string => `+${String(Date.now() - caseStart).padStart(5)}ms`;

function messageOf(err: unknown): string {
  try {
    return String((err as { message?: unknown }).message).slice(0, 120);
  } catch {
    return '?';
  }
}

/** 'trap', 'expected', or a group label "Class: message prefix" for anything else. */
export function classifyError(err: unknown): string {
  try {
    if (err instanceof FuzzTrap) return 'trap';
    if (err instanceof TypeError || err instanceof RangeError) return 'expected';
    if (typeof err !== 'object' || err === null) return `thrown ${typeof err}`;
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('RP_')) return 'expected';
    const ctor = (err as { constructor?: { name?: unknown } }).constructor?.name;
    const message = String((err as { message?: unknown }).message ?? '');
    if (message.startsWith('fuzz-trap:')) return 'trap';
    return `${typeof ctor === 'string' ? ctor : 'object'}: ${normalizeMessage(message)}`;
  } catch {
    return 'unclassifiable thrown value';
  }
}

/** Message prefix with paths and numbers blanked, so similar errors group together. */
export function normalizeMessage(message: string): string {
  return message
    .replace(/\/[^\s:'"]*/g, '<path>')
    .replace(/\d+/g, 'N')
    .slice(0, 80);
}

const typedLength = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, 'length')!.get!;
const typedBuffer = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, 'buffer')!.get!;
const typedOffset = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, 'byteOffset')!.get!;
const typedTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, Symbol.toStringTag)!.get!;

/** A TypedArray's real length (not what an own or subclass `length` says); 0 for anything else. */
export function lengthOf(value: unknown): number {
  try {
    return typedLength.call(value) as number;
  } catch {
    return 0;
  }
}

function describeBuffer(b: ArrayBufferLike): string {
  const r = b as ArrayBufferLike & { resizable?: boolean; growable?: boolean; maxByteLength?: number; detached?: boolean };
  const shared = typeof SharedArrayBuffer !== 'undefined' && b instanceof SharedArrayBuffer;
  const kind = shared ? (r.growable === true ? `growable SharedArrayBuffer max ${r.maxByteLength}` : 'SharedArrayBuffer') : r.resizable === true ? `resizable ArrayBuffer max ${r.maxByteLength}` : 'ArrayBuffer';
  return `${kind}(${b.byteLength}${r.detached === true ? ', detached' : ''})`;
}

/** A short description of any value, for traces; never runs a getter or a proxy trap. */
export function describeValue(value: unknown, depth = 0): string {
  try {
    switch (typeof value) {
      case 'number': return Object.is(value, -0) ? '-0' : String(value);
      case 'bigint': return `${value}n`;
      case 'string': return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...(${value.length})` : value);
      case 'symbol': return value.toString();
      case 'function': return `function ${value.name}`;
      case 'undefined': return 'undefined';
      case 'boolean': return String(value);
      default:
    }
    if (value === null) return 'null';
    if (types.isProxy(value)) return 'Proxy';
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      // (Not getOwnPropertyNames: it lists every element of a large array.)
      const own = ['buffer', 'length', 'byteLength', 'byteOffset', 'constructor'].filter((k) => Object.prototype.hasOwnProperty.call(value, k));
      const tag = String(typedTag.call(value));
      const cls = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
      return `${tag}${cls !== tag ? ` (subclass ${cls})` : ''}[length ${typedLength.call(value)}, at byte ${typedOffset.call(value)} of ${describeBuffer(typedBuffer.call(value) as ArrayBufferLike)}]${own.length > 0 ? ` own ${own.join(',')}` : ''}`;
    }
    if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)) return describeBuffer(value);
    if (depth > 2) return Array.isArray(value) ? '[...]' : '{...}';
    if (Array.isArray(value)) return `[${value.slice(0, 6).map((v) => describeValue(v, depth + 1)).join(', ')}${value.length > 6 ? `, ... (${value.length})` : ''}]`;
    const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
    const name = proto === null ? 'null-prototype ' : proto === Object.prototype ? '' : `${proto.constructor?.name ?? '?'} `;
    const parts = Object.entries(Object.getOwnPropertyDescriptors(value)).slice(0, 12).map(([k, d]) => `${k}: ${d.get !== undefined ? 'getter' : describeValue(d.value, depth + 1)}`);
    return `${name}{${parts.join(', ')}}`;
  } catch {
    return '?';
  }
}

/** Buffers never detached: Node's shared Buffer pool (detaching it breaks Buffer itself). */
export const NO_DETACH = new WeakSet<object>();

/**
 * ArrayBuffer.prototype.transfer as it was before the package loaded (this
 * module loads first in a child): a package that wraps the prototype's method
 * cannot intercept a reference taken earlier.
 */
const EARLY_TRANSFER = (ArrayBuffer.prototype as { transfer?: (this: ArrayBuffer) => ArrayBuffer }).transfer;
/** The same method from another realm (node:vm), which no wrapper in this realm sees. */
const REALM_TRANSFER = runInNewContext('ArrayBuffer.prototype.transfer') as ((this: ArrayBuffer) => ArrayBuffer) | undefined;

/** RP_FUZZ_UNPINNABLE=1: also detach through transfer() references the package cannot guard. */
const UNPINNABLE = process.env['RP_FUZZ_UNPINNABLE'] === '1';

/** Detaches a buffer (its memory moves to a clone that is dropped at once). */
export function detach(rng: Rng, buffer: ArrayBufferLike): void {
  if (NO_DETACH.has(buffer)) return;
  const transfer = (buffer as { transfer?: () => ArrayBuffer }).transfer;
  const how = rng.int(4);
  // A pinned buffer is copied instead: keep that copy (and the case) short.
  if (buffer.byteLength > 32 * 2 ** 20) return;
  if (TRACE) {
    const ways = ['buffer.transfer()', 'ArrayBuffer.prototype.transfer taken before the package loaded', 'structuredClone(buffer, { transfer })', "another realm's ArrayBuffer.prototype.transfer (node:vm)"];
    process.stderr.write(`[fuzz]   detach ${describeValue(buffer)} with ${ways[how]}\n`);
  }
  // Ways 1 and 3 get past any pin on Node < 26 (Node-API has no detach key):
  // a documented limit (README, "Limits"), fuzzed only when asked for.
  if ((how === 1 || how === 3) && !UNPINNABLE) {
    structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });
    return;
  }
  if (how === 3 && typeof REALM_TRANSFER === 'function') {
    REALM_TRANSFER.call(buffer as ArrayBuffer);
    return;
  }
  if (how === 0 && typeof transfer === 'function') {
    transfer.call(buffer); // the method as the prototype has it now
    return;
  }
  if (how === 1 && typeof EARLY_TRANSFER === 'function') {
    EARLY_TRANSFER.call(buffer as ArrayBuffer);
    return;
  }
  structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });
}
