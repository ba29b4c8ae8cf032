// Test cases for the DataLoader as plain JSON (so a child process can rebuild
// the same loader), the sources they describe, and a byte serialisation of
// batches for exact comparisons.
import { join } from 'node:path';
import { ArraySource, DataLoader, type MapContext, NpySource, random } from '../../src/index.js';
import { writeNpy } from './npy.js';
import type { OrderConfig } from './loader-oracle.js';

export type SourceKind = 'array' | 'npy' | 'records';

export interface LoaderCase extends OrderConfig {
  source: SourceKind;
  shardIndex: number;
  prefetch: number;
  /** 'noise' adds random.bits(ctx.key, rows) to every batch through map(). */
  map: 'none' | 'noise';
  dataSeed: number;
}

export interface CaseData {
  x: Float32Array; // rowShape [3]
  y: Uint8Array; // rowShape []
  z: BigInt64Array; // rowShape [2]
}

export function caseData(n: number, dataSeed: number): CaseData {
  const x = new Float32Array(n * 3);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761 + dataSeed) % 100003) / 7;
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) y[i] = (i * 31 + dataSeed) & 0xff;
  const z = new BigInt64Array(n * 2);
  for (let i = 0; i < z.length; i++) z[i] = BigInt(i) * 0x100000001n - BigInt(dataSeed);
  return { x, y, z };
}

/** The source a case reads; 'npy' writes its files under dir first (unless they exist). */
export function caseSource(c: LoaderCase, dir?: string, write = true): ArraySource | NpySource | { length: number; get(i: number): unknown } {
  switch (c.source) {
    case 'array': {
      const d = caseData(c.n, c.dataSeed);
      return new ArraySource({
        x: { data: d.x, shape: [c.n, 3] },
        y: { data: d.y, shape: [c.n] },
        z: { data: d.z, shape: [c.n, 2] },
      });
    }
    case 'npy': {
      if (dir === undefined) throw new Error('npy cases need a directory');
      const paths = { x: join(dir, `x-${c.n}-${c.dataSeed}.npy`), y: join(dir, `y-${c.n}-${c.dataSeed}.npy`) };
      if (write) {
        const d = caseData(c.n, c.dataSeed);
        writeNpy(paths.x, d.x, { descr: '<f4', shape: [c.n, 3] });
        writeNpy(paths.y, d.y, { descr: '|u1', shape: [c.n], version: 2 });
      }
      return NpySource.open(paths);
    }
    case 'records':
      return { length: c.n, get: (i: number) => ({ id: i, tag: `r${i}-${c.dataSeed}` }) };
  }
}

function noise(batch: unknown, ctx: MapContext): unknown {
  return { batch, noise: random.bits(ctx.key, ctx.indices.length + 1), epoch: ctx.epoch };
}

export function caseLoader(c: LoaderCase, dir?: string, write = true): DataLoader<any, unknown> {
  return new DataLoader(caseSource(c, dir, write), {
    batchSize: c.batchSize,
    shuffle: c.shuffle,
    seed: c.seed,
    numEpochs: c.numEpochs,
    dropRemainder: c.dropRemainder,
    shardIndex: c.shardIndex,
    shardCount: c.shardCount,
    prefetch: c.prefetch,
    ...(c.map === 'noise' ? { map: noise } : {}),
  });
}

const enc = new TextEncoder();

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Bytes of a batch: epoch, rows, indices, then each column's bytes in name
 * order (or the records as JSON), then map noise if any.
 */
export function serializeBatch(value: unknown): Buffer {
  const parts: Uint8Array[] = [];
  let batch = value as Record<string, unknown>;
  let extra: Uint32Array | undefined;
  if (batch !== null && typeof batch === 'object' && 'noise' in batch) {
    extra = batch.noise as Uint32Array;
    batch = batch.batch as Record<string, unknown>;
  }
  const indices = batch.indices as Uint32Array;
  parts.push(enc.encode(`e${batch.epoch as number}r${indices.length}:`), bytesOf(indices));
  if (Array.isArray(batch)) {
    parts.push(enc.encode(JSON.stringify(batch)));
  } else {
    for (const name of Object.keys(batch).filter((k) => k !== 'epoch' && k !== 'indices').sort()) {
      parts.push(enc.encode(`|${name}:`), bytesOf(batch[name] as ArrayBufferView));
    }
  }
  if (extra !== undefined) parts.push(enc.encode('|noise:'), bytesOf(extra));
  return Buffer.concat(parts);
}

/** The serialisation of the batch a case should give for these records (independent of the loader). */
export function expectedBytes(c: LoaderCase, epoch: number, indices: number[], key?: random.Key): Buffer {
  const idx = Uint32Array.from(indices);
  let batch: Record<string, unknown>;
  if (c.source === 'records') {
    const records: unknown[] = indices.map((i) => ({ id: i, tag: `r${i}-${c.dataSeed}` }));
    batch = records as unknown as Record<string, unknown>;
  } else {
    const d = caseData(c.n, c.dataSeed);
    const pick = <A extends Float32Array | Uint8Array | BigInt64Array>(src: A, rowLength: number, make: (len: number) => A): A => {
      const out = make(indices.length * rowLength);
      indices.forEach((r, j) => {
        for (let e = 0; e < rowLength; e++) out[j * rowLength + e] = src[r * rowLength + e]!;
      });
      return out;
    };
    batch = { x: pick(d.x, 3, (l) => new Float32Array(l)), y: pick(d.y, 1, (l) => new Uint8Array(l)) };
    if (c.source === 'array') batch.z = pick(d.z, 2, (l) => new BigInt64Array(l));
  }
  batch.epoch = epoch;
  batch.indices = idx;
  if (c.map === 'noise') {
    if (key === undefined) throw new Error('a noise case needs the batch key');
    return serializeBatch({ batch, noise: random.bits(key, indices.length + 1) });
  }
  return serializeBatch(batch);
}

/** JSON for a case (a bigint seed becomes "123n"). */
export function caseToJson(c: LoaderCase): string {
  return JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v === Infinity ? 'Infinity' : v));
}

export function caseFromJson(text: string): LoaderCase {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v === 'Infinity') return Infinity;
    if (typeof v === 'string' && /^\d+n$/.test(v)) return BigInt(v.slice(0, -1));
    return v;
  }) as LoaderCase;
}

/** Length-prefixed concatenation of serialised batches. */
export function frames(values: unknown[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) {
    const bytes = serializeBatch(v);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(bytes.length);
    parts.push(len, bytes);
  }
  return Buffer.concat(parts);
}
