// State -> msgpack, written into one exactly-sized buffer: a sizing pass, then
// a writing pass (no growth copies, and a step file's envelope can embed the
// state in place). Our own writer, not @msgpack/msgpack's Encoder: that one
// writes -0 as the integer 0 (here -0 is a float64 and round-trips; no option
// changes it), and it copies a TypedArray's bytes four times on the way into a
// step file, 2-3x slower and several times the memory for a tensor state
// (`npm run bench:codec` measures both). Every other value gets the same
// canonical (smallest) form that encoder uses (a property test compares the bytes).
import { assertState, isTypedArray, type State, type TypedArray } from '../iterator/state.js';
import { bigintMagnitudeLength, dtypeCode, EXT_BIGINT, EXT_TYPED_ARRAY, writeBigInt } from './state-ext.js';
import { stateRangeError, stateTypeError } from '../error-codes.js';

const U32_LIMIT = 2 ** 32;

/**
 * One msgpack header form: lengths (or integers) below `below` use it. Its
 * type byte is `code` followed by a `width`-byte big-endian field; a fix form
 * (width 0) puts the value into the type byte instead.
 */
interface Form {
  below: number;
  code: number;
  width: 0 | 1 | 2 | 4 | 8;
}

// The size thresholds of every msgpack form this encoder writes, stated once:
// the sizing pass and the writing pass both pick from these tables. The
// smallest form that fits is taken, as every canonical msgpack encoder does.
const STR: readonly Form[] = [
  { below: 32, code: 0xa0, width: 0 }, { below: 256, code: 0xd9, width: 1 },
  { below: 65536, code: 0xda, width: 2 }, { below: U32_LIMIT, code: 0xdb, width: 4 },
];
const BIN: readonly Form[] = [
  { below: 256, code: 0xc4, width: 1 }, { below: 65536, code: 0xc5, width: 2 }, { below: U32_LIMIT, code: 0xc6, width: 4 },
];
const ARRAY: readonly Form[] = [
  { below: 16, code: 0x90, width: 0 }, { below: 65536, code: 0xdc, width: 2 }, { below: U32_LIMIT, code: 0xdd, width: 4 },
];
const MAP: readonly Form[] = [
  { below: 16, code: 0x80, width: 0 }, { below: 65536, code: 0xde, width: 2 }, { below: U32_LIMIT, code: 0xdf, width: 4 },
];
/** ext bodies of other lengths; a type byte follows the length. */
const EXT: readonly Form[] = [
  { below: 256, code: 0xc7, width: 1 }, { below: 65536, code: 0xc8, width: 2 }, { below: U32_LIMIT, code: 0xc9, width: 4 },
];
/** fixext: bodies of exactly these lengths need no length field. */
const FIXEXT: ReadonlyMap<number, number> = new Map([[1, 0xd4], [2, 0xd5], [4, 0xd6], [8, 0xd7], [16, 0xd8]]);
/** Non-negative integers (safe integers only: the last form's bound is never reached). */
const UINT: readonly Form[] = [
  { below: 128, code: 0x00, width: 0 }, { below: 256, code: 0xcc, width: 1 }, { below: 65536, code: 0xcd, width: 2 },
  { below: U32_LIMIT, code: 0xce, width: 4 }, { below: Infinity, code: 0xcf, width: 8 },
];
/** Negative integers, by -value - 1 (so -32 is 31: the negative fixint range). */
const NEGATIVE_INT: readonly Form[] = [
  { below: 32, code: 0xe0, width: 0 }, { below: 128, code: 0xd0, width: 1 }, { below: 32768, code: 0xd1, width: 2 },
  { below: 2 ** 31, code: 0xd2, width: 4 }, { below: Infinity, code: 0xd3, width: 8 },
];
const FLOAT64 = 0xcb;

/** The form for n; a RangeError naming `what` if n is too large for msgpack. */
function formFor(forms: readonly Form[], n: number, what: string): Form {
  for (const form of forms) if (n < form.below) return form;
  throw stateRangeError(`${what} of ${n} bytes or items is too large for msgpack (max 2^32 - 1)`);
}

function isInteger(value: number): boolean {
  return Number.isSafeInteger(value) && !Object.is(value, -0);
}

function intForm(value: number): Form {
  return value >= 0 ? formFor(UINT, value, 'an integer') : formFor(NEGATIVE_INT, -value - 1, 'an integer');
}

