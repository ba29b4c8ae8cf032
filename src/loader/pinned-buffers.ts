// Memory that the loader's C++ threads use between calls (a DataLoader's
// source columns, batch and result blocks) must stay where it is: a detached buffer's memory is freed
// once its new owner is collected, while a thread may still read it.
// markAsUntransferable stops postMessage and structuredClone from detaching a
// buffer; ArrayBuffer.prototype.transfer() (standard from Node 22, behind a
// flag in Node 20) ignores that mark before Node 26, so it is guarded here,
// for pinned buffers only. Pins are permanent, like markAsUntransferable.
import { markAsUntransferable } from 'node:worker_threads';
import { ErrorCodes } from '../error-codes.js';
import { withCode } from '../errors.js';
import { native } from '../native.js';

/** %TypedArray%.prototype.buffer's own getter: the real buffer, whatever a view's `buffer` property says. */
const bufferGetter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, 'buffer')!.get!;

/** The buffer behind a TypedArray, read from the engine rather than from a property a caller can override. */
export function bufferOf(view: ArrayBufferView): ArrayBufferLike {
  return bufferGetter.call(view) as ArrayBufferLike;
}

const resizableGetter = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'resizable')?.get;
const growableGetter = Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'growable')?.get;

/** Whether the buffer behind `view` can change size (read with the engine's own getters). */
export function isResizable(view: ArrayBufferView): boolean {
  const buffer = bufferOf(view);
  const getter = buffer instanceof ArrayBuffer ? resizableGetter : growableGetter;
  return getter !== undefined && getter.call(buffer) === true;
}

const pinned = new WeakSet<ArrayBuffer>();
let guarded = false;

/** Makes `buffer` non-detachable by JavaScript (SharedArrayBuffers never detach). */
export function pinBuffer(buffer: ArrayBufferLike): void {
  if (!(buffer instanceof ArrayBuffer)) return;
  if (!guarded) {
    guarded = true;
    guardTransfer('transfer');
    guardTransfer('transferToFixedLength');
  }
  markAsUntransferable(buffer);
  pinned.add(buffer);
}

/**
 * A new array the core returned (random.permutation, gather): large ones live
 * in pooled memory that is reused once the array is collected, so they are
 * pinned like batches.
 */
export function pinResult<T extends ArrayBufferView>(array: T): T {
  const buffer = bufferOf(array);
  if (buffer.byteLength >= native().pooledResultBytes) pinBuffer(buffer);
  return array;
}

function guardTransfer(name: 'transfer' | 'transferToFixedLength'): void {
  const proto = ArrayBuffer.prototype as unknown as Record<string, unknown>;
  const descriptor = Object.getOwnPropertyDescriptor(proto, name);
  const original = descriptor?.value as ((this: ArrayBuffer, ...args: unknown[]) => ArrayBuffer) | undefined;
  if (typeof original !== 'function') return; // Node 20 without --harmony-rab-gsab-transfer
  const guard = {
    [name](this: ArrayBuffer, ...args: unknown[]): ArrayBuffer {
      if (pinned.has(this)) {
        throw withCode(
          new TypeError(`ArrayBuffer.prototype.${name}: this buffer is used by a DataLoader's C++ threads (a source, or recycled batch memory); it cannot be detached`),
          ErrorCodes.BUFFER_PINNED,
        );
      }
      return original.apply(this, args);
    },
  }[name]!;
  Object.defineProperty(guard, 'length', { value: original.length });
  Object.defineProperty(proto, name, { ...descriptor, value: guard });
}
