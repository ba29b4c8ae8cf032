#!/usr/bin/env node
// Stands in for node-gyp when prebuildify runs (see scripts/prebuild.mjs):
// prebuildify has no cmake-js backend. It calls, in its working directory,
//   <this> rebuild --target=<node version> --devdir=<dir> --arch=<arch> --release|--debug
// and then takes the first *.node in ./build/Release (or ./build/Debug). We
// build the sources of this package into ./build with cmake-js, so the build
// can live outside the repository's own build/ (and leave the local build be).
// The addon is a Node-API build (package.json "binary.napi_versions"): cmake-js
// compiles against node-api-headers, so --target and --devdir do not matter.
// A Linux prebuild is linked for old glibc (CMake option RP_PORTABLE), and a
// cross-built one gets its toolchain file (scripts/prebuild-targets.mjs).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { TARGETS, isNative, root } from './prebuild-targets.mjs';
const [command, ...options] = process.argv.slice(2);
if (command !== 'rebuild') {
  console.error(`prebuild-node-gyp: only "rebuild" is supported, got ${JSON.stringify(command)}`);
  process.exit(2);
}

const out = join(process.cwd(), 'build');
const cmakeJsArgs = ['rebuild', '--directory', root, '--out', out, '--parallel', String(availableParallelism())];
for (const option of options) {
  const [name, value] = option.split('=', 2);
  if (name === '--arch' && value) cmakeJsArgs.push('--arch', value);
  else if (name === '--debug') cmakeJsArgs.push('--debug');
  else if (name === '--release' || name === '--target' || name === '--devdir') continue;
  else {
    // Fail loudly rather than silently build something other than was asked.
    console.error(`prebuild-node-gyp: unsupported option ${option}`);
    process.exit(2);
  }
}

const arch = cmakeJsArgs.includes('--arch') ? cmakeJsArgs[cmakeJsArgs.indexOf('--arch') + 1] : process.arch;
const target = TARGETS.find((t) => t.platform === process.platform && t.arch === arch);
if (target !== undefined) {
  // The CUDA addon is not a prebuild: its static CUDA runtime needs glibc 2.34 (README, "CUDA").
  cmakeJsArgs.push('--CDRP_PORTABLE=ON', '--CDRP_CUDA=OFF');
  if (!isNative(target)) cmakeJsArgs.push(`--CDCMAKE_TOOLCHAIN_FILE=${join(root, target.toolchain)}`);
} else if (arch !== process.arch) {
  console.error(`prebuild-node-gyp: no toolchain to build ${process.platform}-${arch} on this ${process.arch} host`);
  process.exit(2);
}

const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
console.log(`prebuild-node-gyp: cmake-js ${cmakeJsArgs.join(' ')}`);
try {
  execFileSync(process.execPath, [cmakeJs, ...cmakeJsArgs], { stdio: 'inherit' });
} catch {
  console.error(`prebuild-node-gyp: cmake-js failed for ${process.platform}-${arch} (its output is above)`);
  process.exit(1);
}
