// State -> msgpack, written into one exactly-sized buffer: a sizing pass, then
// a writing pass (no growth copies, and a step file's envelope can embed the
// state in place). Our own writer, not @msgpack/msgpack's Encoder, because
// that one writes -0 as the integer 0; here -0 is a float64 and round-trips.
// Every other value gets the same canonical (smallest) form that encoder uses
// (a property test compares the bytes).
import { assertState, isTypedArray, type State, type TypedArray } from '../iterator/state.js';
import { bigintMagnitudeLength, dtypeCode, EXT_BIGINT, EXT_TYPED_ARRAY, writeBigInt } from './state-ext.js';
import { stateRangeError, stateTypeError } from '../error-codes.js';

const U32_LIMIT = 2 ** 32;

function isInteger(value: number): boolean {
  return Number.isSafeInteger(value) && !Object.is(value, -0);
}

function checkLength(length: number, what: string): number {
  if (length >= U32_LIMIT) throw stateRangeError(`${what} of ${length} bytes or items is too large for msgpack (max 2^32 - 1)`);
  return length;
}

export function numberSize(value: number): number {
  if (!isInteger(value)) return 9;
  if (value >= 0) return value < 128 ? 1 : value < 256 ? 2 : value < 65536 ? 3 : value < U32_LIMIT ? 5 : 9;
  return value >= -32 ? 1 : value >= -128 ? 2 : value >= -32768 ? 3 : value >= -(2 ** 31) ? 5 : 9;
}

function strHeaderSize(length: number): number {
  return length < 32 ? 1 : length < 256 ? 2 : length < 65536 ? 3 : 5;
}

export function strSize(text: string): number {
  const length = checkLength(Buffer.byteLength(text, 'utf8'), 'a string');
  return strHeaderSize(length) + length;
}

export function binHeaderSize(length: number): number {
  checkLength(length, 'a binary');
  return length < 256 ? 2 : length < 65536 ? 3 : 5;
}

function containerHeaderSize(count: number): number {
  return count < 16 ? 1 : count < 65536 ? 3 : 5;
}

function extSize(bodyLength: number): number {
  checkLength(bodyLength, 'an ext');
  const fixed = bodyLength === 1 || bodyLength === 2 || bodyLength === 4 || bodyLength === 8 || bodyLength === 16;
  return (fixed ? 2 : bodyLength < 256 ? 3 : bodyLength < 65536 ? 4 : 6) + bodyLength;
}

/** Encoded size of a value already checked by assertState. */
export function stateSize(value: State): number {
  switch (typeof value) {
    case 'boolean':
      return 1;
    case 'number':
      return numberSize(value);
    case 'bigint':
      return extSize(1 + bigintMagnitudeLength(value));
    case 'string':
      return strSize(value);
    default: {
      if (value === null) return 1;
      if (isTypedArray(value)) return extSize(1 + value.byteLength);
      if (Array.isArray(value)) {
        let size = containerHeaderSize(checkLength(value.length, 'an array'));
        for (let i = 0; i < value.length; i++) size += stateSize(value[i]!);
        return size;
      }
      const keys = Object.keys(value);
      let size = containerHeaderSize(checkLength(keys.length, 'a map'));
      for (const key of keys) size += strSize(key) + stateSize(value[key]!);
      return size;
    }
  }
}

