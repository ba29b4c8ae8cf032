// NpySource: every supported dtype and header version, maps of files, files
// over 4 GiB, and clear errors (naming the file) for everything it rejects.
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataLoader, NpySource } from '../src/index.js';
import { npyBytes, writeNpy } from './helpers/npy.js';

const dir = mkdtempSync(join(tmpdir(), 'rp-npy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const file = (name = 'a') => join(dir, `${name}-${counter++}.npy`);

const DTYPES = [
  ['|b1', Uint8Array, 'uint8'],
  ['|i1', Int8Array, 'int8'],
  ['|u1', Uint8Array, 'uint8'],
  ['<i2', Int16Array, 'int16'],
  ['<u2', Uint16Array, 'uint16'],
  ['<i4', Int32Array, 'int32'],
  ['<u4', Uint32Array, 'uint32'],
  ['<i8', BigInt64Array, 'int64'],
  ['<u8', BigUint64Array, 'uint64'],
  ['<f4', Float32Array, 'float32'],
  ['<f8', Float64Array, 'float64'],
  ['=f8', Float64Array, 'float64'],
] as const;

describe('NpySource', () => {
  it.each(DTYPES)('reads %s into batches, for header versions 1, 2 and 3', (descr, Type, dtype) => {
    for (const version of [1, 2, 3] as const) {
      const n = 23;
      const data = new Type(n * 6);
      for (let i = 0; i < data.length; i++) {
        (data as unknown as { [i: number]: number | bigint })[i] = Type === BigInt64Array || Type === BigUint64Array ? BigInt(i * 3) : descr === '|b1' ? i % 2 : i % 120;
      }
      const path = writeNpy(file(), data, { descr, shape: [n, 2, 3], version });
      const source = NpySource.open(path);
      expect(source.length).toBe(n);
      expect(source.columns).toEqual([{ name: 'data', path, dtype, descr, kind: 'fixed', rowShape: [2, 3], hugePages: 'none' }]);
      expect(Array.from(source.array() as ArrayLike<unknown>)).toEqual(Array.from(data as ArrayLike<unknown>));
      const loader = new DataLoader(source, { batchSize: 5, seed: version });
      let rows = 0;
      for (const batch of loader) {
        expect(batch.data).toBeInstanceOf(Type);
        expect(batch.data.length).toBe(batch.indices.length * 6);
        batch.indices.forEach((r, j) => {
          expect(Array.from(batch.data.subarray(j * 6, j * 6 + 6) as ArrayLike<unknown>)).toEqual(
            Array.from(data.subarray(r * 6, r * 6 + 6) as ArrayLike<unknown>),
          );
        });
        rows += batch.indices.length;
      }
      expect(rows).toBe(n);
    }
  });

  it('maps named files as columns and checks their record counts agree', () => {
    const x = Float32Array.from({ length: 40 }, (_, i) => i / 2);
    const y = Int32Array.from({ length: 10 }, (_, i) => -i);
    const px = writeNpy(file('x'), x, { descr: '<f4', shape: [10, 4] });
    const py = writeNpy(file('y'), y, { descr: '<i4', shape: [10] });
    const source = NpySource.open<{ x: Float32Array; y: Int32Array }>({ x: px, y: py });
    expect(source.columns.map((c) => [c.name, c.dtype, c.rowShape])).toEqual([
      ['x', 'float32', [4]],
      ['y', 'int32', []],
    ]);
    expect(Array.from(source.array('y') as Int32Array)).toEqual(Array.from(y));
    const [batch] = [...new DataLoader(source, { batchSize: 10, shuffle: false })];
    expect(Array.from(batch!.x)).toEqual(Array.from(x));
    expect(Array.from(batch!.y)).toEqual(Array.from(y));
    const pz = writeNpy(file('z'), new Uint8Array(11), { descr: '|u1', shape: [11] });
    expect(() => NpySource.open({ x: px, z: pz })).toThrow(new RangeError(`${pz} has 11 records but ${px} has 10; every column needs the same count`));
    expect(() => source.array('nope')).toThrow(/name "nope" is not a column of this source/);
  });

  it('gives views that can be written without touching the file (copy-on-write)', () => {
    const data = Uint8Array.from({ length: 100 }, (_, i) => i);
    const path = writeNpy(file(), data, { descr: '|u1', shape: [100] });
    const source = NpySource.open<Uint8Array>(path);
    const view = source.array() as Uint8Array;
    view.fill(7); // must neither crash (read-only pages) nor change the file
    expect(Array.from(NpySource.open(path).array() as Uint8Array)).toEqual(Array.from(data));
    const [batch] = [...new DataLoader(source, { batchSize: 100, shuffle: false })];
    expect(Array.from(batch!.data)).toEqual(Array.from(data));
  });

  it('accepts Fortran order where it does not change the layout', () => {
    const data = Float64Array.from({ length: 8 }, (_, i) => i);
    const one = writeNpy(file(), data, { descr: '<f8', shape: [8], fortranOrder: true });
    expect(Array.from(NpySource.open(one).array() as Float64Array)).toEqual(Array.from(data));
    const column = writeNpy(file(), data, { descr: '<f8', shape: [8, 1], fortranOrder: true });
    expect(NpySource.open(column).columns[0]!.rowShape).toEqual([1]);
  });

  it('reads a file larger than 4 GiB through the read-only mapping', () => {
    // A sparse 5 GiB file: rows are zero except the ones written below.
    const n = 5 * 2 ** 27; // float64 rows: 5 GiB of data
    const path = file('big');
    const header = npyBytes(new Uint8Array(0), { descr: '<f8', shape: [n] });
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, header);
      ftruncateSync(fd, header.length + n * 8);
      const marks = [n - 1, n - 2, n - 3, 2 ** 29 + 5];
      for (const r of marks) writeSync(fd, new Float64Array([r + 0.5]), 0, 8, header.length + r * 8);
    } finally {
      closeSync(fd);
    }
    const source = NpySource.open<Float64Array>(path);
    expect(source.length).toBe(n);
    expect(() => source.array()).toThrow(/more than a 4 GiB view can show/);
    const loader = new DataLoader(source, { batchSize: 3, shuffle: false });
    loader.setState({ version: 1, epoch: 0, position: n - 3, fingerprint: { n, seed: 0, batchSize: 3, shuffle: false, dropRemainder: false } });
    expect(Array.from(loader.next().value!.data)).toEqual([n - 3 + 0.5, n - 2 + 0.5, n - 1 + 0.5]);
    loader.setState({ version: 1, epoch: 0, position: 2 ** 29 + 4, fingerprint: { n, seed: 0, batchSize: 3, shuffle: false, dropRemainder: false } });
    expect(Array.from(loader.next().value!.data)).toEqual([0, 2 ** 29 + 5.5, 0]);
    loader.close();
    rmSync(path);
  });

  describe('errors name the file', () => {
    const f32 = new Float32Array(12);
    const cases: Array<[string, () => string, RegExp]> = [
      ['a missing file', () => join(dir, 'missing.npy'), /cannot open \.npy file .*missing\.npy: cannot map .*missing\.npy: No such file or directory/],
      ['a directory', () => (mkdirSync(join(dir, `d${counter}.npy`)), join(dir, `d${counter++}.npy`)), /cannot open \.npy file .*: cannot map .*: Is a directory/],
      ['an empty file', () => write(new Uint8Array(0)), /is not an \.npy file \(no \\x93NUMPY magic, file too short\)/],
      ['bad magic', () => write(new TextEncoder().encode('PK\x03\x04 this is a zip file')), /is not an \.npy file \(no \\x93NUMPY magic\)/],
      ['format version 4', () => write(patch(npyBytes(f32, { descr: '<f4', shape: [12] }), 6, 4)), /\.npy format version 4\.0 is not supported \(1\.0, 2\.0 and 3\.0 are\)/],
      ['a truncated header', () => write(npyBytes(f32, { descr: '<f4', shape: [12] }).subarray(0, 40)), /is truncated: the \.npy header is incomplete/],
      ['truncated data', () => write(npyBytes(f32, { descr: '<f4', shape: [12] }).subarray(0, -1)), /is truncated: shape \(12\) of '<f4' needs 48 bytes of data, the file has 47/],
      ['float16', () => write(npyBytes(new Uint16Array(4), { descr: '<f2', shape: [4] })), /dtype '<f2' is not supported \(unsupported kind or size; supported: '\|b1', /],
      ['complex64', () => write(npyBytes(f32, { descr: '<c8', shape: [6] })), /dtype '<c8' is not supported/],
      ['unicode strings', () => write(npyBytes(f32, { descr: '<U3', shape: [4] })), /dtype '<U3' is not supported/],
      ['objects', () => write(npyBytes(f32, { descr: '|O', shape: [6] })), /dtype '\|O' is not supported \(not a simple numeric dtype/],
      ['big-endian floats', () => write(npyBytes(f32, { descr: '>f4', shape: [12] })), /dtype '>f4' is not supported \(big-endian/],
      ['datetimes', () => write(npyBytes(f32, { descr: '<M8[ns]', shape: [6] })), /dtype '<M8\[ns\]' is not supported/],
      ['a structured dtype', () => write(npyBytes(f32, { descr: '', shape: [6], headerText: "{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (6,), }" })), /structured dtypes are not supported/],
      ['Fortran order', () => write(npyBytes(f32, { descr: '<f4', shape: [3, 4], fortranOrder: true })), /is in Fortran order; save it C-contiguous/],
      ['a 0-d array', () => write(npyBytes(new Float32Array(1), { descr: '<f4', shape: [], headerText: "{'descr': '<f4', 'fortran_order': False, 'shape': (), }" })), /holds a 0-d array/],
      ['no records', () => write(npyBytes(new Float32Array(0), { descr: '<f4', shape: [0, 3] })), /is empty \(0 records\)/],
      ['empty rows', () => write(npyBytes(new Float32Array(0), { descr: '<f4', shape: [3, 0] })), /has shape \(3, 0\): rows must not be empty/],
      ['an unparseable header', () => write(npyBytes(f32, { descr: '<f4', shape: [12], headerText: "{'descr': '<f4', 'fortran_order': Nope, 'shape': (12,)}" })), /cannot parse the \.npy header .*unexpected/],
      ['a header without shape', () => write(npyBytes(f32, { descr: '<f4', shape: [12], headerText: "{'descr': '<f4', 'fortran_order': False}" })), /has no 'shape' tuple of integers/],
      ['misaligned data', () => write(npyBytes(new Float64Array(4), { descr: '<f8', shape: [4], align: 1, headerText: "{'descr': '<f8', 'fortran_order': False, 'shape': (4,)}" })), /data starts at byte \d+, not aligned to its 8-byte elements/],
    ];
    it.each(cases)('rejects %s', (_label, make, message) => {
      const path = make();
      let error: Error | undefined;
      try {
        NpySource.open(path);
      } catch (err) {
        error = err as Error;
      }
      expect(error?.message).toMatch(message);
      expect(error?.message).toContain(path);
    });

    it('rejects bad arguments', () => {
      expect(() => NpySource.open(5 as never)).toThrow(new TypeError('paths must be a file path or an object of column name → path, got number 5'));
      expect(() => NpySource.open({})).toThrow(new RangeError('paths must name at least one column'));
      expect(() => NpySource.open({ x: '' })).toThrow(new TypeError('paths.x must be a non-empty string, got string ""'));
      expect(() => NpySource.open({ epoch: 'a.npy' })).toThrow(/"epoch" cannot be a column name/);
    });
  });
});

function write(bytes: Uint8Array): string {
  const path = file('bad');
  writeFileSync(path, bytes);
  return path;
}

function patch(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = value;
  return copy;
}
