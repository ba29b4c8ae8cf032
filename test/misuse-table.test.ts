// One error model: every misuse of a public entry point throws (or rejects
// with) an error of a known class, with a stable `code` (README, "Error
// codes"), whose message names the argument, field or file at fault. Each
// row is [entry point: misuse, call, class, code, culprit]; the call may
// throw or return a promise that rejects.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArraySource,
  ArrowSource,
  Column,
  ColumnSource,
  CheckpointClosedError,
  CheckpointCorruptError,
  CheckpointExistsError,
  CheckpointLockedError,
  CheckpointNotFoundError,
  CheckpointPartError,
  CheckpointReadError,
  CheckpointWriteError,
  DataLoader,
  IncompatibleStateError,
  indexLines,
  JsonlSource,
  MappedFile,
  NpySource,
  PipelineCheckpoint,
  RecordDecodeError,
  SourceOpenError,
  decodeState,
  encodeState,
  gather,
  hugePageBuffer,
  inspectDirectory,
  random,
} from '../src/index.js';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { npyBytes, writeNpy } from './helpers/npy.js';

type ErrorClass = abstract new (...args: never[]) => Error;
type Row = [name: string, call: () => unknown, cls: ErrorClass, code: string, culprit: RegExp];

const INVALID = 'RP_INVALID_ARGUMENT';
const SOURCE = 'RP_SOURCE_INVALID';
const STATE = 'RP_STATE_INVALID';
const MALFORMED = 'RP_STATE_MALFORMED';

const dir = mkdtempSync(join(tmpdir(), 'rp-misuse-'));
const open: { close(): unknown }[] = [];
afterAll(async () => {
  for (const o of open) await o.close();
  rmSync(dir, { recursive: true, force: true });
});

