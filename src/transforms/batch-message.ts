// How a batch reaches a worker thread: its views over the loader's memory
// (a pinned block or a shared slab, which no thread but the main one may
// hold) are copied once into one buffer of the batch's own, which is then
// transferred, not cloned. Only the batch's bytes are copied, never the
// source's; other values (records, parsed JSON) are cloned by postMessage.
import { types } from 'node:util';
import { bufferOf } from '../loader/pinned-buffers.js';
import type { TypedArray } from '../typed-arrays.js';

export interface BatchMessage {
  /** The batch; a record batch as a plain array (the worker puts epoch and indices back on it). */
  readonly batch: unknown;
  readonly epoch: number;
  readonly indices: Uint32Array;
  /** ctx.key's two words. */
  readonly key: Uint32Array;
}

type View = TypedArray;

/** The message for one batch, and the buffers to transfer with it. */
export function packBatch(batch: unknown, epoch: number, indices: Uint32Array, key: Uint32Array, block: ArrayBufferLike): { message: BatchMessage; transfer: ArrayBuffer[] } {
  // Pass 1: the byte range of the block that the batch's views cover.
  let lo = Infinity;
  let hi = -Infinity;
  const note = (v: unknown): void => {
    if (isView(v) && bufferOf(v) === block) {
      lo = Math.min(lo, v.byteOffset);
      hi = Math.max(hi, v.byteOffset + v.byteLength);
    }
  };
  note(indices);
  forEachField(batch, note);
  if (lo === Infinity) return { message: { batch: Array.isArray(batch) ? [...batch] : batch, epoch, indices, key }, transfer: [] };
  // Pass 2: one copy of that range, and views over it at the same places.
  const copy = new ArrayBuffer(hi - lo);
  new Uint8Array(copy).set(new Uint8Array(block, lo, hi - lo));
  const moved = <T>(v: T): T => {
    if (!isView(v) || bufferOf(v) !== block) return v;
    const Ctor = v.constructor as new (buffer: ArrayBuffer, offset: number, length: number) => View;
    return new Ctor(copy, v.byteOffset - lo, v.length) as T;
  };
  let out: unknown;
  if (Array.isArray(batch)) {
    out = batch.map(moved);
  } else if (isPlain(batch)) {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(batch)) {
      if (isPlain(v)) {
        const inner: Record<string, unknown> = {};
        for (const [k2, v2] of Object.entries(v)) inner[k2] = moved(v2);
        o[k] = inner;
      } else {
        o[k] = moved(v);
      }
    }
    out = o;
  } else {
    out = moved(batch);
  }
  return { message: { batch: out, epoch, indices: moved(indices), key }, transfer: [copy] };
}

/** Calls f on the batch, its fields and their fields (a ragged column is { values, offsets }). */
function forEachField(batch: unknown, f: (v: unknown) => void): void {
  if (Array.isArray(batch)) {
    for (const v of batch) f(v);
    return;
  }
  if (!isPlain(batch)) return f(batch);
  for (const v of Object.values(batch)) {
    if (isPlain(v)) for (const v2 of Object.values(v)) f(v2);
    else f(v);
  }
}

function isView(v: unknown): v is View {
  return types.isTypedArray(v);
}

function isPlain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}
