// The prebuilds the package ships, and what they may ask of the system. One
// list: scripts/prebuild.mjs builds it, scripts/check-prebuilds.mjs requires
// it (fresh, and within the floor) before publishing, scripts/test-prebuilds.mjs
// tests it, and README's platform table describes it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const NAME = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name;

/**
 * Oldest versions a Linux prebuild may need: glibc 2.28 is Node 20's own floor
 * (RHEL 8); libstdc++ is linked in, so no GLIBCXX_/CXXABI_ version at all;
 * libgcc_s stays shared, and GCC 8's (RHEL 8) has versions up to GCC_7.0.0.
 */
export const FLOOR = { GLIBC: '2.28', GCC: '7.0.0' };

/**
 * Every prebuild. `toolchain` cross-builds from an x86-64 host; `crossPackage`
 * is the Debian package with the target's compiler, strip and glibc.
 */
export const TARGETS = [
  { platform: 'linux', arch: 'x64', triple: 'x86_64-linux-gnu' },
  {
    platform: 'linux',
    arch: 'arm64',
    triple: 'aarch64-linux-gnu',
    toolchain: 'portable/aarch64-linux-gnu.cmake',
    crossPackage: 'g++-aarch64-linux-gnu',
  },
];

/** What a prebuild is built from: a newer file makes it stale. */
const INPUTS = ['CMakeLists.txt', 'cmake', 'native/CMakeLists.txt', 'native/include', 'native/src', 'binding', 'portable', 'package.json'];

/** The prebuild's path, relative to the package root (prebuildify's naming, with --tag-libc). */
export function prebuildPath(target) {
  return join('prebuilds', `${target.platform}-${target.arch}`, `${NAME}.glibc.node`);
}

/** Whether this host builds the target natively (no toolchain file). */
export function isNative(target) {
  return target.platform === process.platform && target.arch === process.arch;
}

/**
 * The targets this host can build: its own, and the cross-builds an x86-64
 * Linux host makes. Only on glibc: the prebuilds are glibc builds.
 */
export function buildableTargets() {
  const glibc = process.platform === 'linux' && process.report.getReport().header.glibcVersionRuntime !== undefined;
  if (!glibc) return [];
  return TARGETS.filter((t) => isNative(t) || (process.arch === 'x64' && t.toolchain !== undefined));
}

/** The newest file under path: { file, mtimeMs }. */
export function newest(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return { file: path, mtimeMs: info.mtimeMs };
  return readdirSync(path)
    .map((name) => newest(join(path, name)))
    .reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a), { file: path, mtimeMs: 0 });
}

/** Why the target's prebuild must be (re)built, or undefined when it is current. */
export function staleReason(target) {
  const file = join(root, prebuildPath(target));
  if (!existsSync(file)) return `${prebuildPath(target)} is missing`;
  const source = INPUTS.map((p) => newest(join(root, p))).reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
  return source.mtimeMs > statSync(file).mtimeMs ? `${relative(root, source.file)} is newer than ${prebuildPath(target)}` : undefined;
}