let fileCounter = 0;
const fresh = (name: string) => join(dir, `${name}-${fileCounter++}`);
const npy = (name: string, data: ArrayBufferView, opts: Parameters<typeof writeNpy>[2]) => writeNpy(fresh(name) + '.npy', data, opts);
const raw = (name: string, bytes: Uint8Array | string) => {
  const path = fresh(name) + '.npy';
  writeFileSync(path, bytes);
  return path;
};
let mappedFile: MappedFile | undefined;
const mapped = () => {
  if (mappedFile === undefined) {
    const path = fresh('mapped') + '.bin';
    writeFileSync(path, new Uint8Array(16));
    mappedFile = MappedFile.open(path);
  }
  return mappedFile;
};
const quote = (path: string) => new RegExp(path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

function detached(): Uint32Array {
  const a = new Uint32Array(4);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

const key = random.key(1);
const records = { length: 10, get: (i: number) => i };
const columns = () => new ArraySource({ x: { data: new Float64Array(1000 * 8), shape: [1000, 8] } });
/** A loader that is closed when the file's tests end. */
function loader(options: Record<string, unknown> = {}, source: unknown = records): DataLoader {
  const l = new DataLoader(source as never, { batchSize: 2, ...options } as never);
  open.push(l);
  return l;
}
function closedLoader(): DataLoader {
  const l = loader();
  l.close();
  return l;
}
/** Calls f while a nextAsync() is pending, then lets the pending call finish. */
function whilePending(f: (l: DataLoader) => unknown): () => Promise<unknown> {
  return async () => {
    const l = loader({ prefetch: 0 });
    const pending = l.nextAsync();
    try {
      return f(l);
    } finally {
      await pending;
    }
  };
}
const state = (fields: Record<string, unknown> = {}, fingerprint: Record<string, unknown> = {}) => ({
  version: 1,
  epoch: 0,
  position: 0,
  ...fields,
  fingerprint: { n: 10, seed: 0, batchSize: 2, shuffle: true, dropRemainder: false, ...fingerprint },
});
const pipeline = (value: unknown = { a: 1 }) => ({ getState: () => value as never, setState: () => {} });
function checkpoint(name = 'ckpt'): { cp: PipelineCheckpoint; dir: string } {
  const d = fresh(name);
  const cp = new PipelineCheckpoint(d);
  open.push(cp);
  return { cp, dir: d };
}

/** A checkpoint whose directory was replaced by a regular file after it was opened. */
function goneDirectory(): { cp: PipelineCheckpoint; dir: string } {
  const made = checkpoint('gone');
  rmSync(made.dir, { recursive: true });
  writeFileSync(made.dir, 'a file where the directory was');
  return made;
}

/** A checkpoint whose step_1.msgpack is a symlink to itself (opening it fails with ELOOP). */
function unreadableStep(): { cp: PipelineCheckpoint; dir: string } {
  const made = checkpoint('loop');
  symlinkSync('step_1.msgpack', join(made.dir, 'step_1.msgpack'));
  return made;
}

// Directories with steps, made before the table runs.
let saved: { cp: PipelineCheckpoint; dir: string };
let parts: { cp: PipelineCheckpoint; dir: string };
let corrupt: { cp: PipelineCheckpoint; dir: string };
let lockedDir = "";
beforeAll(async () => {
  saved = checkpoint('saved');
  await saved.cp.save(pipeline(), { step: 5 });
  parts = checkpoint('parts');
  await parts.cp.save({ loader: pipeline({ not: 'a loader state' }), model: pipeline() }, { step: 1 });
  corrupt = checkpoint('corrupt');
  mkdirSync(corrupt.dir, { recursive: true });
  writeFileSync(join(corrupt.dir, 'step_3.msgpack'), 'not msgpack');
  lockedDir = fresh('locked');
  const holder = new PipelineCheckpoint(lockedDir);
  open.push(holder);
  await holder.save(pipeline(), { step: 1 }); // holds the directory's lock until closed
});

const rows: Row[] = [
  // random.*
  ['random.key: string seed', () => random.key('1' as never), TypeError, INVALID, /seed/],
  ['random.key: negative seed', () => random.key(-1), RangeError, INVALID, /seed/],
  ['random.key: fractional seed', () => random.key(1.5), RangeError, INVALID, /seed/],
  ['random.key: bigint seed >= 2^64', () => random.key(2n ** 64n), RangeError, INVALID, /seed/],
  ['random.split: not a key', () => random.split({} as never), TypeError, INVALID, /key/],
  ['random.split: num 0', () => random.split(key, 0), RangeError, INVALID, /num/],
  ['random.split: num a string', () => random.split(key, '2' as never), TypeError, INVALID, /num/],
  ['random.foldIn: negative data', () => random.foldIn(key, -1), RangeError, INVALID, /data/],
  ['random.foldIn: data undefined', () => random.foldIn(key, undefined as never), TypeError, INVALID, /data/],
  ['random.bits: negative count', () => random.bits(key, -1), RangeError, INVALID, /count/],
  ['random.bits: no key', () => random.bits(undefined as never, 1), TypeError, INVALID, /key/],
  ['random.keyData: null', () => random.keyData(null as never), TypeError, INVALID, /key/],
  ['random.wrapKeyData: 3 words', () => random.wrapKeyData(new Uint32Array(3)), TypeError, INVALID, /data/],
  ['random.threefry2x32: counter of 3 words', () => random.threefry2x32(key, new Uint32Array(3)), TypeError, INVALID, /counter/],
  ['random.permutationIndex: n 0', () => random.permutationIndex(key, 0, 0), RangeError, INVALID, /\bn\b/],
  ['random.permutationIndex: i = n', () => random.permutationIndex(key, 10, 10), RangeError, INVALID, /\bi\b/],
  ['random.permutationIndices: Float32Array out', () => random.permutationIndices(key, 10, 0, new Float32Array(2) as never), TypeError, INVALID, /out/],
  ['random.permutationIndices: out past n', () => random.permutationIndices(key, 10, 8, new Uint32Array(5)), RangeError, INVALID, /out/],
  ['random.permutationIndices: detached out', () => random.permutationIndices(key, 10, 0, detached()), TypeError, 'RP_BUFFER_DETACHED', /out/],
  ['random.permutation: negative n', () => random.permutation(key, -1), RangeError, INVALID, /\bn\b/],
  ['random.permutation: out of the wrong length', () => random.permutation(key, 5, new Uint32Array(4)), RangeError, INVALID, /out/],

  // gather
  ['gather: a DataView source', () => gather(new DataView(new ArrayBuffer(8)) as never, 1, new Uint32Array(1)), TypeError, INVALID, /source/],
  ['gather: rowLength 0', () => gather(new Float32Array(8), 0, new Uint32Array(1)), RangeError, INVALID, /rowLength/],
  ['gather: source not whole rows', () => gather(new Float32Array(9), 4, new Uint32Array(1)), RangeError, INVALID, /rowLength/],
  ['gather: Int32Array indices', () => gather(new Float32Array(8), 4, new Int32Array(1) as never), TypeError, INVALID, /indices/],
  ['gather: out of another kind', () => gather(new Float32Array(8), 4, new Uint32Array(1), new Float64Array(4) as never), TypeError, INVALID, /out/],
  ['gather: out too short', () => gather(new Float32Array(8), 4, new Uint32Array(2), new Float32Array(4)), RangeError, INVALID, /out/],
  ['gather: index past the last row', () => gather(new Float32Array(8), 4, new Uint32Array([0, 7])), RangeError, INVALID, /indices\[1\]/],
  ['gather: detached source', () => gather(detached(), 1, new Uint32Array(1), new Uint32Array(1)), TypeError, 'RP_BUFFER_DETACHED', /source/],
  [
    'gather: out overlapping indices',
    () => {
      const shared = new Uint32Array(8);
      return gather(new Uint32Array(16), 1, shared.subarray(0, 4), shared.subarray(2, 6));
    },
    RangeError,
    'RP_BUFFER_OVERLAP',
    /out/,
  ],

  // hugePageBuffer
  ['hugePageBuffer: negative byteLength', () => hugePageBuffer(-1), RangeError, INVALID, /byteLength/],
  ['hugePageBuffer: fractional byteLength', () => hugePageBuffer(1.5), RangeError, INVALID, /byteLength/],
  ['hugePageBuffer: string byteLength', () => hugePageBuffer('8' as never), TypeError, INVALID, /byteLength/],

  // ArraySource
  ['ArraySource: null columns', () => new ArraySource(null as never), TypeError, INVALID, /columns/],
  ['ArraySource: no columns', () => new ArraySource({}), RangeError, INVALID, /columns/],
  ['ArraySource: a column that is a number', () => new ArraySource({ x: 5 } as never), TypeError, INVALID, /columns\.x/],
  ['ArraySource: data a plain array', () => new ArraySource({ x: { data: [1, 2], shape: [2] } } as never), TypeError, INVALID, /columns\.x\.data/],
  ['ArraySource: empty shape', () => new ArraySource({ x: { data: new Float32Array(2), shape: [] } }), TypeError, INVALID, /columns\.x\.shape/],
  ['ArraySource: negative dimension', () => new ArraySource({ x: { data: new Float32Array(2), shape: [2, -1] } }), RangeError, INVALID, /columns\.x\.shape\[1\]/],
  ['ArraySource: 0 records', () => new ArraySource({ x: { data: new Float32Array(0), shape: [0] } }), RangeError, INVALID, /columns\.x\.shape/],
  ['ArraySource: shape and data disagree', () => new ArraySource({ x: { data: new Float32Array(5), shape: [2, 2] } }), RangeError, INVALID, /columns\.x/],
  [
    'ArraySource: columns of different lengths',
    () => new ArraySource({ x: { data: new Float32Array(2), shape: [2] }, y: { data: new Float32Array(3), shape: [3] } }),
    RangeError,
    INVALID,
    /columns\.y/,
  ],
  ['ArraySource: reserved column name', () => new ArraySource({ indices: { data: new Float32Array(2), shape: [2] } }), TypeError, INVALID, /indices/],
  [
    'ArraySource: resizable buffer',
    () => new ArraySource({ x: { data: new Float32Array(new (ArrayBuffer as new (n: number, o: object) => ArrayBuffer)(8, { maxByteLength: 16 })), shape: [2] } }),
    TypeError,
    'RP_BUFFER_RESIZABLE',
    /columns\.x\.data/,
  ],

  ['ArraySource: ragged offsets of the wrong type', () => new ArraySource({ t: { values: new Uint8Array(4), offsets: new Float64Array(2) as never } }), TypeError, INVALID, /column "t": offsets/],
  ['ArraySource: ragged offsets decreasing', () => new ArraySource({ t: { values: new Uint8Array(4), offsets: Int32Array.of(0, 3, 2) } }), RangeError, SOURCE, /column "t": offsets\[2\]/],
  ['ArraySource: ragged offsets past the values', () => new ArraySource({ t: { values: new Uint8Array(4), offsets: BigInt64Array.of(0n, 5n) } }), RangeError, SOURCE, /column "t": offsets\[1\]/],
  ['ArraySource: a pad length of 0', () => new ArraySource({ t: { values: new Uint8Array(4), offsets: Int32Array.of(0, 4), pad: { length: 0 } } }), RangeError, INVALID, /column "t": pad\.length/],

  // The source contract: MappedFile, Column, ColumnSource (issue 11)
  ['MappedFile.open: a missing file', () => MappedFile.open(join(dir, 'nope.bin')), SourceOpenError, 'RP_SOURCE_OPEN_FAILED', /nope\.bin/],
  ['MappedFile.open: not a string', () => MappedFile.open(3 as never), TypeError, INVALID, /path/],
  ['MappedFile#bytes: past the end', () => mapped().bytes(0, 100), RangeError, INVALID, /past the end of .*mapped/],
  ['MappedFile#region: misaligned', () => mapped().region(1, 2, 'int32'), RangeError, INVALID, /offset 1 .* not aligned/],
  ['MappedFile#region: an unknown dtype', () => mapped().region(0, 2, 'float16' as never), TypeError, INVALID, /dtype/],
  ['Column.fixed: not whole rows', () => Column.fixed('x', new Float32Array(5), { rowShape: [2] }), RangeError, INVALID, /column "x"/],
  ['Column.fixed: a reserved name', () => Column.fixed('epoch', new Float32Array(2)), TypeError, INVALID, /"epoch"/],
  ['Column.ragged: both offsets and starts', () => Column.ragged('t', { values: new Uint8Array(2), offsets: Int32Array.of(0, 2), starts: Int32Array.of(0) } as never), TypeError, INVALID, /column "t" needs either offsets/],
  ['Column.ragged: an end before its start', () => Column.ragged('t', { values: new Uint8Array(2), starts: Int32Array.of(2), ends: Int32Array.of(1) }), RangeError, SOURCE, /column "t": ends\[0\]/],
  ['Column.chunked: parts that differ', () => Column.chunked('c', [Column.fixed('a', new Int32Array(2)), Column.fixed('b', new Float32Array(2))] as never), TypeError, INVALID, /column "c": parts\[1\]/],
  ['ColumnSource: columns of different lengths', () => new ColumnSource([Column.fixed('a', new Int32Array(2)), Column.fixed('b', new Int32Array(3))]), RangeError, SOURCE, /column "b" has 3 records but column "a" has 2/],
  ['ColumnSource: two columns of one name', () => new ColumnSource([Column.fixed('a', new Int32Array(2)), Column.fixed('a', new Int32Array(2))]), RangeError, INVALID, /"a"/],
  ['ColumnSource: not a Column', () => new ColumnSource([{ name: 'a' }] as never), TypeError, INVALID, /columns\[0\]/],
  [
    'DataLoader#next: ragged offsets changed under the loader',
    () => {
      const offsets = Int32Array.of(0, 2, 4);
      const loader = new DataLoader(new ArraySource({ t: { values: new Uint8Array(4), offsets } }), { batchSize: 2, prefetch: 0 });
      offsets[1] = 9;
      return loader.next();
    },
    RangeError,
    SOURCE,
    /column "t": row 0 spans/,
  ],

  // NpySource.open and its array()
  ['NpySource.open: a number', () => NpySource.open(42 as never), TypeError, INVALID, /paths/],
  ['NpySource.open: no columns', () => NpySource.open({}), RangeError, INVALID, /paths/],
  ['NpySource.open: empty path', () => NpySource.open({ x: '' }), TypeError, INVALID, /paths\.x/],
  ['NpySource.open: reserved column name', () => NpySource.open({ epoch: 'e.npy' }), TypeError, INVALID, /epoch/],
  ...((): Row[] => {
    const missing = join(dir, 'missing.npy');
    const notNpy = raw('text', 'hello, world, not an npy file at all');
    const truncated = raw('truncated', npyBytes(new Float32Array(12), { descr: '<f4', shape: [3, 4] }).subarray(0, 100));
    const fortran = npy('fortran', new Float32Array(6), { descr: '<f4', shape: [3, 2], fortranOrder: true });
    const bigEndian = npy('big-endian', new Float32Array(3), { descr: '>f4', shape: [3] });
    const float16 = npy('float16', new Uint16Array(4), { descr: '<f2', shape: [4] });
    const structured = npy('structured', new Float32Array(2), { descr: '<f4', shape: [2], headerText: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }" });
    const unparsable = npy('unparsable', new Float32Array(2), { descr: '<f4', shape: [2], headerText: "{'descr': '<f4', 'fortran_order': Nope, 'shape': (2,), }" });
    const empty = npy('empty', new Float32Array(0), { descr: '<f4', shape: [0, 3] });
    const scalar = npy('scalar', new Float32Array(1), { descr: '<f4', shape: [] });
    const version4 = raw('version4', npyBytes(new Float32Array(2), { descr: '<f4', shape: [2] }).map((b, i) => (i === 6 ? 4 : b)));
    const three = npy('three', new Float32Array(3), { descr: '<f4', shape: [3] });
    const four = npy('four', new Float32Array(4), { descr: '<f4', shape: [4] });
    return [
      ['NpySource.open: missing file', () => NpySource.open(missing), SourceOpenError, 'RP_SOURCE_OPEN_FAILED', quote(missing)],
      ['NpySource.open: a directory', () => NpySource.open(dir), SourceOpenError, 'RP_SOURCE_OPEN_FAILED', quote(dir)],
      ['NpySource.open: not an .npy file', () => NpySource.open(notNpy), RangeError, SOURCE, quote(notNpy)],
      ['NpySource.open: truncated data', () => NpySource.open(truncated), RangeError, SOURCE, quote(truncated)],
      ['NpySource.open: Fortran order', () => NpySource.open({ x: fortran }), RangeError, SOURCE, quote(fortran)],
      ['NpySource.open: big-endian dtype', () => NpySource.open(bigEndian), RangeError, SOURCE, quote(bigEndian)],
      ['NpySource.open: float16 dtype', () => NpySource.open(float16), RangeError, SOURCE, quote(float16)],
      ['NpySource.open: structured dtype', () => NpySource.open(structured), RangeError, SOURCE, quote(structured)],
      ['NpySource.open: unparsable header', () => NpySource.open(unparsable), RangeError, SOURCE, quote(unparsable)],
      ['NpySource.open: 0 records', () => NpySource.open(empty), RangeError, SOURCE, quote(empty)],
      ['NpySource.open: 0-d array', () => NpySource.open(scalar), RangeError, SOURCE, quote(scalar)],
      ['NpySource.open: format version 4', () => NpySource.open(version4), RangeError, SOURCE, quote(version4)],
      ['NpySource.open: files of different lengths', () => NpySource.open({ a: three, b: four }), RangeError, SOURCE, quote(four)],
      ['NpySource#array: unknown column', () => NpySource.open(three).array('nope'), RangeError, INVALID, /nope/],
    ];
  })(),

  // ArrowSource.open, JsonlSource.open, indexLines (issue 11)
  ['ArrowSource.open: a number', () => ArrowSource.open(42 as never), TypeError, INVALID, /\bpath\b/],
  ['ArrowSource.open: columns not an array', () => ArrowSource.open('x.arrow', { columns: 'a' as never }), TypeError, INVALID, /options\.columns/],
  ['JsonlSource.open: a number', () => JsonlSource.open(42 as never), TypeError, INVALID, /\bpath\b/],
  ['JsonlSource.open: parse a string', () => JsonlSource.open('x.jsonl', { parse: 'yes' as never }), TypeError, INVALID, /options\.parse/],
  ['indexLines: not a MappedFile', () => indexLines({} as never), TypeError, INVALID, /\bfile\b/],
  ...((): Row[] => {
    const missingArrow = join(dir, 'missing.arrow');
    const notArrow = raw('not-arrow', 'hello, world, not an Arrow file');
    const arrow = fresh('table') + '.arrow';
    writeFileSync(arrow, tableToIPC(tableFromArrays({ a: Int32Array.of(1, 2, 3) }), 'file'));
    const stream = fresh('stream') + '.arrow';
    const streamBytes = tableToIPC(tableFromArrays({ a: Int32Array.of(1, 2, 3) }), 'stream');
    writeFileSync(stream, streamBytes.subarray(0, streamBytes.length - 16)); // cut inside the record batch's body
    const missingJsonl = join(dir, 'missing.jsonl');
    const blank = raw('blank', '\n  \r\n\n');
    const malformed = raw('malformed', '{"a": 1}\n\n{"a": 2');
    return [
      ['ArrowSource.open: missing file', () => ArrowSource.open(missingArrow), SourceOpenError, 'RP_SOURCE_OPEN_FAILED', quote(missingArrow)],
      ['ArrowSource.open: not an Arrow file', () => ArrowSource.open(notArrow), RangeError, SOURCE, quote(notArrow)],
      ['ArrowSource.open: a truncated stream', () => ArrowSource.open(stream), RangeError, SOURCE, quote(stream)],
      ['ArrowSource.open: unknown column', () => ArrowSource.open(arrow, { columns: ['nope'] }), RangeError, INVALID, /"nope"/],
      ['JsonlSource.open: missing file', () => JsonlSource.open(missingJsonl), SourceOpenError, 'RP_SOURCE_OPEN_FAILED', quote(missingJsonl)],
      ['JsonlSource.open: only blank lines', () => JsonlSource.open(blank), RangeError, SOURCE, quote(blank)],
      ['JsonlSource#lineNumber: past the end', () => JsonlSource.open(malformed).lineNumber(2), RangeError, INVALID, /\bindex\b/],
      ['DataLoader#next: a malformed JSON line', () => loader({ batchSize: 2, shuffle: false }, JsonlSource.open(malformed)).next(), RecordDecodeError, 'RP_RECORD_INVALID', /line 3/],
    ];
  })(),

  // DataLoader constructor
  ['DataLoader: an array as source', () => new DataLoader([1, 2] as never, { batchSize: 1 }), TypeError, INVALID, /source/],
  ['DataLoader: empty record source', () => new DataLoader({ length: 0, get: () => 0 }, { batchSize: 1 }), RangeError, INVALID, /source\.length/],
  ['DataLoader: no options', () => new DataLoader(records, undefined as never), TypeError, INVALID, /options/],
  ['DataLoader: no batchSize', () => new DataLoader(records, {} as never), TypeError, INVALID, /options\.batchSize/],
  ['DataLoader: batchSize 0', () => loader({ batchSize: 0 }), RangeError, INVALID, /options\.batchSize/],
  ['DataLoader: misspelt option', () => loader({ batchsize: 2 }), TypeError, INVALID, /options\.batchsize/],
  ['DataLoader: shuffle a string', () => loader({ shuffle: 'yes' }), TypeError, INVALID, /options\.shuffle/],
  ['DataLoader: negative seed', () => loader({ seed: -1 }), RangeError, INVALID, /options\.seed/],
  ['DataLoader: seed a string', () => loader({ seed: 'x' }), TypeError, INVALID, /options\.seed/],
  ['DataLoader: numEpochs 0', () => loader({ numEpochs: 0 }), RangeError, INVALID, /options\.numEpochs/],
  ['DataLoader: shardIndex = shardCount', () => loader({ shardCount: 2, shardIndex: 2 }), RangeError, INVALID, /options\.shardIndex/],
  ['DataLoader: negative prefetch', () => loader({ prefetch: -1 }), RangeError, INVALID, /options\.prefetch/],
  ['DataLoader: map not a function', () => loader({ map: 5 }), TypeError, INVALID, /options\.map/],
  ['DataLoader: dropRemainder with no whole batch', () => loader({ batchSize: 11, dropRemainder: true }), RangeError, INVALID, /options\.batchSize/],

  // DataLoader methods
  ['DataLoader#next: closed', () => closedLoader().next(), Error, 'RP_LOADER_CLOSED', /DataLoader is closed/],
  ['DataLoader#nextAsync: closed', () => closedLoader().nextAsync(), Error, 'RP_LOADER_CLOSED', /DataLoader is closed/],
  ['DataLoader#setState: closed', () => closedLoader().setState(state()), Error, 'RP_LOADER_CLOSED', /DataLoader is closed/],
  ['DataLoader#recycle: closed', () => closedLoader().recycle({ indices: new Uint32Array(1) }), Error, 'RP_LOADER_CLOSED', /DataLoader is closed/],
  ['DataLoader#next: nextAsync pending', whilePending((l) => l.next()), Error, 'RP_LOADER_BUSY', /nextAsync/],
  ['DataLoader#setState: nextAsync pending', whilePending((l) => l.setState(state())), Error, 'RP_LOADER_BUSY', /setState/],
  ['DataLoader#setState: a number', () => loader().setState(5), TypeError, INVALID, /state/],
  ['DataLoader#setState: another version', () => loader().setState(state({ version: 2 })), IncompatibleStateError, 'RP_INCOMPATIBLE_STATE', /state\.version/],
  ['DataLoader#setState: fingerprint not an object', () => loader().setState({ ...state(), fingerprint: 1 }), TypeError, INVALID, /state\.fingerprint/],
  ['DataLoader#setState: fingerprint.shuffle a string', () => loader().setState(state({}, { shuffle: 'x' })), TypeError, INVALID, /state\.fingerprint\.shuffle/],
  ['DataLoader#setState: another seed', () => loader().setState(state({}, { seed: 7 })), IncompatibleStateError, 'RP_INCOMPATIBLE_STATE', /seed/],
  ['DataLoader#setState: negative epoch', () => loader().setState(state({ epoch: -1 })), RangeError, INVALID, /state\.epoch/],
  ['DataLoader#setState: position past n', () => loader().setState(state({ position: 10 })), RangeError, INVALID, /state\.position/],
  ['DataLoader#recycle: not a batch', () => loader().recycle({} as never), TypeError, INVALID, /batch/],
  [
    'DataLoader#recycle: a batch of another loader',
    () => {
      const batch = loader({ batchSize: 100 }, columns()).next().value as { indices: Uint32Array };
      loader({ batchSize: 100 }, columns()).recycle(batch);
    },
    TypeError,
    INVALID,
    /batch/,
  ],
  [
    'DataLoader#recycle: twice',
    () => {
      const l = loader({ batchSize: 100 }, columns());
      const batch = l.next().value as { indices: Uint32Array };
      l.recycle(batch);
      l.recycle(batch);
    },
    TypeError,
    'RP_BUFFER_DETACHED',
    /batch/,
  ],

  // PipelineCheckpoint
  ['PipelineCheckpoint: empty directory', () => new PipelineCheckpoint(''), TypeError, INVALID, /directory/],
  ['PipelineCheckpoint: keep 0', () => new PipelineCheckpoint(fresh('k'), { keep: 0 }), RangeError, INVALID, /options\.keep/],
  ['PipelineCheckpoint: keepEvery a string', () => new PipelineCheckpoint(fresh('k'), { keepEvery: '2' as never }), TypeError, INVALID, /options\.keepEvery/],
  ['PipelineCheckpoint: misspelt option', () => new PipelineCheckpoint(fresh('k'), { kep: 1 } as never), TypeError, INVALID, /options\.kep/],
  ['PipelineCheckpoint#save: no options', () => checkpoint().cp.save(pipeline(), undefined as never), TypeError, INVALID, /options/],
  ['PipelineCheckpoint#save: not a pipeline', () => checkpoint().cp.save({} as never, { step: 1 }), TypeError, INVALID, /pipeline/],
  ['PipelineCheckpoint#save: negative step', () => checkpoint().cp.save(pipeline(), { step: -1 }), RangeError, INVALID, /options\.step/],
  ['PipelineCheckpoint#save: keep 0', () => checkpoint().cp.save(pipeline(), { step: 1, keep: 0 }), RangeError, INVALID, /options\.keep/],
  ['PipelineCheckpoint#save: overwrite a string', () => checkpoint().cp.save(pipeline(), { step: 1, overwrite: 'y' as never }), TypeError, INVALID, /options\.overwrite/],
  ['PipelineCheckpoint#save: undefined in the state', () => checkpoint().cp.save(pipeline({ a: undefined }), { step: 1 }), TypeError, STATE, /state\.a/],
  ['PipelineCheckpoint#save: a Map in the state', () => checkpoint().cp.save(pipeline({ m: new Map() }), { step: 1 }), TypeError, STATE, /state\.m/],
  [
    'PipelineCheckpoint#save: a cycle in the state',
    () => {
      const value: Record<string, unknown> = {};
      value['self'] = value;
      return checkpoint().cp.save(pipeline(value), { step: 1 });
    },
    TypeError,
    STATE,
    /state\.self/,
  ],
  ['PipelineCheckpoint#save: a function in metadata', () => checkpoint().cp.save(pipeline(), { step: 1, metadata: { f: (() => 1) as never } }), TypeError, STATE, /metadata\.f/],
  ['PipelineCheckpoint#save: an older step', () => saved.cp.save(pipeline(), { step: 4 }), CheckpointExistsError, 'RP_CHECKPOINT_EXISTS', /step_5\.msgpack/],
  ['PipelineCheckpoint#save: directory locked', () => new PipelineCheckpoint(lockedDir).save(pipeline(), { step: 2 }), CheckpointLockedError, 'RP_CHECKPOINT_LOCKED', quote(lockedDir)],
  [
    'PipelineCheckpoint#save: directory gone',
    () => {
      const { cp, dir: d } = checkpoint('gone');
      rmSync(d, { recursive: true });
      writeFileSync(d, 'a file where the directory was');
      return cp.save(pipeline(), { step: 1 });
    },
    CheckpointWriteError,
    'RP_CHECKPOINT_WRITE_FAILED',
    /step_1\.msgpack/,
  ],
  [
    'PipelineCheckpoint#save: closed',
    async () => {
      const { cp } = checkpoint();
      await cp.close();
      return cp.save(pipeline(), { step: 1 });
    },
    CheckpointClosedError,
    'RP_CHECKPOINT_CLOSED',
    /PipelineCheckpoint for .*ckpt/,
  ],
  ['PipelineCheckpoint#restore: not a pipeline', () => saved.cp.restore({} as never, 5), TypeError, INVALID, /pipeline/],
  ['PipelineCheckpoint#restore: negative step', () => saved.cp.restore(pipeline(), -1), RangeError, INVALID, /\bstep\b/],
  ['PipelineCheckpoint#restore: missing step', () => saved.cp.restore(pipeline(), 99), CheckpointNotFoundError, 'RP_CHECKPOINT_NOT_FOUND', /step_99\.msgpack/],
  ['PipelineCheckpoint#restore: corrupt step', () => corrupt.cp.restore(pipeline(), 3), CheckpointCorruptError, 'RP_CHECKPOINT_CORRUPT', /step_3\.msgpack/],
  ['PipelineCheckpoint#restore: a state the loader refuses', () => saved.cp.restore(loader(), 5), IncompatibleStateError, 'RP_INCOMPATIBLE_STATE', /state\.version/],
  ['PipelineCheckpoint#restoreLatest: not a pipeline', () => saved.cp.restoreLatest(null as never), TypeError, INVALID, /pipeline/],
  ['PipelineCheckpoint#restoreLatest: every step corrupt', () => corrupt.cp.restoreLatest(pipeline()), CheckpointCorruptError, 'RP_CHECKPOINT_CORRUPT', /step_3\.msgpack/],
  ['PipelineCheckpoint#metadata: fractional step', () => saved.cp.metadata(1.5), RangeError, INVALID, /\bstep\b/],
  ['PipelineCheckpoint#metadata: missing step', () => saved.cp.metadata(404), CheckpointNotFoundError, 'RP_CHECKPOINT_NOT_FOUND', /step_404\.msgpack/],
  ['PipelineCheckpoint#delete: step a string', () => saved.cp.delete('5' as never), TypeError, INVALID, /\bstep\b/],
  [
    'PipelineCheckpoint#delete: closed',
    async () => {
      const { cp } = checkpoint();
      await cp.close();
      return cp.delete(1);
    },
    CheckpointClosedError,
    'RP_CHECKPOINT_CLOSED',
    /PipelineCheckpoint for .*ckpt/,
  ],
  // Named parts, keepBest, restoreBest, saveOnSignal (issue 15)
  ['PipelineCheckpoint: keepBest without a metric', () => new PipelineCheckpoint(fresh('k'), { keepBest: { mode: 'min', count: 1 } as never }), TypeError, INVALID, /options\.keepBest\.metric/],
  ['PipelineCheckpoint: keepBest mode "lowest"', () => new PipelineCheckpoint(fresh('k'), { keepBest: { metric: 'loss', mode: 'lowest' as never, count: 1 } }), TypeError, INVALID, /options\.keepBest\.mode/],
  ['PipelineCheckpoint: keepBest count 0', () => new PipelineCheckpoint(fresh('k'), { keepBest: { metric: 'loss', mode: 'min', count: 0 } }), RangeError, INVALID, /options\.keepBest\.count/],
  ['PipelineCheckpoint#save: keepBest misspelt', () => checkpoint().cp.save(pipeline(), { step: 1, keepBest: { metric: 'loss', mode: 'min', cnt: 1 } as never }), TypeError, INVALID, /options\.keepBest\.cnt/],
  ['PipelineCheckpoint#save: a part without getState', () => checkpoint().cp.save({ model: pipeline(), optimizer: {} as never }, { step: 1 }), TypeError, INVALID, /parts\.optimizer/],
  ['PipelineCheckpoint#save: a Date in a part', () => checkpoint().cp.save({ model: pipeline({ at: new Date() }) }, { step: 1 }), TypeError, STATE, /parts\.model\.at/],
  ['PipelineCheckpoint#restore: parts from a one-object step', () => saved.cp.restore({ model: pipeline() }, 5), CheckpointPartError, 'RP_CHECKPOINT_PART', /step_5\.msgpack/],
  ['PipelineCheckpoint#restore: a part the loader refuses', () => parts.cp.restore({ loader: loader(), model: pipeline() }, 1), CheckpointPartError, 'RP_CHECKPOINT_PART', /part "loader"/],
  ['PipelineCheckpoint#restore: a part missing from the step', () => parts.cp.restore({ model: pipeline(), ema: pipeline() }, 1), CheckpointPartError, 'RP_CHECKPOINT_PART', /no part "ema"/],
  ['PipelineCheckpoint#restore: parts into one object', () => parts.cp.restore(pipeline(), 1), CheckpointPartError, 'RP_CHECKPOINT_PART', /holds the parts "loader", "model"/],
  ['PipelineCheckpoint#restoreBest: no metric anywhere', () => saved.cp.restoreBest(pipeline()), TypeError, INVALID, /restoreBest needs/],
  ['PipelineCheckpoint#restoreBest: mode a number', () => saved.cp.restoreBest(pipeline(), { metric: 'loss', mode: 1 as never }), TypeError, INVALID, /by\.mode/],
  ['PipelineCheckpoint#saveOnSignal: no step()', () => checkpoint().cp.saveOnSignal(pipeline(), {} as never), TypeError, INVALID, /options\.step/],
  ['PipelineCheckpoint#saveOnSignal: SIGKILL', () => checkpoint().cp.saveOnSignal(pipeline(), { step: () => 1, signals: ['SIGKILL'] }), RangeError, INVALID, /options\.signals\[0\]/],
  ['PipelineCheckpoint#saveOnSignal: a part without getState', () => checkpoint().cp.saveOnSignal({ model: 1 } as never, { step: () => 1 }), TypeError, INVALID, /parts\.model/],
  [
    'PipelineCheckpoint#saveOnSignal: closed',
    async () => {
      const { cp } = checkpoint();
      await cp.close();
      return cp.saveOnSignal(pipeline(), { step: () => 1 });
    },
    CheckpointClosedError,
    'RP_CHECKPOINT_CLOSED',
    /PipelineCheckpoint for .*ckpt/,
  ],
  ['inspectDirectory: empty directory', () => inspectDirectory(''), TypeError, INVALID, /directory/],

  // The file system outside a save: Node's error is the `cause`, never thrown bare.
  [
    'PipelineCheckpoint: a file where a parent directory should be',
    () => {
      const file = fresh('not-a-dir');
      writeFileSync(file, '');
      return new PipelineCheckpoint(join(file, 'ckpt'));
    },
    CheckpointWriteError,
    'RP_CHECKPOINT_WRITE_FAILED',
    /could not create checkpoint directory .*not-a-dir-\d+\/ckpt: ENOTDIR/,
  ],
  ['PipelineCheckpoint#steps: directory gone', () => goneDirectory().cp.steps(), CheckpointReadError, 'RP_CHECKPOINT_READ_FAILED', /gone-\d+: ENOTDIR/],
  ['PipelineCheckpoint#latestStep: directory gone', () => goneDirectory().cp.latestStep(), CheckpointReadError, 'RP_CHECKPOINT_READ_FAILED', /gone-\d+: ENOTDIR/],
  ['PipelineCheckpoint#restoreLatest: directory gone', () => goneDirectory().cp.restoreLatest(pipeline()), CheckpointReadError, 'RP_CHECKPOINT_READ_FAILED', /gone-\d+: ENOTDIR/],
  ['PipelineCheckpoint#restore: unreadable step file', () => unreadableStep().cp.restore(pipeline(), 1), CheckpointReadError, 'RP_CHECKPOINT_READ_FAILED', /loop-\d+\/step_1\.msgpack: ELOOP/],
  ['PipelineCheckpoint#metadata: unreadable step file', () => unreadableStep().cp.metadata(1), CheckpointReadError, 'RP_CHECKPOINT_READ_FAILED', /loop-\d+\/step_1\.msgpack: ELOOP/],
  ['PipelineCheckpoint#restoreLatest: unreadable step file', () => unreadableStep().cp.restoreLatest(pipeline()), CheckpointReadError, 'RP_CHECKPOINT_READ_FAILED', /loop-\d+\/step_1\.msgpack: ELOOP/],
  ['inspectDirectory: missing directory', () => inspectDirectory(join(dir, 'no-such-dir')), CheckpointReadError, 'RP_CHECKPOINT_READ_FAILED', /no-such-dir: ENOENT/],
  ['inspectDirectory: unreadable step file', () => inspectDirectory(unreadableStep().dir), CheckpointReadError, 'RP_CHECKPOINT_READ_FAILED', /loop-\d+\/step_1\.msgpack: ELOOP/],

  // encodeState / decodeState
  ['encodeState: undefined', () => encodeState(undefined), TypeError, STATE, /^state is undefined/],
  ['encodeState: a hole in an array', () => encodeState({ a: [1, undefined] }), TypeError, STATE, /state\.a\[1\]/],
  ['encodeState: a function, named', () => encodeState({ f: () => 1 }, 'meta'), TypeError, STATE, /meta\.f/],
  ['encodeState: a lone surrogate', () => encodeState({ s: '\uD800' }), TypeError, STATE, /state\.s/],
  ['encodeState: a __proto__ key', () => encodeState(JSON.parse('{"__proto__": 1}')), TypeError, STATE, /state\.__proto__/],
  [
    'encodeState: nested too deep',
    () => {
      let deep: unknown = 0;
      for (let i = 0; i < 600; i++) deep = [deep];
      return encodeState(deep);
    },
    RangeError,
    STATE,
    /^state(\[0\])+ is nested deeper/,
  ],
  ['decodeState: a string', () => decodeState('x' as never), TypeError, INVALID, /bytes/],
  ['decodeState: a reserved byte', () => decodeState(new Uint8Array([0xc1])), RangeError, MALFORMED, /^state: .*at byte 0/],
  ['decodeState: a truncated array', () => decodeState(new Uint8Array([0x92, 0x01])), RangeError, MALFORMED, /^state: an array of 2 items needs/],
  ['decodeState: trailing bytes', () => decodeState(new Uint8Array([0x01, 0x02])), RangeError, MALFORMED, /^state: 1 extra bytes/],
  ['decodeState: an unknown dtype', () => decodeState(new Uint8Array([0x81, 0xa1, 0x61, 0xd4, 0x01, 0x63])), RangeError, MALFORMED, /^state\.a: .*dtype code 99/],
  ['decodeState: a negative-zero bigint', () => decodeState(new Uint8Array([0xd4, 0x02, 0x01])), RangeError, MALFORMED, /^state: .*negative zero/],
];

/** What is wrong with err for row (empty when nothing is). */
function problems(err: unknown, [, , cls, code, culprit]: Row): string[] {
  if (!(err instanceof Error)) return [`expected a thrown Error, got ${String(err)}`];
  const out: string[] = [];
  // The exact class: a RangeError where a TypeError is promised is a change.
  if (!(err instanceof cls) || Object.getPrototypeOf(err) !== cls.prototype) out.push(`class ${err.constructor.name}, expected ${cls.name}`);
  const actual = (err as { code?: unknown }).code;
  if (actual !== code) out.push(`code ${String(actual)}, expected ${code}`);
  if (!culprit.test(err.message)) out.push(`message ${JSON.stringify(err.message)} does not match ${culprit}`);
  return out;
}

async function caught(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('misuse table: class, code and culprit of every public error', () => {
  it('has a row for every public entry point', () => {
    expect(rows.length).toBeGreaterThanOrEqual(60);
    const entryPoints = [
      'random.key', 'random.split', 'random.foldIn', 'random.bits', 'random.keyData', 'random.wrapKeyData',
      'random.threefry2x32', 'random.permutationIndex', 'random.permutationIndices', 'random.permutation',
      'gather', 'hugePageBuffer', 'ArraySource', 'NpySource.open', 'NpySource#array', 'DataLoader',
      'DataLoader#next', 'DataLoader#nextAsync', 'DataLoader#setState', 'DataLoader#recycle',
      'PipelineCheckpoint', 'PipelineCheckpoint#save', 'PipelineCheckpoint#restore', 'PipelineCheckpoint#restoreLatest',
      'PipelineCheckpoint#metadata', 'PipelineCheckpoint#delete', 'PipelineCheckpoint#steps', 'PipelineCheckpoint#latestStep',
      'inspectDirectory', 'encodeState', 'decodeState',
      'MappedFile.open', 'MappedFile#bytes', 'MappedFile#region', 'Column.fixed', 'Column.ragged', 'Column.chunked', 'ColumnSource',
    ];
    const covered = new Set(rows.map(([name]) => name.slice(0, name.indexOf(':'))));
    expect(entryPoints.filter((e) => !covered.has(e))).toEqual([]);
  });

  it('the checker fails an error without a code, of another class, or not naming the culprit', () => {
    const row: Row = ['x', () => undefined, TypeError, INVALID, /options\.batchSize/];
    expect(problems(new TypeError('options.batchSize must be a number'), row)).toHaveLength(1); // no code
    expect(problems(Object.assign(new RangeError('options.batchSize must be a number'), { code: INVALID }), row)).toHaveLength(1);
    expect(problems(Object.assign(new TypeError('must be a number'), { code: INVALID }), row)).toHaveLength(1);
    expect(problems(Object.assign(new TypeError('options.batchSize must be a number'), { code: INVALID }), row)).toEqual([]);
    expect(problems(undefined, row)).toHaveLength(1); // nothing thrown
  });

  it.each(rows)('%s', async (...row) => {
    const err = await caught(row[1]);
    expect(problems(err, row), err instanceof Error ? err.stack : String(err)).toEqual([]);
  });
});
