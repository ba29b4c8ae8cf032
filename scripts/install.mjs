// `npm install` hook: use the addon that loads (local build or prebuild);
// build from source with cmake-js only when none does, or when asked to with
// npm_config_build_from_source=true (or =resumable-pipeline). The package
// must also work when npm skips this script: the runtime loader
// (src/native.ts) finds the prebuild on its own.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const nodeGypBuild = require('node-gyp-build');
const { name } = require(join(root, 'package.json'));

/** The path of the addon that loads, or the reason none does. */
function tryLoad() {
  try {
    const path = nodeGypBuild.resolve(root);
    nodeGypBuild(root);
    return { path };
  } catch (error) {
    return { error: error instanceof Error ? error.message.trim() : String(error) };
  }
}

const setting = process.env.npm_config_build_from_source ?? '';
const forced = setting === 'true' || setting === '1' || setting.split(',').includes(name);
const before = forced ? undefined : tryLoad();
if (before?.path) {
  console.log(`${name}: using the native addon ${before.path}`);
} else {
  console.log(
    forced
      ? `${name}: building the native addon from source (npm_config_build_from_source=${setting})`
      : `${name}: no native addon loads (${before?.error}); building it from source`,
  );
  try {
    const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
    const args = [cmakeJs, 'rebuild', '--directory', root, '--parallel', String(availableParallelism())];
    execFileSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  } catch {
    console.error(
      `${name}: the build from source failed. It needs CMake >= 3.16 and a C++17 compiler on PATH ` +
        '(cmake-js output above says which step failed).',
    );
    process.exit(1);
  }
  const after = tryLoad();
  if (!after.path) {
    console.error(`${name}: the addon was built but does not load: ${after.error}`);
    process.exit(1);
  }
  console.log(`${name}: built and loaded ${after.path}`);
}
