// Arrow files from an independent writer: test/fixtures/arrow/write_arrow.py run
// under Python's pyarrow, installed on demand (pip installs it offline here);
// without it, the tests that need it skip and say why.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '../fixtures/arrow/write_arrow.py');

let cached: { dir: string } | { reason: string } | undefined;

function hasPyarrow(): boolean {
  return spawnSync('python3', ['-c', 'import pyarrow, numpy'], { encoding: 'utf8' }).status === 0;
}

/** The folder of files write_arrow.py wrote (once per test file), or why there is none. */
export function pyarrowFiles(): { dir: string } | { reason: string } {
  if (cached !== undefined) return cached;
  if (!hasPyarrow()) {
    const pip = spawnSync('python3', ['-m', 'pip', 'install', '--quiet', 'pyarrow', 'numpy'], { encoding: 'utf8' });
    if (pip.error !== undefined || !hasPyarrow()) {
      cached = { reason: `pyarrow is not installed and "python3 -m pip install pyarrow" failed: ${pip.error?.message ?? pip.stderr.trim().split('\n').pop()}` };
      console.warn(`skipping the tests on pyarrow-written files: ${cached.reason}`);
      return cached;
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'rp-arrow-'));
  const run = spawnSync('python3', [SCRIPT, dir], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`write_arrow.py failed: ${run.stderr}`);
  cached = { dir };
  return cached;
}

/** The writer's own data for a column: raw values, and int64 offsets for ragged ones. */
export function writerData(dir: string, column: string): { values: Uint8Array; offsets: BigInt64Array | undefined } {
  const values = new Uint8Array(readFileSync(join(dir, `${column}.values.bin`)));
  let offsets: BigInt64Array | undefined;
  try {
    const bytes = readFileSync(join(dir, `${column}.offsets.bin`));
    offsets = new BigInt64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  } catch {
    offsets = undefined;
  }
  return { values, offsets };
}
