// `npm install` hook: use the addon that loads (local build or prebuild);
// build from source with cmake-js only when none does, or when asked to with
// npm_config_build_from_source=true (or =resumable-pipeline). The package
// must also work when npm skips this script: the runtime loader
// (src/native.ts) finds the prebuild on its own.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FLOOR } from './prebuild-targets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { name } = require(join(root, 'package.json'));

/** The glibc version of this process, or undefined (musl, or not Linux). */
function glibcVersion() {
  return process.platform === 'linux' ? process.report.getReport().header.glibcVersionRuntime : undefined;
}

/** 'glibc' or 'musl' on Linux; undefined elsewhere. */
function libc() {
  if (process.platform !== 'linux') return undefined;
  return glibcVersion() === undefined ? 'musl' : 'glibc';
}

/** The prebuilds this package ships (e.g. "linux-arm64, linux-x64"), as its prebuilds/ folder says. */
function shippedPrebuilds() {
  const dir = join(root, 'prebuilds');
  return existsSync(dir) ? readdirSync(dir).sort().join(', ') : 'none';
}

/**
 * What to install for a build from source on this platform: CMake >= 3.16 and a
 * C++17 compiler, named the way each system's package manager names them.
 */
export function buildToolsHint(platform = process.platform, libcName = libc()) {
  if (platform === 'linux' && libcName === 'musl') {
    return 'On Alpine (musl): `apk add build-base cmake python3`.';
  }
  if (platform === 'linux') {
    return (
      'On Debian/Ubuntu: `apt-get install g++ cmake`; on RHEL/Rocky/Fedora/Amazon Linux: ' +
      '`dnf install gcc-c++ make cmake` (CMake >= 3.16 and GCC >= 8).'
    );
  }
  if (platform === 'darwin') {
    return 'On macOS: the Xcode command line tools (`xcode-select --install`) and CMake (`brew install cmake`).';
  }
  if (platform === 'win32') {
    return (
      'On Windows: Visual Studio Build Tools with the "Desktop development with C++" workload ' +
      '(`winget install Microsoft.VisualStudio.2022.BuildTools`), and CMake on PATH (`winget install Kitware.CMake`).'
    );
  }
  return 'CMake >= 3.16 and a C++17 compiler on PATH.';
}

/** Why no prebuild fits this system, in a sentence. */
function whyNoPrebuild() {
  const glibc = glibcVersion();
  const system = `${process.platform}-${process.arch}${glibc ? ` with glibc ${glibc}` : libc() === 'musl' ? ' with musl' : ''}`;
  return `the prebuilds (${shippedPrebuilds()}) are for glibc >= ${FLOOR.GLIBC}; this is ${system}`;
}

/** The path of the addon that loads, or the reason none does. */
function tryLoad() {
  const nodeGypBuild = require('node-gyp-build');
  try {
    const path = nodeGypBuild.resolve(root);
    nodeGypBuild(root);
    return { path };
  } catch (error) {
    return { error: error instanceof Error ? error.message.trim() : String(error) };
  }
}

/** Where a build from source puts the CUDA addon (CMakeLists.txt, cmake/cuda.cmake). */
const cudaAddon = join(root, 'build', 'Release', 'cuda', 'resumable_pipeline_cuda.node');

/** RP_CUDA=1 (or ON, true): the CUDA addon is wanted, so a build from source runs where it is missing. */
function cudaRequested() {
  return ['1', 'on', 'true', 'yes'].includes((process.env.RP_CUDA ?? '').toLowerCase());
}

/** One line on the CUDA addon after a build: built, or how to get it. */
function reportCuda() {
  if (existsSync(cudaAddon)) {
    console.log(`${name}: built the CUDA addon ${cudaAddon} (cuda.available() says whether a GPU can use it)`);
  } else {
    console.log(
      `${name}: the CUDA addon was not built (no nvcc found; the CPU package is complete without it). To build it, ` +
        'put nvcc (CUDA >= 11.8) on PATH, or install the pip wheels nvidia-cuda-nvcc, nvidia-cuda-runtime, ' +
        'nvidia-cuda-cccl, nvidia-cuda-crt and nvidia-nvvm and set CUDACXX to their nvcc, then run ' +
        `"RP_CUDA=1 npm rebuild ${name}".`,
    );
  }
}

function install() {
  const setting = process.env.npm_config_build_from_source ?? '';
  const forced =
    setting === 'true' || setting === '1' || setting.split(',').includes(name) || (cudaRequested() && !existsSync(cudaAddon));
  const before = forced ? undefined : tryLoad();
  if (before?.path) {
    console.log(`${name}: using the native addon ${before.path}`);
    return;
  }
  console.log(
    forced
      ? `${name}: building the native addon from source (${cudaRequested() ? `RP_CUDA=${process.env.RP_CUDA}` : `npm_config_build_from_source=${setting}`})`
      : `${name}: no native addon loads (${before?.error}); ${whyNoPrebuild()}, so building it from source`,
  );
  try {
    const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
    const args = [cmakeJs, 'rebuild', '--directory', root, '--parallel', String(availableParallelism())];
    execFileSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  } catch {
    console.error(
      `${name}: the build from source failed (cmake-js output above says which step). It needs CMake >= 3.16 ` +
        `and a C++17 compiler on PATH. ${buildToolsHint()}` +
        (cudaRequested() ? ' RP_CUDA=1 also requires nvcc (unset RP_CUDA for the CPU package alone).' : ''),
    );
    process.exit(1);
  }
  const after = tryLoad();
  if (!after.path) {
    console.error(`${name}: the addon was built but does not load: ${after.error}`);
    process.exit(1);
  }
  console.log(`${name}: built and loaded ${after.path}`);
  reportCuda();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) install();
