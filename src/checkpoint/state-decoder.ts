// msgpack -> State, with @msgpack/msgpack's decoder plus one pass that makes
// the result exact and self-contained (FORMAT.md §3 and §4):
// - int64/uint64 are read as bigint first, so a value outside the safe range
//   is rejected instead of silently rounded; the rest become numbers;
// - a plain msgpack bin (written by other tools) becomes a Uint8Array copy, not
//   a view that keeps the whole file alive;
// - nesting is bounded, and any other type (unknown ext, timestamp) is rejected.
import { Decoder, ExtData, ExtensionCodec } from '@msgpack/msgpack';
import { MAX_STATE_DEPTH, isTypedArray, type State } from '../iterator/state.js';
import { decodeBigInt, decodeTypedArray, EXT_BIGINT, EXT_TYPED_ARRAY } from './state-ext.js';

/** An ext 2 value, kept apart from int64 bigints until the final pass. */
class BigIntExt {
  constructor(readonly value: bigint) {}
}

const codec = new ExtensionCodec();
codec.register({ type: EXT_TYPED_ARRAY, encode: () => null, decode: decodeTypedArray });
codec.register({ type: EXT_BIGINT, encode: () => null, decode: (data) => new BigIntExt(decodeBigInt(data)) });

function stringKey(key: unknown): string {
  if (typeof key !== 'string') throw new RangeError(`a map key is ${typeof key}; State maps have string keys`);
  return key;
}

/** msgpack decoding options bounded by the input, so hostile headers cannot allocate much. */
export function boundedOptions(length: number) {
  return {
    maxStrLength: length,
    maxBinLength: length,
    maxArrayLength: length,
    maxMapLength: length,
    maxExtLength: length,
  };
}

/** The State in bytes; any malformation throws a RangeError saying what and where. */
export function decodeState(bytes: Uint8Array): State {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  let value: unknown;
  try {
    value = new Decoder({ extensionCodec: codec, useBigInt64: true, mapKeyConverter: stringKey, ...boundedOptions(bytes.length) }).decode(bytes);
  } catch (cause) {
    throw new RangeError(`not a valid msgpack State: ${(cause as Error).message}`, { cause });
  }
  return finish(value, 'state', 0, bytes.buffer);
}

function finish(value: unknown, path: string, depth: number, input: ArrayBufferLike): State {
  switch (typeof value) {
    case 'boolean':
    case 'number':
    case 'string':
      return value;
    case 'bigint':
      if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new RangeError(`${path}: msgpack integer ${value} is outside the safe range; a bigint must use ext type ${EXT_BIGINT}`);
      }
      return Number(value);
    case 'object':
      if (value === null) return null;
      if (value instanceof BigIntExt) return value.value;
      if (isTypedArray(value)) return value.buffer === input ? value.slice() : value;
      if (depth >= MAX_STATE_DEPTH) throw new RangeError(`${path} is nested deeper than ${MAX_STATE_DEPTH} levels`);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) value[i] = finish(value[i], `${path}[${i}]`, depth + 1, input);
        return value as State[];
      }
      if (value instanceof ExtData) throw new RangeError(`${path}: unknown msgpack ext type ${value.type}`);
      if (Object.getPrototypeOf(value) === Object.prototype) {
        const map = value as Record<string, unknown>;
        for (const key of Object.keys(map)) map[key] = finish(map[key], `${path}.${key}`, depth + 1, input);
        return map as { [key: string]: State };
      }
      throw new RangeError(`${path}: a ${(value as object).constructor?.name ?? 'value'} is not a State`);
    default:
      throw new RangeError(`${path}: ${typeof value} is not a State`);
  }
}
