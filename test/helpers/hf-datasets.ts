// Folders written by Hugging Face `datasets` (Dataset.save_to_disk) through
// test/fixtures/arrow/write_hf.py, installed on demand from the local wheels;
// without it, the tests that need it skip and say why.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '../fixtures/arrow/write_hf.py');

let cached: { dir: string } | { reason: string } | undefined;

function hasDatasets(): boolean {
  return spawnSync('python3', ['-c', 'import datasets, numpy'], { encoding: 'utf8' }).status === 0;
}

/** The folder write_hf.py wrote (once per test file), or why there is none. */
export function hfDatasetFiles(): { dir: string } | { reason: string } {
  if (cached !== undefined) return cached;
  if (!hasDatasets()) {
    const index = spawnSync('pip', ['config', 'get', 'global.extra-index-url'], { encoding: 'utf8' }).stdout.trim().split(/\s+/)[0];
    const args = ['-m', 'pip', 'install', '--quiet', ...(index ? ['--index-url', index] : []), 'datasets', 'numpy'];
    const pip = spawnSync('python3', args, { encoding: 'utf8' });
    if (pip.error !== undefined || !hasDatasets()) {
      cached = { reason: `Hugging Face datasets is not installed and "python3 -m pip install datasets" failed: ${pip.error?.message ?? pip.stderr.trim().split('\n').pop()}` };
      console.warn(`skipping the tests on Hugging Face datasets folders: ${cached.reason}`);
      return cached;
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'rp-hf-'));
  const run = spawnSync('python3', [SCRIPT, dir], { encoding: 'utf8', env: { ...process.env, HF_DATASETS_DISABLE_PROGRESS_BARS: '1', HF_HUB_OFFLINE: '1' } });
  if (run.status !== 0) throw new Error(`write_hf.py failed: ${run.stderr}`);
  cached = { dir };
  return cached;
}
