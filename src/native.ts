// Loads the C++ addon through node-gyp-build (local build first, then the
// prebuild for this platform). Loaded on first use, so a missing addon turns
// into one clear error rather than a failed import.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import nodeGypBuild from 'node-gyp-build';

/** The functions binding/ exports; each validates its own arguments. */
export interface NativeBinding {
  threefry2x32(key: Uint32Array, counter: Uint32Array): Uint32Array;
  keyFromSeed(seed: bigint): Uint32Array;
  split(key: Uint32Array, num: number): Uint32Array;
  foldIn(key: Uint32Array, data: number): Uint32Array;
  bits(key: Uint32Array, count: number): Uint32Array;
  permutationIndex(key: Uint32Array, n: number, i: number): number;
  permutationFill(key: Uint32Array, n: number, start: number, out: Uint32Array): void;
  permutation(key: Uint32Array, n: number): Uint32Array;
  gather<T extends ArrayBufferView>(source: T, rowLength: number, indices: Uint32Array, out: T): T;
  crc32c(data: Uint8Array, crc?: number): number;
  lockFile(path: string): number;
  unlockFile(fd: number): void;
  writeFileDurable(dir: string, name: string, tempName: string, data: Uint8Array): Promise<void>;
  syncDirectory(dir: string): Promise<void>;
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
    if (parent === dir) throw new Error(`${PACKAGE_NAME}: cannot find the package root above ${__dirname}`);
    dir = parent;
  }
}

let binding: NativeBinding | undefined;

export function native(): NativeBinding {
  if (binding === undefined) {
    const root = packageRoot();
    try {
      binding = nodeGypBuild(root) as NativeBinding;
    } catch (cause) {
      throw new Error(
        `${PACKAGE_NAME}: could not load the native addon. Tried ${join(root, 'build/Release')} ` +
          `(a local build) and ${join(root, 'prebuilds', `${process.platform}-${process.arch}`)} ` +
          `(prebuilds). To build from source (needs CMake and a C++17 compiler), run ` +
          `"npx cmake-js rebuild" in ${root}, or reinstall with npm_config_build_from_source=true.`,
        { cause },
      );
    }
  }
  return binding;
}
