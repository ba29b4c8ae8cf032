// `npm install` hook: use the addon that loads (local build or prebuild);
// build from source with cmake-js only when none does, or when asked to with
// npm_config_build_from_source=true.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function loads() {
  try {
    require('node-gyp-build')(root);
    return true;
  } catch {
    return false;
  }
}

const forced = /^(true|1|resumable-pipeline)$/.test(process.env.npm_config_build_from_source ?? '');
if (!forced && loads()) {
  console.log('resumable-pipeline: using the prebuilt or existing native addon');
} else {
  console.log(`resumable-pipeline: building the native addon from source${forced ? ' (build_from_source)' : ''}`);
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  execFileSync(process.execPath, [cmakeJs, 'rebuild', '--directory', root], { stdio: 'inherit', cwd: root });
  if (!loads()) {
    console.error('resumable-pipeline: the addon was built but does not load');
    process.exit(1);
  }
}
