// The two msgpack extension types of a step file's State (FORMAT.md §3):
// ext 1 = TypedArray (dtype code byte, then the elements' little-endian bytes),
// ext 2 = bigint (sign byte, then the magnitude big-endian, no leading zeros).
import { CLASS_BY_CODE, dtypeCodeOf, type TypedArray } from '../typed-arrays.js';
import { codedError, ErrorCodes, malformedStateError } from '../error-codes.js';

export const EXT_TYPED_ARRAY = 1;
export const EXT_BIGINT = 2;


if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // The ext 1 body is the array's own memory; on a big-endian host it would need byte swaps.
  throw codedError('resumable-pipeline: step files store little-endian bytes; big-endian hosts are not supported', ErrorCodes.PLATFORM_UNSUPPORTED);
}

/** The dtype code of a supported TypedArray (caller has checked it is one). */
export function dtypeCode(value: TypedArray): number {
  return dtypeCodeOf(value)!;
}

/** A fresh, aligned TypedArray from an ext 1 body; RangeError if malformed. */
export function decodeTypedArray(data: Uint8Array): TypedArray {
  const cls = data.length === 0 ? undefined : CLASS_BY_CODE[data[0]!];
  if (cls === undefined) {
    throw malformedStateError(data.length === 0 ? 'TypedArray ext has no dtype byte' : `unknown TypedArray dtype code ${data[0]}`);
  }
  if ((data.length - 1) % cls.BYTES_PER_ELEMENT !== 0) {
    throw malformedStateError(`${cls.name} data of ${data.length - 1} bytes is not a whole number of elements`);
  }
  // Copy into a buffer of its own: the input view may be unaligned and is the whole file.
  const buffer = new ArrayBuffer(data.length - 1);
  new Uint8Array(buffer).set(data.subarray(1));
  return new cls(buffer);
}

/** Bytes of the magnitude of a bigint (0 for 0n). */
export function bigintMagnitudeLength(value: bigint): number {
  const mag = value < 0n ? -value : value;
  return mag === 0n ? 0 : Math.ceil(mag.toString(16).length / 2);
}

/** Writes the ext 2 body (1 + magnitudeLength bytes) into out at offset. */
export function writeBigInt(value: bigint, out: Uint8Array, offset: number, magnitudeLength: number): void {
  out[offset] = value < 0n ? 1 : 0;
  if (magnitudeLength === 0) return;
  const hex = (value < 0n ? -value : value).toString(16);
  out.set(Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex'), offset + 1);
}

/** The bigint of an ext 2 body; RangeError unless it is canonical. */
export function decodeBigInt(data: Uint8Array): bigint {
  const sign = data[0];
  if (sign !== 0 && sign !== 1) throw malformedStateError('bigint ext has no valid sign byte (0 or 1)');
  if (data.length > 1 && data[1] === 0) throw malformedStateError('bigint ext magnitude has a leading zero byte');
  if (sign === 1 && data.length === 1) throw malformedStateError('bigint ext encodes negative zero');
  const mag = data.length === 1 ? 0n : BigInt(`0x${Buffer.from(data.buffer, data.byteOffset + 1, data.length - 1).toString('hex')}`);
  return sign === 1 ? -mag : mag;
}
