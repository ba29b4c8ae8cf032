// Loads the C++ addon through node-gyp-build (local build first, then the
// prebuild for this platform). Loaded on first use, so a missing addon turns
// into one clear error rather than a failed import.
import type { TypedArray } from './typed-arrays.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import nodeGypBuild from 'node-gyp-build';
import { addonError } from './error-codes.js';

/** A read-only mapping of a whole file (binding/mapped_file.cpp). */
export interface NativeMappedFile {
  readonly byteLength: number;
  /** A zero-copy ArrayBuffer over [offset, offset + length) (at most 4 GiB); it keeps the mapping alive. */
  slice(offset: number, length: number): ArrayBuffer;
  /** MADV_HUGEPAGE on the mapping where the kernel allows it for files (never a collapse). */
  adviseHugePages(): HugePageAdvice;
}

/** What huge-page advice achieved (rp::HugePageAdvice). */
export type HugePageAdvice = 'collapsed' | 'advised' | 'none';

/** Memory the core reads in place: a TypedArray, or `bytes` bytes of a mapping from `offset`. */
export type NativeRegion = { data: ArrayBufferView } | { file: NativeMappedFile; offset: number; bytes: number };

/** How the prefetch queue reads one column (binding/prefetch_queue.cpp; src/sources/column.ts makes these). */
export type NativeColumn =
  | { readonly kind: 'fixed'; readonly name: string; readonly data: NativeRegion; readonly rowBytes: number; readonly rows: number }
  | {
      readonly kind: 'ragged';
      /** In error messages. */
      readonly name: string;
      readonly values: NativeRegion;
      readonly elementBytes: number;
      readonly starts: NativeRegion;
      /** Absent: Arrow layout, row i ends where row i+1 starts. */
      readonly ends: NativeRegion | undefined;
      readonly offsets64: boolean;
      readonly rows: number;
      /** The longest row and all rows' elements (sizes the batch memory; never trusted for bounds). */
      readonly maxRow: number;
      readonly totalElements: number;
      /** Padded: elements per row, and the pad value's bytes. */
      readonly padLength: number;
      readonly padBytes: Uint8Array | undefined;
    }
  | {
      /** Rows of the parts one after another (each fixed or ragged, all alike). */
      readonly kind: 'chunked';
      readonly name: string;
      readonly parts: readonly NativeColumn[];
      /** A mixed source's column: record i reads the parts' row rp::Mix::row(i). */
      readonly mix?: NativeMix;
    };

/** A weighted mix of sources (rp::Mix): each source's record count and weight, and the repeat seed. */
export interface NativeMix {
  readonly rows: readonly number[];
  readonly weights: readonly number[];
  readonly seed: bigint;
}

export interface NativePrefetchQueueOptions {
  n: number;
  batchSize: number;
  shardCount: number;
  shardIndex: number;
  dropRemainder: boolean;
  numEpochs: number;
  seed: bigint;
  shuffle: boolean;
  prefetch: number;
  columns: NativeColumn[];
  epoch: number;
  position: number;
}

/** The DataLoader's native half (binding/prefetch_queue.cpp). */
export interface NativePrefetchQueue {
  /** Bytes of one batch's block (what a slab gives each small batch). */
  readonly blockBytes: number;
  /** True: take() copies each (small) batch into `slab` at slabOffset; false: each batch comes as a buffer of its own. */
  readonly slabBlocks: boolean;
  /** Blocks the queue's arena has made (memory reuse shows as a small, stable count). */
  readonly arenaBlocks: number;
  /**
   * The buffer holding the next batch's block (its offset goes to info), or
   * null at the end; blocks until ready. Large batches come as a buffer of
   * their own, whose memory the queue reuses once it is collected or
   * recycled; small ones are copied into slab at slabOffset.
   */
  take(info: Float64Array, slab?: ArrayBuffer, slabOffset?: number): ArrayBuffer | null;
  /** Takes a buffer from take() back at once, detaching it. */
  recycle(buffer: ArrayBuffer): void;
  /** True if take() would not block; otherwise calls callback once when it would. */
  wait(callback: () => void): boolean;
  /** Whether take() would not block; registers no callback (unlike wait). */
  ready(): boolean;
  reset(epoch: number, position: number): void;
  close(): void;
}

/** The slots of the Float64Array that PrefetchQueue.take() fills per batch (binding/prefetch_queue.cpp owns them). */
export interface NativeInfoLayout {
  readonly epoch: number;
  readonly rows: number;
  readonly afterEpoch: number;
  readonly afterPosition: number;
  readonly key0: number;
  readonly key1: number;
  readonly blockOffset: number;
  /**
   * Column c's slots start at columns + perColumn × c; the array needs columns + perColumn × (number of
   * columns) slots. Within them: the byte offset in the block of the column's values (dataOffset), their
   * element count (dataLength), and the byte offset of its Int32 offsets (ragged, rows + 1) or lengths
   * (padded, rows) (auxOffset).
   */
  readonly columns: number;
  readonly perColumn: number;
  readonly dataOffset: number;
  readonly dataLength: number;
  readonly auxOffset: number;
}

/** The loader's limits, owned by the core (rp::BatchSchedule, rp::Prefetcher). */
export interface NativeLimits {
  readonly maxRecords: number;
  readonly maxBatchSize: number;
  readonly maxShards: number;
  readonly maxPrefetch: number;
}

