// Against the CPU peers, side by side in one run: shuffled batches of 8192 rows
// from a 1 GiB source, 16 B to 4 KiB rows, read + write GB/s, medians of 3.
//  - ours: the default path of bench/loader.ts (a plain Float32Array in an
//    ArraySource, DataLoader with default options, batches dropped);
//  - the memcpy floor of bench/loader.ts;
//  - numpy fancy indexing and pyarrow's take (bench/peers_take.py), each batch
//    a fresh array that is dropped, indices drawn before the clock starts.
// Also our 256 B rows with recycle() (fresh batches should come close) and
// 4 KiB against 1 KiB rows.
// Each round runs a Node child (this file) and a Python child one after the
// other, the first of them alternating: each holds its 1 GiB source alone and
// exits, so the two are never resident together, and a noisy stretch of a
// shared machine falls on both sides alike. Medians over the rounds.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ArraySource, DataLoader } from '../src/index.js';
import { type BenchContext, median, type Row, type Section } from './harness.js';
import { BATCH_ROWS, gbps, memcpyFloor, timeLoader } from './loader.js';

export const ROW_SIZES = [16, 64, 256, 1024, 4096] as const;
const ROUNDS = 3;
/** pyarrow targets from issue 20: ours / pyarrow at these row sizes. */
const TARGETS: Record<number, number> = { 16: 1, 64: 1, 256: 1.1 };

/** Series names, shared with bench/charts.ts's legend. */
export const SERIES = { ours: 'ours, default path', floor: 'memcpy floor', numpy: 'numpy arr[idx]', pyarrow: 'pyarrow take' } as const;

interface PeerFigures {
  numpy: Record<string, number> | null;
  pyarrow: Record<string, number> | null;
  versions: { python: string; numpy: string; pyarrow: string | null };
  missing: string[];
}

const python = (): string => process.env.RP_BENCH_PYTHON ?? 'python3';

const imports = (module: string): boolean => spawnSync(python(), ['-c', `import ${module}`], { encoding: 'utf8' }).status === 0;

/** numpy and pyarrow from the local wheels (pip's configured index) when missing; returns why not, or undefined. */
function ensurePeers(): string | undefined {
  const missing = ['numpy', 'pyarrow'].filter((m) => !imports(m));
  if (missing.length === 0) return undefined;
  const index = spawnSync(python(), ['-m', 'pip', 'config', 'get', 'global.extra-index-url'], { encoding: 'utf8' }).stdout?.trim().split(/\s+/)[0];
  const args = ['-m', 'pip', 'install', '--quiet', ...(index ? ['--index-url', index] : []), ...missing];
  const pip = spawnSync(python(), args, { encoding: 'utf8' });
  const still = missing.filter((m) => !imports(m));
  if (still.length === 0) return undefined;
  return `${python()} cannot import ${still.join(', ')} and "pip install ${still.join(' ')}" failed: ${pip.error?.message ?? pip.stderr.trim().split('\n').pop()} (set RP_BENCH_PYTHON to a Python that has them)`;
}

/** One round of the Python peers: a warm-up round and one timed round per row size. */
function pythonRound(sourceBytes: number, drainBytes: number): PeerFigures | string {
  const r = spawnSync(python(), [join(__dirname, 'peers_take.py'), String(sourceBytes), String(BATCH_ROWS), String(drainBytes), '1', ROW_SIZES.join(',')], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0) return `peers_take.py failed: ${(r.stderr || r.error?.message || '').slice(-300)}`;
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as PeerFigures;
}

/** Batches per timed drain: about `drainBytes` of rows, at least 16 batches (4 KiB rows make 32 MiB batches). */
const batchesFor = (rowBytes: number, drainBytes: number): number => Math.max(16, Math.floor(drainBytes / (BATCH_ROWS * rowBytes)));

interface OurFigures {
  floor: number;
  ours: Record<string, number>;
  /** 256 B rows with recycle(): the default path's own best case. */
  recycled256: number;
}

/**
 * One round of ours, in this process: the floor, then per row size a new
 * loader, its warm-up (as the peers get a warm-up round) and one timed drain;
 * last, 256 B rows again with recycle().
 */
function ourRound(sourceBytes: number, drainBytes: number): OurFigures {
  const data = new Float32Array(sourceBytes / 4).fill(1); // a plain array, as a user has one
  const floor = memcpyFloor(new Uint8Array(data.buffer), new Uint8Array(sourceBytes), 1);
  const time = (rowBytes: number, recycle: boolean): number => {
    const source = new ArraySource({ x: { data, shape: [sourceBytes / rowBytes, rowBytes / 4] } });
    const batches = batchesFor(rowBytes, drainBytes);
    const loader = new DataLoader(source, { batchSize: BATCH_ROWS, numEpochs: Infinity });
    return gbps(batches, rowBytes, timeLoader(loader, rowBytes, batches, 1, recycle));
  };
  const ours: Record<string, number> = {};
  for (const rowBytes of ROW_SIZES) ours[rowBytes] = time(rowBytes, false);
  return { floor, ours, recycled256: time(256, true) };
}

