// Builds dist/: the CommonJS build from tsc, plus an ESM entry that re-exports
// it. One implementation serves both, so `instanceof` works across import and
// require (no dual-package hazard).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});

// Plain JavaScript that tsc does not emit: the worker-thread entry of module maps and what it shares
// with the main thread (src/transforms/*.cjs, with their .d.cts types).
for (const entry of readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !/\.(cjs|d\.cts)$/.test(entry.name)) continue;
  const from = join(entry.parentPath ?? entry.path, entry.name);
  const to = join(dist, 'cjs', from.slice(join(root, 'src').length + 1));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

const names = Object.keys(createRequire(import.meta.url)(join(dist, 'cjs/index.js'))).filter((n) => n !== 'default');
mkdirSync(join(dist, 'esm'), { recursive: true });
writeFileSync(
  join(dist, 'esm/index.mjs'),
  `import cjs from '../cjs/index.js';\nexport const { ${names.join(', ')} } = cjs;\nexport default cjs;\n`,
);
writeFileSync(
  join(dist, 'esm/index.d.mts'),
  `import * as cjs from '../cjs/index.js';\nexport * from '../cjs/index.js';\nexport default cjs;\n`,
);
// The CLI (package.json "bin"): tsc keeps its shebang; make it runnable in place too.
chmodSync(join(dist, 'cjs/cli/main.js'), 0o755);
console.log(`dist/: CommonJS build and ESM entry (${names.length} exports)`);