/** Writes msgpack values into a buffer whose size was computed in advance. */
export class MsgpackWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly text: Buffer;
  pos = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.text = Buffer.from(this.bytes.buffer);
  }

  u8(value: number): void {
    this.view.setUint8(this.pos, value);
    this.pos += 1;
  }

  private u16(value: number): void {
    this.view.setUint16(this.pos, value);
    this.pos += 2;
  }

  /** A raw big-endian uint32 (no type byte). */
  u32(value: number): void {
    this.view.setUint32(this.pos, value);
    this.pos += 4;
  }

  number(value: number): void {
    if (!isInteger(value)) {
      this.u8(0xcb);
      this.view.setFloat64(this.pos, value);
      this.pos += 8;
    } else if (value >= 0) {
      if (value < 128) this.u8(value);
      else if (value < 256) (this.u8(0xcc), this.u8(value));
      else if (value < 65536) (this.u8(0xcd), this.u16(value));
      else if (value < U32_LIMIT) (this.u8(0xce), this.u32(value));
      else (this.u8(0xcf), this.u32(Math.floor(value / U32_LIMIT)), this.u32(value >>> 0));
    } else if (value >= -32) {
      this.u8(value & 0xff);
    } else if (value >= -128) {
      this.u8(0xd0);
      this.view.setInt8(this.pos, value);
      this.pos += 1;
    } else if (value >= -32768) {
      this.u8(0xd1);
      this.view.setInt16(this.pos, value);
      this.pos += 2;
    } else if (value >= -(2 ** 31)) {
      this.u8(0xd2);
      this.view.setInt32(this.pos, value);
      this.pos += 4;
    } else {
      this.u8(0xd3);
      this.view.setInt32(this.pos, Math.floor(value / U32_LIMIT));
      this.pos += 4;
      this.u32(value >>> 0); // the low word of the two's complement
    }
  }

  str(text: string): void {
    const length = Buffer.byteLength(text, 'utf8');
    if (length < 32) this.u8(0xa0 | length);
    else if (length < 256) (this.u8(0xd9), this.u8(length));
    else if (length < 65536) (this.u8(0xda), this.u16(length));
    else (this.u8(0xdb), this.u32(length));
    this.reserve(length);
    this.pos += this.text.write(text, this.pos, length, 'utf8');
  }

  binHeader(length: number): void {
    if (length < 256) (this.u8(0xc4), this.u8(length));
    else if (length < 65536) (this.u8(0xc5), this.u16(length));
    else (this.u8(0xc6), this.u32(length));
  }

  private containerHeader(count: number, fix: number, code16: number): void {
    if (count < 16) this.u8(fix | count);
    else if (count < 65536) (this.u8(code16), this.u16(count));
    else (this.u8(code16 + 1), this.u32(count));
  }

  private extHeader(type: number, bodyLength: number): void {
    switch (bodyLength) {
      case 1: this.u8(0xd4); break;
      case 2: this.u8(0xd5); break;
      case 4: this.u8(0xd6); break;
      case 8: this.u8(0xd7); break;
      case 16: this.u8(0xd8); break;
      default:
        if (bodyLength < 256) (this.u8(0xc7), this.u8(bodyLength));
        else if (bodyLength < 65536) (this.u8(0xc8), this.u16(bodyLength));
        else (this.u8(0xc9), this.u32(bodyLength));
    }
    this.u8(type);
  }

  private typedArray(value: TypedArray): void {
    this.extHeader(EXT_TYPED_ARRAY, 1 + value.byteLength);
    this.u8(dtypeCode(value));
    this.reserve(value.byteLength);
    this.bytes.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), this.pos);
    this.pos += value.byteLength;
  }

  private bigint(value: bigint): void {
    const length = bigintMagnitudeLength(value);
    this.extHeader(EXT_BIGINT, 1 + length);
    this.reserve(1 + length);
    writeBigInt(value, this.bytes, this.pos, length);
    this.pos += 1 + length;
  }

  /** Writes a value already checked by assertState and sized by stateSize. */
  state(value: State): void {
    switch (typeof value) {
      case 'boolean':
        return this.u8(value ? 0xc3 : 0xc2);
      case 'number':
        return this.number(value);
      case 'bigint':
        return this.bigint(value);
      case 'string':
        return this.str(value);
      case 'object':
        if (value === null) return this.u8(0xc0);
        if (isTypedArray(value)) return this.typedArray(value);
        if (Array.isArray(value)) {
          this.containerHeader(value.length, 0x90, 0xdc);
          for (let i = 0; i < value.length; i++) this.state(value[i]!);
          return;
        }
        if (typeof value === 'object') {
          const keys = Object.keys(value);
          this.containerHeader(keys.length, 0x80, 0xde);
          for (const key of keys) {
            this.str(key);
            this.state(value[key]!);
          }
          return;
        }
    }
    // Only reachable if a getter changed the state between the two passes.
    throw stateTypeError('the state changed while it was being encoded');
  }

  /** The bytes, after checking that exactly the computed size was written. */
  finish(): Uint8Array {
    if (this.pos !== this.bytes.length) throw stateTypeError('the state changed while it was being encoded');
    return this.bytes;
  }

  private reserve(length: number): void {
    if (this.pos + length > this.bytes.length) throw stateTypeError('the state changed while it was being encoded');
  }
}

/** msgpack bytes of a State; a TypeError (or RangeError) names `name` and the bad path. */
export function encodeState(value: unknown, name = 'state'): Uint8Array {
  assertState(value, name);
  const writer = new MsgpackWriter(stateSize(value));
  writer.state(value);
  return writer.finish();
}