/** ourRound in a child process, which gives its 1 GiB back when it exits. */
function nodeRound(sourceBytes: number, drainBytes: number): OurFigures {
  const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, 'child', String(sourceBytes), String(drainBytes)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`peers: the Node child failed (status ${r.status}, ${r.error?.message ?? ''})`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as OurFigures;
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const sourceBytes = ctx.quick ? 256 << 20 : 1 << 30;
  const drainBytes = ctx.quick ? 64 << 20 : 256 << 20;
  const why = ensurePeers();
  let skip = why !== undefined && !imports('numpy') ? why : undefined;
  if (why !== undefined && skip === undefined) console.log(`\npeers: skipping the pyarrow column: ${why}`);
  const ourRounds: OurFigures[] = [];
  const peerRounds: PeerFigures[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const py = (): void => {
      if (skip !== undefined) return;
      const r = pythonRound(sourceBytes, drainBytes);
      if (typeof r === 'string') skip = r;
      else peerRounds.push(r);
    };
    const node = (): void => void ourRounds.push(nodeRound(sourceBytes, drainBytes));
    for (const side of round % 2 === 0 ? [py, node] : [node, py]) side();
  }
  if (skip !== undefined) console.log(`\npeers: skipping the numpy and pyarrow columns: ${skip}`);
  const peers = skip === undefined ? peerRounds : [];
  const peerMedian = (peer: 'numpy' | 'pyarrow', rowBytes: number): number | undefined => {
    const values = peers.map((p) => p[peer]?.[rowBytes]).filter((v): v is number => v !== undefined);
    return values.length === 0 ? undefined : median(values);
  };
  const floor = median(ourRounds.map((r) => r.floor));
  const v = peers[0]?.versions;
  const versions = v === undefined ? '' : `Python ${v.python}, numpy ${v.numpy}${v.pyarrow ? `, pyarrow ${v.pyarrow}` : ''}`;
  const rows: Row[] = [];
  const table: string[] = [];
  const ourMedian = (rowBytes: number): number => median(ourRounds.map((r) => r.ours[rowBytes]!));
  for (const rowBytes of ROW_SIZES) {
    const ours = ourMedian(rowBytes);
    const np = peerMedian('numpy', rowBytes);
    const pa = peerMedian('pyarrow', rowBytes);
    const target = TARGETS[rowBytes];
    rows.push({
      figure: `${SERIES.ours}, ${rowBytes} B rows × ${BATCH_ROWS}`,
      value: ours,
      unit: 'GB/s',
      ratio: pa === undefined ? undefined : ours / pa,
      baseline: pa === undefined ? undefined : `${SERIES.pyarrow} (${pa.toPrecision(3)} GB/s)`,
      target: target === undefined || pa === undefined ? undefined : `≥ ${target}×`,
      met: target === undefined || pa === undefined ? undefined : ours / pa >= target,
      note: `${(ours / floor).toFixed(2)}× floor${np === undefined ? '' : `; ${(ours / np).toFixed(2)}× numpy`}; ${batchesFor(rowBytes, drainBytes)} batches per drain`,
      chart: { series: SERIES.ours, x: rowBytes },
    });
    if (np !== undefined) rows.push({ figure: `${SERIES.numpy}, ${rowBytes} B rows`, value: np, unit: 'GB/s', note: versions, chart: { series: SERIES.numpy, x: rowBytes } });
    if (pa !== undefined) rows.push({ figure: `${SERIES.pyarrow} (FixedSizeBinary), ${rowBytes} B rows`, value: pa, unit: 'GB/s', note: versions, chart: { series: SERIES.pyarrow, x: rowBytes } });
    const f = (x: number | undefined): string => (x === undefined ? '–' : x.toFixed(2));
    table.push(`| ${rowBytes} B | ${f(ours)} | ${f(np)} | ${f(pa)} | ${pa === undefined ? '–' : `${(ours / pa).toFixed(2)}×`} | ${(ours / floor).toFixed(2)}× |`);
  }
  // Against our own best case, and large rows against 1 KiB (issue 20's targets).
  const recycled = median(ourRounds.map((r) => r.recycled256));
  const fresh = ourMedian(256) / recycled;
  rows.push({ figure: `256 B rows, fresh batches / recycle() (${recycled.toPrecision(3)} GB/s)`, value: fresh, unit: '×', target: '≥ 0.9×', met: fresh >= 0.9 });
  const large = ourMedian(4096) / ourMedian(1024);
  rows.push({ figure: '4 KiB rows / 1 KiB rows (GB/s)', value: large, unit: '×', target: '≥ 1×', met: large >= 1 });
  // The floor does not depend on the row size: one level across the chart.
  rows.push({ figure: `${SERIES.floor}, ${sourceBytes >> 20} MiB plain arrays`, value: floor, unit: 'GB/s', note: 'read + write bytes', chart: { series: SERIES.floor } });
  console.log(`\nSide by side (GB/s, read + write, medians of ${ROUNDS} alternating rounds; ${versions || 'no Python peers'}; memcpy floor ${floor.toFixed(2)} GB/s):\n`);
  console.log('| row size | ours, default path | numpy `arr[idx]` | pyarrow `take` | ours / pyarrow | ours / floor |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const line of table) console.log(line);
  return rows;
}

if (require.main === module && process.argv[2] === 'child') {
  const [sourceBytes, drainBytes] = process.argv.slice(3).map(Number) as [number, number];
  process.stdout.write(`${JSON.stringify(ourRound(sourceBytes, drainBytes))}\n`);
}

export const peersSection: Section = {
  id: 'peers',
  title: 'Against numpy and pyarrow (shuffled batches of 8192 rows from a 1 GiB source; 256 MiB with --quick)',
  run,
};
