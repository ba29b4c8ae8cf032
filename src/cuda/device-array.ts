// An array in GPU memory: what random.permutation and DataLoader return with
// `device: 'cuda'`. Its memory is freed by free() or, failing that, when the
// object is collected (the native buffer's finalizer, which also tells V8 how
// much device memory it held through napi_adjust_external_memory).
import { argumentRangeError, argumentTypeError } from '../error-codes.js';
import { DTYPES, dtypeOf, type Dtype, type TypedArray } from '../typed-arrays.js';
import { describe } from '../validate.js';
import type { NativeDeviceBuffer } from './cuda-addon.js';

type HostArrayOf<D extends Dtype> = InstanceType<(typeof DTYPES)[D]>;

export class DeviceArray<D extends Dtype = Dtype> {
  /** Always 'cuda' (device 0, the CUDA runtime's current device). */
  readonly device = 'cuda' as const;
  readonly dtype: D;
  /** Elements. */
  readonly length: number;
  readonly #buffer: NativeDeviceBuffer;
  readonly #offset: number;

  /** @internal Made by the package (random.permutation, DataLoader), not by users. */
  constructor(buffer: NativeDeviceBuffer, dtype: D, length: number, byteOffset = 0) {
    this.#buffer = buffer;
    this.dtype = dtype;
    this.length = length;
    this.#offset = byteOffset;
  }

  /** length × the dtype's element size; 0 once freed. */
  get byteLength(): number {
    return this.#buffer.freed ? 0 : this.length * DTYPES[this.dtype].BYTES_PER_ELEMENT;
  }

  /**
   * The device address of element 0 (a CUDA device pointer, as a bigint), for
   * another native addon: valid until free() or collection, so keep this
   * object referenced while the pointer is in use. 0n once freed.
   */
  get pointer(): bigint {
    return this.#buffer.freed ? 0n : this.#buffer.pointer + BigInt(this.#offset);
  }

  /** Whether free() has run (then every other use throws). */
  get freed(): boolean {
    return this.#buffer.freed;
  }

  /**
   * Copies the array to host memory: into `out` (a TypedArray of this dtype
   * and length) when given, else a new one. Waits for the work that made it.
   */
  toHost(out?: HostArrayOf<D>): HostArrayOf<D> {
    if (this.#buffer.freed) throw argumentTypeError('this DeviceArray has been freed');
    const Class = DTYPES[this.dtype];
    let target: TypedArray;
    if (out === undefined) {
      target = new Class(this.length);
    } else {
      if (dtypeOf(out) !== this.dtype) {
        throw argumentTypeError(`out must be a ${Class.name} (dtype ${this.dtype}), got ${describe(out)}`);
      }
      if ((out as TypedArray).length !== this.length) {
        throw argumentRangeError(`out must have ${this.length} elements, has ${(out as TypedArray).length}`);
      }
      target = out as TypedArray;
    }
    this.#buffer.toHost(target, this.#offset);
    return target as HostArrayOf<D>;
  }

  /** Frees the device memory now (idempotent); without it, collection frees it. */
  free(): void {
    this.#buffer.free();
  }

  /** @internal The native buffer and this array's byte offset in it. */
  static native(array: DeviceArray): { buffer: NativeDeviceBuffer; byteOffset: number } {
    return { buffer: array.#buffer, byteOffset: array.#offset };
  }
}

/** The DeviceArray a TypedArray column becomes on the device. */
export type DeviceArrayOf<T> = T extends Int8Array ? DeviceArray<'int8'>
  : T extends Uint8ClampedArray ? DeviceArray<'uint8clamped'>
  : T extends Uint8Array ? DeviceArray<'uint8'>
  : T extends Int16Array ? DeviceArray<'int16'>
  : T extends Uint16Array ? DeviceArray<'uint16'>
  : T extends Int32Array ? DeviceArray<'int32'>
  : T extends Uint32Array ? DeviceArray<'uint32'>
  : T extends Float32Array ? DeviceArray<'float32'>
  : T extends Float64Array ? DeviceArray<'float64'>
  : T extends BigInt64Array ? DeviceArray<'int64'>
  : T extends BigUint64Array ? DeviceArray<'uint64'>
  : DeviceArray;

/**
 * A batch of `new DataLoader(source, { device: 'cuda' })`, from its CPU batch
 * type B: each column a DeviceArray (ragged/padded parts each one), `epoch`
 * and `indices` unchanged. The loader's own type says B: cast, as in
 * `const b = batch as unknown as DeviceBatch<typeof batch>`.
 */
export type DeviceBatch<B> = {
  [K in keyof B]: K extends 'epoch' | 'indices'
    ? B[K]
    : B[K] extends ArrayBufferView
      ? DeviceArrayOf<B[K]>
      : { [P in keyof B[K]]: DeviceArrayOf<B[K][P]> };
};
