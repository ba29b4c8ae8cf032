// State <-> msgpack bytes. TypedArrays and bigints travel as msgpack ext types
// (documented in FORMAT.md) so any msgpack implementation can read them and
// this one restores them exactly; everything else is plain msgpack.
import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack';
import { assertState, isTypedArray, type State, type TypedArray } from '../iterator/state.js';

export const EXT_TYPED_ARRAY = 1;
export const EXT_BIGINT = 2;

type TypedArrayClass = { new (buffer: ArrayBuffer): TypedArray; readonly BYTES_PER_ELEMENT: number };

/** dtype codes of the TypedArray ext: the first byte of its data. */
const DTYPES: readonly TypedArrayClass[] = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
  Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
];

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('resumable-pipeline: step files store little-endian bytes; big-endian hosts are not supported');
}

function encodeTypedArray(value: TypedArray): Uint8Array {
  const code = DTYPES.findIndex((cls) => value instanceof cls);
  const out = new Uint8Array(1 + value.byteLength);
  out[0] = code;
  out.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), 1);
  return out;
}

function decodeTypedArray(data: Uint8Array): TypedArray {
  const cls = DTYPES[data[0] ?? -1];
  if (data.length === 0 || cls === undefined) throw new RangeError(`unknown TypedArray dtype code ${data[0]}`);
  if ((data.length - 1) % cls.BYTES_PER_ELEMENT !== 0) {
    throw new RangeError(`${cls.name} data of ${data.length - 1} bytes is not a whole number of elements`);
  }
  // Copy into a fresh, aligned buffer: the decoder hands out unaligned views.
  const buffer = new ArrayBuffer(data.length - 1);
  new Uint8Array(buffer).set(data.subarray(1));
  return new cls(buffer);
}

/** Sign byte (0 or 1), then the magnitude, big-endian, no leading zeros. */
function encodeBigInt(value: bigint): Uint8Array {
  let mag = value < 0n ? -value : value;
  const hex = mag === 0n ? '' : mag.toString(16);
  const bytes = new Uint8Array(1 + Math.ceil(hex.length / 2));
  bytes[0] = value < 0n ? 1 : 0;
  for (let i = bytes.length - 1; i >= 1; i--) {
    bytes[i] = Number(mag & 0xffn);
    mag >>= 8n;
  }
  return bytes;
}

function decodeBigInt(data: Uint8Array): bigint {
  if (data.length === 0 || (data[0] !== 0 && data[0] !== 1)) throw new RangeError('bigint ext has no valid sign byte');
  let mag = 0n;
  for (let i = 1; i < data.length; i++) mag = (mag << 8n) | BigInt(data[i]!);
  return data[0] === 1 ? -mag : mag;
}

const codec = new ExtensionCodec();
codec.register({
  type: EXT_TYPED_ARRAY,
  encode: (value: unknown) => (isTypedArray(value) ? encodeTypedArray(value) : null),
  decode: decodeTypedArray,
});
codec.register({
  type: EXT_BIGINT,
  encode: (value: unknown) => (typeof value === 'bigint' ? encodeBigInt(value) : null),
  decode: decodeBigInt,
});

const encoder = new Encoder({ extensionCodec: codec });

/** msgpack bytes of a State; throws a TypeError naming `name` and the bad path. */
export function encodeState(value: unknown, name = 'state'): Uint8Array {
  assertState(value, name);
  return encoder.encode(value);
}

/** The State in bytes; throws (RangeError or DecodeError) on anything malformed. */
export function decodeState(bytes: Uint8Array): State {
  // Bound every length by the input size, so hostile headers cannot allocate.
  const max = bytes.length;
  const decoder = new Decoder({
    extensionCodec: codec,
    maxStrLength: max, maxBinLength: max, maxArrayLength: max, maxMapLength: max, maxExtLength: max,
  });
  const value = decoder.decode(bytes);
  assertState(value);
  return value;
}