/** UTF-8 length; short ASCII strings (keys, tags) are counted here, faster than a call into Buffer. */
function utf8Length(text: string): number {
  if (text.length <= SHORT_STRING) {
    let i = 0;
    while (i < text.length && text.charCodeAt(i) < 0x80) i++;
    if (i === text.length) return i;
  }
  return Buffer.byteLength(text, 'utf8');
}

/** Strings up to this many UTF-16 units take the plain-loop path when they are ASCII. */
const SHORT_STRING = 32;

export function numberSize(value: number): number {
  return isInteger(value) ? 1 + intForm(value).width : 9;
}

export function strSize(text: string): number {
  const length = utf8Length(text);
  return 1 + formFor(STR, length, 'a string').width + length;
}

export function binHeaderSize(length: number): number {
  return 1 + formFor(BIN, length, 'a binary').width;
}

function containerHeaderSize(forms: readonly Form[], count: number, what: string): number {
  return 1 + formFor(forms, count, what).width;
}

function extSize(bodyLength: number): number {
  const header = FIXEXT.has(bodyLength) ? 1 : 1 + formFor(EXT, bodyLength, 'an ext').width;
  return header + 1 + bodyLength; // + the ext type byte
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
        let size = containerHeaderSize(ARRAY, value.length, 'an array');
        for (let i = 0; i < value.length; i++) size += stateSize(value[i]!);
        return size;
      }
      const keys = Object.keys(value);
      let size = containerHeaderSize(MAP, keys.length, 'a map');
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

  /** `allocate` gives the zeroed output of `size` bytes (a step file's may come from huge pages). */
  constructor(size: number, allocate: (size: number) => Uint8Array = (n) => new Uint8Array(n)) {
    this.bytes = allocate(size);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  u8(value: number): void {
    this.view.setUint8(this.pos, value);
    this.pos += 1;
  }

  /** A raw big-endian uint32 (no type byte). */
  u32(value: number): void {
    this.view.setUint32(this.pos, value);
    this.pos += 4;
  }

  /** A big-endian field of `width` bytes; negative values in two's complement. */
  private field(value: number, width: Form['width']): void {
    switch (width) {
      case 0: return;
      case 1: this.view.setUint8(this.pos, value & 0xff); break;
      case 2: this.view.setUint16(this.pos, value & 0xffff); break;
      case 4: this.view.setUint32(this.pos, value >>> 0); break;
      case 8:
        this.view.setUint32(this.pos, Math.floor(value / U32_LIMIT) >>> 0);
        this.view.setUint32(this.pos + 4, value >>> 0); // ToUint32 is the low word, also for negatives
        break;
    }
    this.pos += width;
  }

  /** A header of `form`: the fix form carries n in its type byte. */
  private header(form: Form, n: number): void {
    if (form.width === 0) return this.u8((form.code | n) & 0xff);
    this.u8(form.code);
    this.field(n, form.width);
  }

  number(value: number): void {
    if (!isInteger(value)) {
      this.u8(FLOAT64);
      this.view.setFloat64(this.pos, value);
      this.pos += 8;
      return;
    }
    const form = intForm(value);
    // Fixints are the value's own byte (0x00-0x7f, or 0xe0-0xff for -32..-1).
    if (form.width === 0) this.u8(value & 0xff);
    else this.header(form, value);
  }

  str(text: string): void {
    const length = utf8Length(text);
    this.header(formFor(STR, length, 'a string'), length);
    this.reserve(length);
    if (length === text.length && length <= SHORT_STRING) {
      for (let i = 0; i < length; i++) this.bytes[this.pos + i] = text.charCodeAt(i);
      this.pos += length;
    } else {
      this.pos += this.text.write(text, this.pos, length, 'utf8');
    }
  }

  binHeader(length: number): void {
    this.header(formFor(BIN, length, 'a binary'), length);
  }

  private extHeader(type: number, bodyLength: number): void {
    const fixed = FIXEXT.get(bodyLength);
    if (fixed !== undefined) this.u8(fixed);
    else this.header(formFor(EXT, bodyLength, 'an ext'), bodyLength);
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
          this.header(formFor(ARRAY, value.length, 'an array'), value.length);
          for (let i = 0; i < value.length; i++) this.state(value[i]!);
          return;
        }
        if (typeof value === 'object') {
          const keys = Object.keys(value);
          this.header(formFor(MAP, keys.length, 'a map'), keys.length);
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
