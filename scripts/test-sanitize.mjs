// Runs the tests under sanitizers (npm run test:sanitize):
//   native-asan   native/ on its own with ASan+UBSan (build/native-asan), then ctest
//   native-tsan   native/ on its own with TSan (build/native-tsan), then ctest
//   addon-asan    the Node addon with ASan+UBSan (build/asan; never build/Release)
//   vitest-asan   the vitest files that exercise the binding, against that addon
// Options: --native-only (the two native steps), --addon-only (the two addon steps).
// Any failing step or any sanitizer report fails the run (exit status 1).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const known = new Set(['--native-only', '--addon-only']);
for (const a of args) {
  if (!known.has(a)) {
    console.error(`test-sanitize: unknown option ${a} (known: ${[...known].join(', ')})`);
    process.exit(2);
  }
}
const nativeOnly = args.includes('--native-only');
const addonOnly = args.includes('--addon-only');
if (nativeOnly && addonOnly) {
  console.error('test-sanitize: --native-only and --addon-only exclude each other');
  process.exit(2);
}

// -O1 -g: the usual sanitizer setting (readable stacks, tolerable speed). The
// RelWithDebInfo configuration keeps native/CMakeLists.txt's Release-only -O3 out.
const OPT = '-O1 -g';
const ASAN = '-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined';
const TSAN = '-fsanitize=thread';
const JOBS = '2';

// Sanitizer lines worth failing on even where an exit status would hide them.
const REPORT = /ERROR: AddressSanitizer|ERROR: LeakSanitizer|WARNING: ThreadSanitizer|FATAL: ThreadSanitizer|runtime error:|SUMMARY: (Address|Undefined|Thread)Sanitizer/;

const results = [];

