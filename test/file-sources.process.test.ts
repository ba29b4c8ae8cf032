// ArrowSource and JsonlSource resume exactly in a new process, at and around
// epoch edges: a child restores states the parent saved and must continue
// with the same batches, byte for byte.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArrowSource, DataLoader, JsonlSource, type State } from '../src/index.js';
import { batchDigest } from './helpers/batch-digest.js';
import { pyarrowFiles } from './helpers/pyarrow.js';
import { tempDir } from './helpers/temp-dir.js';

const root = join(__dirname, '..');

function check(kind: 'arrow' | 'jsonl', path: string, options: Record<string, unknown>): void {
  const open = () => (kind === 'arrow' ? ArrowSource.open(path, options) : JsonlSource.open(path, options));
  const loaderOptions = { batchSize: 7, seed: 12, numEpochs: 3 };
  const reference = new DataLoader(open() as never, loaderOptions);
  const n = reference.numRecords;
  const batches: { indices: number[]; digest: string }[] = [];
  const states: State[] = [];
  for (const b of reference as Iterable<{ indices: Uint32Array }>) {
    batches.push({ indices: Array.from(b.indices), digest: batchDigest(b) });
    states.push(reference.getState());
  }
  const perEpoch = Math.ceil(n / 7);
  const at = [perEpoch - 2, perEpoch - 1, perEpoch, 2 * perEpoch - 1];
  const limit = 4;
  const args = { kind, path, options, loader: loaderOptions, states: at.map((k) => states[k]), limit };
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'test/fixtures/source-resume-child.ts'), JSON.stringify(args)], { cwd: root, encoding: 'utf8' });
  expect(child.stderr).toBe('');
  expect(child.status).toBe(0);
  const lines = child.stdout.trim().split('\n').map((l) => JSON.parse(l) as typeof batches);
  at.forEach((k, i) => expect(lines[i]).toEqual(batches.slice(k + 1, k + 1 + limit)));
}

describe('file sources resume in a new process', () => {
  it('JsonlSource, parsed and raw', () => {
    const path = join(tempDir('rp-jsonl-proc-'), 'data.jsonl');
    writeFileSync(path, Array.from({ length: 40 }, (_, i) => JSON.stringify({ i, s: 'é'.repeat(i % 5) })).join('\r\n\n'));
    check('jsonl', path, {});
    check('jsonl', path, { parse: false });
  });

  const files = pyarrowFiles();
  it.skipIf('reason' in files)('ArrowSource, every column type', () => {
    check('arrow', join((files as { dir: string }).dir, 'all.arrow'), {});
  });
});
