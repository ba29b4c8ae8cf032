// Gather against the memory-bandwidth floor (a large memcpy, in this process)
// and against a straightforward JS loop doing the same copy.
import { randomInt } from 'node:crypto';
import { gather } from '../src/index.js';
import { median, type Row, timeRuns } from './harness.js';

export interface GatherOptions {
  sourceBytes: number;
  batchRows: number;
  repeats: number;
}

/** GB/s of a memcpy of the whole source, counting read + write bytes. */
export function memcpyFloor(source: Uint8Array, repeats: number): number {
  const dest = new Uint8Array(source.length);
  const ms = median(timeRuns(() => dest.set(source), repeats));
  return (2 * source.length) / (ms * 1e6);
}

function jsLoopGather(source: Uint8Array, rowBytes: number, indices: Uint32Array, out: Uint8Array): void {
  for (let j = 0; j < indices.length; j++) {
    const r = indices[j]!;
    out.set(source.subarray(r * rowBytes, r * rowBytes + rowBytes), j * rowBytes);
  }
}

export function gatherBench({ sourceBytes, batchRows, repeats }: GatherOptions): Row[] {
  const source = new Uint8Array(sourceBytes);
  for (let i = 0; i < source.length; i += 4096) source[i] = i & 0xff; // touch every page
  const floor = memcpyFloor(source, repeats);
  const rows: Row[] = [{ figure: `memcpy floor (${sourceBytes >> 20} MiB)`, value: floor, unit: 'GB/s' }];
  for (const rowBytes of [64, 256, 1024, 4096]) {
    const sourceRows = Math.floor(sourceBytes / rowBytes);
    const indices = Uint32Array.from({ length: batchRows }, () => randomInt(sourceRows));
    const out = new Uint8Array(batchRows * rowBytes);
    const bytes = 2 * out.length;
    const native = bytes / (median(timeRuns(() => gather(source, rowBytes, indices, out), repeats)) * 1e6);
    const js = bytes / (median(timeRuns(() => jsLoopGather(source, rowBytes, indices, out), repeats)) * 1e6);
    const floorTarget = rowBytes >= 1024 ? 0.7 : rowBytes === 256 ? 0.5 : undefined;
    rows.push({
      figure: `gather ${rowBytes} B rows × ${batchRows}`,
      value: native,
      unit: 'GB/s',
      ratio: native / floor,
      baseline: 'memcpy floor',
      ...(floorTarget === undefined ? {} : { target: `≥ ${floorTarget}×`, met: native / floor >= floorTarget }),
    });
    rows.push({
      figure: `gather ${rowBytes} B rows vs JS loop`,
      value: js,
      unit: 'GB/s (JS loop)',
      ratio: native / js,
      baseline: 'JS TypedArray.set loop',
      target: '≥ 5×',
      met: native / js >= 5,
    });
  }
  return rows;
}
