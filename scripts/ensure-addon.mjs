// First step of `npm test`: rebuilds build/Release/resumable_pipeline.node when
// it is missing or older than any of its sources, so the tests never load a
// stale addon. The build is cmake-js's incremental one (ninja recompiles only
// what changed); when nothing is newer, cmake-js does not even run.
// `cmake-js build`, not `compile`: compile answers a failed build (say, a typo)
// by deleting all of build/ (the sanitizer and native-test builds too) and
// building from scratch; this fails instead and leaves build/ as it was.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newest } from './prebuild-targets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build', 'Release', 'resumable_pipeline.node');
// Everything the addon is built from. package.json holds the Node-API version
// (binary.napi_versions), which CMakeLists.txt reads.
const INPUTS = ['native/include', 'native/src', 'binding', 'cmake', 'CMakeLists.txt', 'native/CMakeLists.txt', 'package.json'];

const source = INPUTS.map((p) => newest(join(root, p))).reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
const before = existsSync(addon) ? statSync(addon).mtimeMs : undefined;
const shown = relative(root, addon);

if (before !== undefined && before >= source.mtimeMs) {
  console.log(`ensure-addon: ${shown} is up to date, not rebuilt`);
  process.exit(0);
}

const why = before === undefined ? 'it is missing' : `${relative(root, source.file)} is newer`;
console.log(`ensure-addon: building ${shown} (${why}) with cmake-js build`);
const started = Date.now();
const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
try {
  execFileSync(process.execPath, [cmakeJs, 'build', '--directory', root, '--parallel', String(availableParallelism()), '--log-level', 'warn'], {
    stdio: 'inherit',
    cwd: root,
  });
} catch {
  console.error('ensure-addon: the build failed (cmake-js output above); `npm run build:native` builds from scratch');
  process.exit(1);
}
if (!existsSync(addon)) {
  console.error(`ensure-addon: cmake-js built, but not ${shown} (is build/ configured for another configuration?)`);
  process.exit(1);
}
const after = statSync(addon).mtimeMs;
if (after !== before) {
  console.log(`ensure-addon: rebuilt ${shown}`);
} else {
  // Nothing to recompile (say, a touched file or a comment in CMakeLists.txt).
  // The addon is current as of the build's start, so it says so: the next run
  // then skips cmake-js. A file edited during the build stays newer than that.
  const at = new Date(Math.max(started, Math.ceil(source.mtimeMs) + 1));
  utimesSync(addon, at, at);
  console.log(`ensure-addon: ${shown} was current, not rebuilt (nothing to recompile)`);
}