/** Runs cmd, streaming its output, and returns { status, output }. */
function run(cmd, cmdArgs, { env = process.env, cwd = root } = {}) {
  console.log(`\n$ ${[cmd, ...cmdArgs].map((a) => (/[\s"'$]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, cmdArgs, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => { output += d; process.stderr.write(d); });
    child.on('error', (err) => { output += String(err); resolvePromise({ status: 127, output }); });
    child.on('close', (code, signal) => resolvePromise({ status: code ?? (signal ? 128 : 1), output }));
  });
}

/** Times one step; body returns { ok, note } and may throw. */
async function step(name, body) {
  console.log(`\n=== ${name} ===`);
  const start = Date.now();
  let ok = false;
  let note = '';
  try {
    ({ ok, note = '' } = await body());
  } catch (err) {
    note = err instanceof Error ? err.message : String(err);
  }
  const seconds = (Date.now() - start) / 1000;
  results.push({ name, ok, seconds, note });
  console.log(`=== ${name}: ${ok ? 'passed' : 'FAILED'} in ${seconds.toFixed(1)} s${note ? ` (${note})` : ''} ===`);
  return ok;
}

/** Configures and builds native/ with its tests, with the given sanitizer flags. */
async function buildNative(dir, flags) {
  const configure = await run('cmake', [
    '-S', join(root, 'native'), '-B', dir,
    '-DRP_BUILD_TESTS=ON',
    '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
    `-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=${OPT}`,
    `-DCMAKE_CXX_FLAGS=${flags}`,
    `-DCMAKE_EXE_LINKER_FLAGS=${flags}`,
  ]);
  if (configure.status !== 0) throw new Error('cmake configure failed');
  const build = await run('cmake', ['--build', dir, '-j', JOBS]);
  if (build.status !== 0) throw new Error('build failed');
}

function ctestArgs(dir) {
  return ['--test-dir', dir, '--output-on-failure'];
}

async function nativeAsan() {
  const dir = join(root, 'build', 'native-asan');
  await buildNative(dir, ASAN);
  const env = {
    ...process.env,
    ASAN_OPTIONS: 'halt_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1',
    UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
  };
  const r = await run('ctest', ctestArgs(dir), { env });
  const report = REPORT.test(r.output);
  return { ok: r.status === 0 && !report, note: report ? 'sanitizer report in the output' : r.status ? 'ctest failed' : '' };
}

async function nativeTsan() {
  const dir = join(root, 'build', 'native-tsan');
  await buildNative(dir, TSAN);
  const env = { ...process.env, TSAN_OPTIONS: 'halt_on_error=1:second_deadlock_stack=1' };
  let r = await run('ctest', ctestArgs(dir), { env });
  let note = '';
  // TSan's shadow memory needs a fixed address-space layout; on kernels with more
  // mmap randomization than the runtime knows (vm.mmap_rnd_bits > 28 with GCC 12's
  // libtsan), every binary dies at start with "FATAL: ThreadSanitizer: unexpected
  // memory mapping". setarch -R turns randomization off for ctest and its children.
  if (r.status !== 0 && /unexpected memory mapping/.test(r.output)) {
    console.log('\ntest-sanitize: TSan cannot map its shadow memory with ASLR on; rerunning under setarch -R');
    r = await run('setarch', [unameMachine(), '-R', 'ctest', ...ctestArgs(dir)], { env });
    note = 'ran under setarch -R (ASLR off)';
  }
  const report = REPORT.test(r.output);
  return {
    ok: r.status === 0 && !report,
    note: [note, report ? 'sanitizer report in the output' : r.status ? 'ctest failed' : ''].filter(Boolean).join('; '),
  };
}

function unameMachine() {
  return spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim();
}

const addonDir = join(root, 'build', 'asan');
const addonConfig = 'RelWithDebInfo';
const addonPath = join(addonDir, addonConfig, 'resumable_pipeline.node');
const releaseAddon = join(root, 'build', 'Release', 'resumable_pipeline.node');

// GCC's libubsan, running beside libasan, ignores UBSAN_OPTIONS=log_path and
// writes to stderr, where a test that checks a child's exit status but not its
// output would lose it. This preloaded shim sets libubsan's own report path
// from RP_UBSAN_LOG_PATH, so its reports land in files like ASan's.
const ubsanShim = join(addonDir, 'ubsan-log-path.so');
const UBSAN_SHIM_SOURCE = `#include <dlfcn.h>
#include <stdlib.h>
__attribute__((constructor)) static void set_ubsan_report_path(void) {
  const char* path = getenv("RP_UBSAN_LOG_PATH");
  void* ubsan = path && *path ? dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD) : NULL;
  void (*set)(const char*) = ubsan ? (void (*)(const char*))dlsym(ubsan, "__sanitizer_set_report_path") : NULL;
  if (set) set(path);
}
`;

function buildUbsanLogShim() {
  const source = join(addonDir, 'ubsan-log-path.c');
  writeFileSync(source, UBSAN_SHIM_SOURCE);
  const r = spawnSync(process.env.CC ?? 'gcc', ['-shared', '-fPIC', '-O1', source, '-o', ubsanShim, '-ldl'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`cannot build ${relative(root, ubsanShim)}`);
}

function fingerprint(path) {
  return existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : 'absent';
}

async function addonAsan() {
  const before = fingerprint(releaseAddon);
  // cmake-js sets CMAKE_CXX_FLAGS itself, so the flags go in the configuration's own
  // variables. --out keeps this build (cache and output) in build/asan; configure then
  // build (not rebuild) is incremental but always applies these flags.
  const flags = `${OPT} ${ASAN}`;
  const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
  const options = [
    '--out', addonDir,
    '--config', addonConfig,
    '--parallel', JOBS,
    `--CDCMAKE_CXX_FLAGS_RELWITHDEBINFO=${flags}`,
    `--CDCMAKE_SHARED_LINKER_FLAGS_RELWITHDEBINFO=${ASAN}`,
    '--CDRP_CUDA=OFF', // the CUDA addon is not loaded by these tests
  ];
  for (const command of ['configure', 'build']) {
    const r = await run(process.execPath, [cmakeJs, command, ...options]);
    if (r.status !== 0) throw new Error(`cmake-js ${command} failed`);
  }
  if (!existsSync(addonPath)) throw new Error(`no addon at ${addonPath}`);
  buildUbsanLogShim();
  const ldd = spawnSync('ldd', [addonPath], { encoding: 'utf8' }).stdout ?? '';
  if (!/libasan/.test(ldd)) throw new Error(`${addonPath} does not link libasan`);
  const after = fingerprint(releaseAddon);
  if (after !== before) throw new Error(`${relative(root, releaseAddon)} changed`);
  return { ok: true, note: `${relative(root, releaseAddon)} untouched` };
}

// The vitest files that load the addon. Checked for at run time; any
// test/**/*memory-safety* or test/**/fuzz* test file joins automatically.
const VITEST_FILES = [
  'test/gather.test.ts',
  'test/bad-input.test.ts',
  'test/data-loader.errors.test.ts',
  'test/data-loader.order.test.ts',
  'test/data-loader.process.test.ts',
  'test/data-loader.recycle.test.ts',
  'test/data-loader.resume.test.ts',
  'test/data-loader.types.test.ts',
  'test/huge-page-buffer.test.ts',
  'test/npy-source.test.ts',
  'test/permutation.test.ts',
  'test/random.test.ts',
  'test/readme.test.ts',
  'test/checkpoint/step-file.test.ts',
  'test/checkpoint/pipeline-checkpoint.test.ts',
];
// Left out by name, each with its reason (printed on every run).
const VITEST_SKIPS = [
  ['keeps RSS flat', 'measures RSS; ASan shadow memory and its quarantine of freed blocks inflate it'],
  ['does not outgrow memory', 'measures RSS; ASan shadow memory and its quarantine of freed blocks inflate it'],
];
const VITEST_OUT_OF_SCOPE =
  'test/package.test.ts (npm pack and installs), test/exports.test.ts, test/demo.test.ts, test/checkpoint/cli.test.ts, ' +
  'test/checkpoint/interop.test.ts and test/checkpoint/state-codec.test.ts are not run here: they spawn npm/tsc/python ' +
  'or are pure TypeScript, and repeat paths the files above cover';

function listTests(dir) {
  const found = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) found.push(...listTests(path));
    else if (entry.name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

function libraryPath(name) {
  const r = spawnSync(process.env.CC ?? 'gcc', [`-print-file-name=${name}`], { encoding: 'utf8' });
  const path = r.stdout?.trim();
  if (r.status !== 0 || !path || !path.startsWith('/') || !existsSync(path)) {
    throw new Error(`cannot find ${name} (gcc -print-file-name=${name})`);
  }
  return path;
}

async function vitestAsan() {
  if (!existsSync(addonPath)) throw new Error(`no ASan addon at ${addonPath}; run without --native-only first`);
  const extra = listTests('test').filter((f) => /memory-safety|\/fuzz/.test(f));
  const files = [...new Set([...VITEST_FILES.filter((f) => existsSync(join(root, f))), ...extra])];
  const missing = VITEST_FILES.filter((f) => !existsSync(join(root, f)));
  if (missing.length) console.log(`test-sanitize: not present, skipped: ${missing.join(', ')}`);
  for (const [name, why] of VITEST_SKIPS) console.log(`test-sanitize: skipping tests named "${name}": ${why}`);
  console.log(`test-sanitize: ${VITEST_OUT_OF_SCOPE}`);

  // Every process in the run (vitest, its forks, the children tests spawn) inherits
  // this: the ASan runtime first, the addon path, and report files in one folder,
  // so a report from a child whose output a test swallows still fails the run.
  const reports = join(addonDir, 'reports');
  rmSync(reports, { recursive: true, force: true });
  mkdirSync(reports, { recursive: true });
  if (!existsSync(ubsanShim)) buildUbsanLogShim();
  const preload = [libraryPath('libasan.so'), libraryPath('libubsan.so'), ubsanShim];
  const env = {
    ...process.env,
    RP_ADDON_PATH: addonPath,
    LD_PRELOAD: [...preload, process.env.LD_PRELOAD].filter(Boolean).join(' '),
    // Node is not built with ASan, so its leaks are not ours; and ASan keeps its own
    // SIGSEGV handler (Node's would take over a wild access in the addon).
    ASAN_OPTIONS: `detect_leaks=0:allow_user_segv_handler=0:halt_on_error=1:log_path=${join(reports, 'asan')}`,
    UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
    RP_UBSAN_LOG_PATH: join(reports, 'ubsan'),
  };
  // The addon loads under this environment, or nothing below means anything.
  const probe = await run(process.execPath, ['-e', `require(${JSON.stringify(addonPath)})`], { env });
  if (probe.status !== 0) throw new Error(`${relative(root, addonPath)} does not load with libasan preloaded`);
  const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const pattern = `^(?!.*(${VITEST_SKIPS.map(([n]) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')}))`;
  const r = await run(process.execPath, [
    vitest, 'run', ...files,
    '--testNamePattern', pattern,
    // ASan makes native code several times slower.
    '--testTimeout', '300000', '--hookTimeout', '300000',
  ], { env });
  // Child processes run dist/ (rebuilt by test/global-setup.ts when stale); one
  // without the RP_ADDON_PATH override would have loaded build/Release instead.
  const dist = join(root, 'dist', 'cjs', 'native.js');
  if (existsSync(dist) && !readFileSync(dist, 'utf8').includes('RP_ADDON_PATH')) {
    throw new Error(`${relative(root, dist)} ignores RP_ADDON_PATH: child processes did not use the ASan addon`);
  }
  const logs = readdirSync(reports).map((f) => join(reports, f));
  for (const log of logs) {
    const lines = readFileSync(log, 'utf8').split('\n');
    const shown = lines.slice(0, 40).join('\n');
    console.log(`\n--- sanitizer report ${relative(root, log)} ---\n${shown}${lines.length > 40 ? '\n[... the rest is in the file]' : ''}`);
  }
  const inOutput = REPORT.test(r.output);
  const notes = [];
  if (logs.length) notes.push(`${logs.length} sanitizer report file(s) in ${relative(root, reports)}`);
  if (inOutput) notes.push('sanitizer report in the output');
  if (r.status !== 0) notes.push('vitest failed');
  return { ok: r.status === 0 && !logs.length && !inOutput, note: notes.join('; ') || `${files.length} files` };
}

if (!addonOnly) {
  await step('native-asan: native/ tests with ASan+UBSan', nativeAsan);
  await step('native-tsan: native/ tests with TSan', nativeTsan);
}
if (!nativeOnly) {
  if (await step('addon-asan: Node addon with ASan+UBSan', addonAsan)) {
    await step('vitest-asan: binding tests against the ASan addon', vitestAsan);
  } else {
    results.push({ name: 'vitest-asan: binding tests against the ASan addon', ok: false, seconds: 0, note: 'not run: no addon' });
  }
}

console.log('\n=== test-sanitize summary ===');
for (const { name, ok, seconds, note } of results) {
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${seconds.toFixed(1).padStart(7)} s  ${name}${note ? `  (${note})` : ''}`);
}
const failed = results.filter((r) => !r.ok).length;
console.log(failed ? `${failed} of ${results.length} step(s) failed` : `all ${results.length} steps passed`);
process.exit(failed ? 1 : 0);
