// msgpack -> State, with a strict reader of our own (FORMAT.md §3-§4). Where a
// general decoder is lenient, this one refuses, so that whatever decodes is
// exactly what was written and can be saved again unchanged:
// - strings must be valid UTF-8 (a leading BOM is kept, not stripped);
// - integers must be within ±(2^53 - 1) (a bigint travels as ext 2), and are
//   checked exactly, not after rounding;
// - map keys must be strings, unique, and not "__proto__";
// - only ext types 1 and 2; no trailing bytes; nesting and every declared
//   length are bounded by MAX_STATE_DEPTH and by the bytes actually present.
// Errors are RangeErrors naming the path inside the state and the byte offset.
// @msgpack/msgpack's Decoder has no options for these (its UTF-8 is lenient and
// strips a BOM, int64 is rounded or always a bigint, a duplicate key silently
// wins, timestamps become Dates, there is no depth limit, errors carry no path),
// so a check in front of it would be a second msgpack reader; this is the one.
import { MAX_STATE_DEPTH, type State } from '../iterator/state.js';
import { decodeBigInt, decodeTypedArray, EXT_BIGINT, EXT_TYPED_ARRAY } from './state-ext.js';
import { argumentTypeError, malformedStateError } from '../error-codes.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Reader {
  pos = 0;
  private readonly view: DataView;
  /** The path to the value being read, for error messages only. */
  private readonly path: (string | number)[] = [];

  constructor(
    private readonly bytes: Uint8Array,
    /** Give `bin` values as views into bytes (the envelope) instead of copies (a State). */
    private readonly binViews: boolean,
    /** What the document is, for error messages. */
    private readonly root: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(problem: string, at = this.pos): never {
    const where = this.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
    throw malformedStateError(`${this.root}${where}: ${problem} (at byte ${at})`);
  }

  /** Checks that n more bytes exist before anything is allocated for them. */
  private need(n: number, what: string): void {
    const left = this.bytes.length - this.pos;
    if (n > left) this.fail(`${what} needs ${n} more bytes, but only ${left} are left`);
  }

  private u8(): number {
    this.need(1, 'a value');
    return this.bytes[this.pos++]!;
  }

  private u16(): number {
    this.need(2, 'a length');
    const value = this.view.getUint16(this.pos);
    this.pos += 2;
    return value;
  }

  private u32(): number {
    this.need(4, 'a length');
    const value = this.view.getUint32(this.pos);
    this.pos += 4;
    return value;
  }

  /** A fixed-size number: need() first, then one DataView read. */
  private fixed(size: number, what: string, read: (at: number) => number): number {
    this.need(size, what);
    const value = read(this.pos);
    this.pos += size;
    return value;
  }

  /** A 64-bit integer, exact: hi * 2^32 + lo is exact whenever it is safe, and checked before use. */
  private int64(signed: boolean): number {
    const start = this.pos - 1;
    this.need(8, 'an int64');
    const hi = signed ? this.view.getInt32(this.pos) : this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    if (hi > 0x1fffff || hi < -0x200000 || (hi === -0x200000 && lo === 0)) {
      const value = (BigInt(hi) << 32n) | BigInt(lo);
      this.fail(`msgpack integer ${value} is outside the safe range; a bigint must use ext type ${EXT_BIGINT}`, start);
    }
    return hi * 0x100000000 + lo;
  }

  value(depth: number): State {
    const start = this.pos;
    const b = this.u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xa0 && b <= 0xbf) return this.str(b & 0x1f);
    if (b >= 0x90 && b <= 0x9f) return this.array(b & 0x0f, depth);
    if (b >= 0x80 && b <= 0x8f) return this.map(b & 0x0f, depth);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.bin(this.u8());
      case 0xc5: return this.bin(this.u16());
      case 0xc6: return this.bin(this.u32());
      case 0xc7: return this.ext(this.u8());
      case 0xc8: return this.ext(this.u16());
      case 0xc9: return this.ext(this.u32());
      case 0xca: return this.fixed(4, 'a float32', (at) => this.view.getFloat32(at));
      case 0xcb: return this.fixed(8, 'a float64', (at) => this.view.getFloat64(at));
      case 0xcc: return this.u8();
      case 0xcd: return this.u16();
      case 0xce: return this.u32();
      case 0xcf: return this.int64(false);
      case 0xd0: return this.fixed(1, 'an int8', (at) => this.view.getInt8(at));
      case 0xd1: return this.fixed(2, 'an int16', (at) => this.view.getInt16(at));
      case 0xd2: return this.fixed(4, 'an int32', (at) => this.view.getInt32(at));
      case 0xd3: return this.int64(true);
      case 0xd4: return this.ext(1);
      case 0xd5: return this.ext(2);
      case 0xd6: return this.ext(4);
      case 0xd7: return this.ext(8);
      case 0xd8: return this.ext(16);
      case 0xd9: return this.str(this.u8());
      case 0xda: return this.str(this.u16());
      case 0xdb: return this.str(this.u32());
      case 0xdc: return this.array(this.u16(), depth);
      case 0xdd: return this.array(this.u32(), depth);
      case 0xde: return this.map(this.u16(), depth);
      case 0xdf: return this.map(this.u32(), depth);
      default: return this.fail('the byte 0xc1 is never used in msgpack', start);
    }
  }

  private str(length: number): string {
    this.need(length, `a string of ${length} bytes`);
    const start = this.pos;
    const end = start + length;
    this.pos = end;
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (this.bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii && length <= 64) {
      // Short ASCII (keys, tags): a plain loop beats TextDecoder's call overhead.
      let text = '';
      for (let i = start; i < end; i++) text += String.fromCharCode(this.bytes[i]!);
      return text;
    }
    try {
      return utf8.decode(this.bytes.subarray(start, end));
    } catch {
      return this.fail('a string is not valid UTF-8', start);
    }
  }

  private bin(length: number): Uint8Array {
    this.need(length, `a binary of ${length} bytes`);
    const view = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return this.binViews ? view : view.slice();
  }

  private ext(length: number): State {
    const start = this.pos - 1;
    this.need(1, 'an ext type');
    const type = this.view.getInt8(this.pos++);
    this.need(length, `an ext of ${length} bytes`);
    const data = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    try {
      if (type === EXT_TYPED_ARRAY) return decodeTypedArray(data);
      if (type === EXT_BIGINT) return decodeBigInt(data);
    } catch (err) {
      return this.fail((err as Error).message, start);
    }
    return this.fail(`unknown msgpack ext type ${type}`, start);
  }

  private enter(depth: number): void {
    if (depth >= MAX_STATE_DEPTH) this.fail(`nested deeper than ${MAX_STATE_DEPTH} levels`);
  }

  private array(count: number, depth: number): State[] {
    this.enter(depth);
    this.need(count, `an array of ${count} items`); // every item takes at least one byte
    const out = new Array<State>(count);
    for (let i = 0; i < count; i++) {
      this.path.push(i);
      out[i] = this.value(depth + 1);
      this.path.pop();
    }
    return out;
  }

  private map(count: number, depth: number): { [key: string]: State } {
    this.enter(depth);
    this.need(2 * count, `a map of ${count} entries`);
    const out: { [key: string]: State } = {};
    for (let i = 0; i < count; i++) {
      const start = this.pos;
      const b = this.u8();
      let key: string;
      if (b >= 0xa0 && b <= 0xbf) key = this.str(b & 0x1f);
      else if (b === 0xd9) key = this.str(this.u8());
      else if (b === 0xda) key = this.str(this.u16());
      else if (b === 0xdb) key = this.str(this.u32());
      else return this.fail('a map key is not a string', start);
      if (key === '__proto__') this.fail('the map key "__proto__" cannot be part of a State', start);
      if (Object.prototype.hasOwnProperty.call(out, key)) this.fail(`the map key ${JSON.stringify(key)} appears twice`, start);
      this.path.push(key);
      out[key] = this.value(depth + 1);
      this.path.pop();
    }
    return out;
  }
}

/** One complete msgpack document of a State; RangeError on any flaw. */
export function decodeState(bytes: Uint8Array): State {
  if (!(bytes instanceof Uint8Array)) throw argumentTypeError('bytes must be a Uint8Array');
  return readDocument(bytes, false, 'state');
}

/**
 * One complete msgpack document made of State types. With binViews, `bin`
 * values are views into bytes (for the envelope: no copy of the payload).
 */
export function readDocument(bytes: Uint8Array, binViews: boolean, root: string): State {
  const reader = new Reader(bytes, binViews, root);
  const value = reader.value(0);
  if (reader.pos !== bytes.length) reader.fail(`${bytes.length - reader.pos} extra bytes after the document`);
  return value;
}
