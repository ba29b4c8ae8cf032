// Every ```ts block of the README that imports the package runs as written
// (in a scratch directory), so the documented examples cannot rot.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
// tsx's loader by absolute URL: the examples run in a scratch cwd with no node_modules.
const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const blocks = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1]!)
  .filter((code) => /from 'resumable-pipeline'/.test(code));
// Inside the package, so `import 'resumable-pipeline'` resolves to this package (dist/).
const scripts = join(root, 'test', '.readme');
mkdirSync(scripts, { recursive: true });
afterAll(() => rmSync(scripts, { recursive: true, force: true }));

describe('README examples', () => {
  it('has examples to run', () => expect(blocks.length).toBeGreaterThanOrEqual(4));

  const files = blocks.map((code, i) => {
    const file = join(scripts, `example-${i}.mts`);
    writeFileSync(file, code);
    return file;
  });

  it('type-checks under strict TypeScript', () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const args = [tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--types', 'node', ...files];
    expect(() => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' })).not.toThrow();
  });

  it.each(files.map((file, i) => [i, file] as const))('example %i runs', (_i, file) => {
    const cwd = mkdtempSync(join(tmpdir(), 'rp-readme-'));
    try {
      execFileSync(process.execPath, ['--import', tsx, file], { cwd, encoding: 'utf8', stdio: 'pipe' });
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