/** The functions binding/ exports; each validates its own arguments. */
export interface NativeBinding {
  readonly infoLayout: NativeInfoLayout;
  readonly limits: NativeLimits;
  /** Results of permutation/gather this large come from reused memory (binding/result_memory.h). */
  readonly pooledResultBytes: number;
  /** Distinct blocks the result pool has made (a diagnostic: reuse shows as a small count). */
  resultBlocks(): number;
  MappedFile: new (path: string) => NativeMappedFile;
  PrefetchQueue: new (options: NativePrefetchQueueOptions) => NativePrefetchQueue;
  threefry2x32(key: Uint32Array, counter: Uint32Array): Uint32Array;
  keyFromSeed(seed: bigint): Uint32Array;
  split(key: Uint32Array, num: number): Uint32Array;
  foldIn(key: Uint32Array, data: number): Uint32Array;
  bits(key: Uint32Array, count: number): Uint32Array;
  permutationIndex(key: Uint32Array, n: number, i: number): number;
  mixInfo(spec: NativeMix): { lengthFirst: number; lengthAll: number; windowBound: number };
  mixLocate(spec: NativeMix, indices: Uint32Array, sources: Uint32Array, rows: Float64Array): void;
  /** state: [row, offset, slot, segment], updated. */
  packConcat(values: TypedArray, offsets: Int32Array, state: Float64Array, length: number, tokens: TypedArray, segmentIds: Int32Array, positions: Int32Array): void;
  /** state: [row, offset, open bins], updated; true when the group is full. */
  packFirstFit(values: TypedArray, offsets: Int32Array, state: Float64Array, length: number, tokens: TypedArray, segmentIds: Int32Array, positions: Int32Array, used: Int32Array, segments: Int32Array): boolean;
  permutationFill(key: Uint32Array, n: number, start: number, out: Uint32Array): void;
  permutation(key: Uint32Array, n: number, out?: Uint32Array): Uint32Array;
  gather<T extends ArrayBufferView>(source: T, rowLength: number, indices: Uint32Array, out?: T): T;
  crc32c(data: Uint8Array, crc?: number): number;
  lockFile(path: string): number;
  unlockFile(fd: number): void;
  writeFileDurable(dir: string, name: string, tempName: string, data: Uint8Array, prune?: string[]): Promise<{ name: string; reason: string }[]>;
  removeFiles(dir: string, names: string[]): Promise<{ name: string; reason: string }[]>;
  syncDirectory(dir: string): Promise<void>;
  hugePageBuffer(byteLength: number): ArrayBuffer;
  adviseHugePages(view: ArrayBufferView, collapse: boolean): HugePageAdvice;
  /**
   * Checks a ragged column's offsets in one pass (rp::check_ragged): Arrow
   * layout (ends undefined: rows + 1 entries, never decreasing) or starts/ends
   * (rows entries each, start <= end), all within [0, values]. Returns the
   * longest row and the total elements; throws RangeError RP_SOURCE_INVALID
   * naming the offending entry.
   */
  checkRaggedOffsets(starts: NativeRegion, ends: NativeRegion | undefined, offsets64: boolean, rows: number, values: number): { maxRow: number; total: number };
  /**
   * The n + 1 byte offsets of a JSON Lines file's n records (rp::index_lines): record i is
   * [offsets[i], offsets[i + 1]), with its line ending and the blank lines after it; with
   * withEnds, also where each record's own bytes end (before "\n" or "\r\n").
   */
  indexLines(file: NativeMappedFile, withEnds: boolean): { offsets: BigInt64Array; ends?: BigInt64Array };
  /** The 1-based line holding byte `offset` of the file, blank lines counted. */
  lineNumberAt(file: NativeMappedFile, offset: number): number;
}

const PACKAGE_NAME = 'resumable-pipeline';

/** The package root: the nearest folder above this file whose package.json is ours. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME) {
          return dir;
        }
      } catch {
        // An unreadable package.json is not ours; keep walking up.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw addonError(`${PACKAGE_NAME}: cannot find the package root above ${__dirname}`);
    dir = parent;
  }
}

let binding: NativeBinding | undefined;

export function native(): NativeBinding {
  binding ??= load(packageRoot());
  return binding;
}

/** node-gyp-build takes the first addon it finds: build/Release, build/Debug, then the prebuild. */
function load(root: string): NativeBinding {
  const howToBuild =
    'To build it from source (needs CMake >= 3.16 and a C++17 compiler), run "npx cmake-js rebuild" in ' +
    `${root}, or "npm rebuild ${PACKAGE_NAME}" with the environment variable npm_config_build_from_source=true.`;
  let path: string;
  // RP_ADDON_PATH, when set, names the one addon file to load instead of searching
  // (scripts/test-sanitize.mjs points it at an ASan build; child processes inherit it).
  const override = process.env['RP_ADDON_PATH'];
  try {
    path = override ? resolve(override) : nodeGypBuild.resolve(root);
  } catch (cause) {
    const prebuilds = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
    throw addonError(
      `${PACKAGE_NAME}: no native addon for ${process.platform}-${process.arch}. Tried a local build in ` +
        `${join(root, 'build', 'Release')} and ${join(root, 'build', 'Debug')}, then a prebuild in ${prebuilds} ` +
        `(none matches this platform, architecture and libc). ${howToBuild}`,
      { cause },
    );
  }
  try {
    return require(path) as NativeBinding; // the path found above, not a second search
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const isLocalBuild = path.startsWith(join(root, 'build'));
    throw addonError(
      `${PACKAGE_NAME}: the native addon ${path} does not load: ${reason}. ` +
        (isLocalBuild
          ? 'It is a local build and takes precedence over the prebuild: rebuild it, or delete it to use the prebuild. '
          : 'A prebuild fails to load where the C/C++ runtime (glibc, libstdc++) is older than on the build machine. ') +
        howToBuild,
      { cause },
    );
  }
}
