// Child processes in the fault-injection and CLI tests run the built package
// (dist/), which starts in a fraction of the time tsx needs. Rebuild it first
// if any source is newer, so those tests never exercise stale code.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');

function newestMtime(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

export default function setup(): void {
  const built = join(root, 'dist/cjs/index.js');
  const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build-ts.mjs'].map((p) => join(root, p));
  const stale = !existsSync(built) || !existsSync(join(root, 'dist/cjs/cli/main.js')) ||
    Math.max(...inputs.map(newestMtime)) > statSync(built).mtimeMs;
  if (stale) {
    console.log('test/global-setup: dist/ is older than src/; rebuilding it (npm run build:ts)');
    execFileSync(process.execPath, [join(root, 'scripts/build-ts.mjs')], { cwd: root, stdio: 'inherit' });
  }
}
