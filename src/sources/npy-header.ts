// The .npy header (NEP 1 / numpy.lib.format): magic "\x93NUMPY", a version
// (1.0, 2.0 or 3.0), the header length (uint16 LE in v1, uint32 LE after),
// then a Python dict literal with 'descr', 'fortran_order' and 'shape'.
import type { Dtype } from './source.js';
import { sourceError } from '../error-codes.js';

export interface NpyHeader {
  readonly version: 1 | 2 | 3;
  readonly descr: string;
  readonly dtype: Dtype;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
  /** Where the array data starts. */
  readonly dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** Bytes before the header text, by major version. */
export const NPY_PREAMBLE = { 1: 10, 2: 12, 3: 12 } as const;
/** Enough to read the preamble of any version. */
export const NPY_PREAMBLE_MAX = 12;

/** numpy descr kind+size (little-endian or byte-order-free) → dtype. */
const DESCRS: Readonly<Record<string, Dtype>> = {
  b1: 'uint8', // numpy bool: one byte, 0 or 1
  i1: 'int8',
  u1: 'uint8',
  i2: 'int16',
  u2: 'uint16',
  i4: 'int32',
  u4: 'uint32',
  i8: 'int64',
  u8: 'uint64',
  f4: 'float32',
  f8: 'float64',
};

const SUPPORTED_DESCRS = "'|b1', '|i1', '|u1', '<i2', '<u2', '<i4', '<u4', '<i8', '<u8', '<f4', '<f8'";

/**
 * The header length from the preamble: `{ version, dataOffset }`. Throws a
 * RangeError naming `file` for a bad magic or an unknown version.
 */
export function parseNpyPreamble(bytes: Uint8Array, file: string): { version: 1 | 2 | 3; dataOffset: number } {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw sourceError(`${file} is not an .npy file (no \\x93NUMPY magic${bytes.length < 10 ? ', file too short' : ''})`);
  }
  const major = bytes[6]!;
  if (major !== 1 && major !== 2 && major !== 3) {
    throw sourceError(`${file}: .npy format version ${major}.${bytes[7]} is not supported (1.0, 2.0 and 3.0 are)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major === 1) return { version: 1, dataOffset: NPY_PREAMBLE[1] + view.getUint16(8, true) };
  if (bytes.length < 12) throw sourceError(`${file} is truncated: the .npy preamble is incomplete`);
  return { version: major, dataOffset: NPY_PREAMBLE[major] + view.getUint32(8, true) };
}

/** Parses the whole header (bytes holds at least dataOffset bytes). */
export function parseNpyHeader(bytes: Uint8Array, file: string): NpyHeader {
  const { version, dataOffset } = parseNpyPreamble(bytes, file);
  if (bytes.length < dataOffset) throw sourceError(`${file} is truncated: the .npy header is incomplete`);
  const text = new TextDecoder(version === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(NPY_PREAMBLE[version], dataOffset));
  let dict: Map<string, PyValue>;
  try {
    dict = parsePyDict(text);
  } catch (err) {
    throw sourceError(`${file}: cannot parse the .npy header ${JSON.stringify(text.trim())}: ${(err as Error).message}`);
  }
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (Array.isArray(descr) || (typeof descr === 'object' && descr !== null)) {
    throw sourceError(`${file}: structured dtypes are not supported (supported: ${SUPPORTED_DESCRS})`);
  }
  if (typeof descr !== 'string') throw sourceError(`${file}: the .npy header has no 'descr' string`);
  if (typeof fortran !== 'boolean') throw sourceError(`${file}: the .npy header has no 'fortran_order' boolean`);
  if (!isIntTuple(shape)) throw sourceError(`${file}: the .npy header has no 'shape' tuple of integers`);
  return { version, descr, dtype: dtypeOfDescr(descr, file), fortranOrder: fortran, shape, dataOffset };
}

function dtypeOfDescr(descr: string, file: string): Dtype {
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  const unsupported = (why: string) =>
    sourceError(`${file}: dtype '${descr}' is not supported (${why}; supported: ${SUPPORTED_DESCRS})`);
  if (m === null) throw unsupported('not a simple numeric dtype');
  const [, order, kind, size] = m;
  const dtype = DESCRS[`${kind}${size}`];
  if (dtype === undefined) throw unsupported('unsupported kind or size');
  if (order === '>' && size !== '1') throw unsupported('big-endian');
  return dtype;
}

function isIntTuple(v: PyValue | undefined): v is number[] {
  return Array.isArray(v) && v.every((d) => typeof d === 'number');
}

// --- A small parser for the header's Python literal --------------------------

type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

function parsePyDict(text: string): Map<string, PyValue> {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (c: string) => {
    ws();
    if (text[i] !== c) throw new Error(`expected '${c}' at ${i}`);
    i++;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new Error('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const items: PyValue[] = [];
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          return items;
        }
        items.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) throw new Error(`expected ',' or '${close}' at ${i}`);
      }
    }
    if (c === '{') return dict();
    const m = /^(True|False|None|-?\d+L?)/.exec(text.slice(i));
    if (m === null) throw new Error(`unexpected ${JSON.stringify(text.slice(i, i + 10))} at ${i}`);
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    const n = Number(m[0].replace('L', ''));
    if (!Number.isSafeInteger(n)) throw new Error(`integer ${m[0]} is too large`);
    return n;
  };
  const dict = (): Map<string, PyValue> => {
    expect('{');
    const out = new Map<string, PyValue>();
    for (;;) {
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      const k = value();
      if (typeof k !== 'string') throw new Error('dict keys must be strings');
      expect(':');
      out.set(k, value());
      ws();
      if (text[i] === ',') i++;
      else if (text[i] !== '}') throw new Error(`expected ',' or '}' at ${i}`);
    }
  };
  const result = dict();
  ws();
  if (i !== text.length) throw new Error(`trailing text at ${i}`);
  return result;
}
