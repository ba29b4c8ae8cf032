// Writes .npy files the way numpy.save does (header padded with spaces to a
// multiple of 64 bytes, ending in '\n'), with knobs to make broken ones.
import { writeFileSync } from 'node:fs';

export interface NpyOptions {
  descr: string;
  shape: readonly number[];
  fortranOrder?: boolean;
  version?: 1 | 2 | 3;
  /** Total preamble + header size is padded to a multiple of this (numpy: 64). */
  align?: number;
  /** Replaces the header dict text entirely. */
  headerText?: string;
}

export function npyBytes(data: ArrayBufferView, opts: NpyOptions): Uint8Array {
  const version = opts.version ?? 1;
  const shape = opts.shape.length === 1 ? `(${opts.shape[0]},)` : `(${opts.shape.join(', ')})`;
  let dict =
    opts.headerText ?? `{'descr': '${opts.descr}', 'fortran_order': ${opts.fortranOrder ? 'True' : 'False'}, 'shape': ${shape}, }`;
  const preamble = version === 1 ? 10 : 12;
  const align = opts.align ?? 64;
  const total = Math.ceil((preamble + dict.length + 1) / align) * align;
  dict = dict.padEnd(total - preamble - 1, ' ') + '\n';
  const header = new TextEncoder().encode(dict);
  const out = new Uint8Array(preamble + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(header, preamble);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), preamble + header.length);
  return out;
}

export function writeNpy(path: string, data: ArrayBufferView, opts: NpyOptions): string {
  writeFileSync(path, npyBytes(data, opts));
  return path;
}
