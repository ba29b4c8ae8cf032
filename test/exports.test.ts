// The built package (dist/) loads through both `import` and `require`, as one
// implementation, and its types resolve for both.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
const node = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();

describe('package entry points', () => {
  it('require() loads the CommonJS build', () => {
    const out = node(['-e', `const rp = require('resumable-pipeline'); console.log(typeof rp.PipelineCheckpoint, rp.random.permutation(rp.random.key(1), 5).length)`]);
    expect(out).toBe('function 5');
  });

  it('import loads the same classes', () => {
    const script = `import * as esm from 'resumable-pipeline'; import { createRequire } from 'node:module';
      const cjs = createRequire(process.cwd() + '/')('resumable-pipeline');
      console.log(esm.PipelineCheckpoint === cjs.PipelineCheckpoint, esm.CheckpointCorruptError === cjs.CheckpointCorruptError, typeof esm.default);`;
    expect(node(['--input-type=module', '-e', script])).toBe('true true object');
  });

  it('types resolve for ESM and CommonJS consumers', () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const files = ['test/fixtures/consumer.mts', 'test/fixtures/consumer.cts'];
    const args = [tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--types', 'node', ...files];
    expect(() => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' })).not.toThrow();
  });
});
