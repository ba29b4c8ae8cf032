// Regression tests for the memory-safety audit (issue 16): each row's repro
// runs in its own child process (test/fixtures/memory-safety-child.cjs), so a
// crash shows up as a failed test with its signal, not as a dead runner.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const child = join(__dirname, 'fixtures', 'memory-safety-child.cjs');

type Outcome = { status: number | null; signal: NodeJS.Signals | null; result: Record<string, unknown>; stderr: string };

function run(name: string, flags: string[] = []): Outcome {
  const r = spawnSync(process.execPath, ['--expose-gc', ...flags, child, name], { encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let result: Record<string, unknown> = {};
  try {
    result = JSON.parse(line) as Record<string, unknown>;
  } catch {
    // no result line: the child died first; status and signal tell how
  }
  return { status: r.status, signal: r.signal, result, stderr: r.stderr };
}

/** The child ended normally (no signal, no hang, exit 0), with its result. */
function clean(name: string, flags: string[] = []): Record<string, unknown> {
  const r = run(name, flags);
  expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  return r.result;
}

const hasTransferFlag = spawnSync(process.execPath, ['--harmony-rab-gsab-transfer', '-e', 'process.exit(typeof ArrayBuffer.prototype.transfer === "function" ? 0 : 1)']).status === 0;
const transferFlags = hasTransferFlag ? ['--harmony-rab-gsab-transfer'] : [];

describe('memory safety (issue 16 audit rows, one child process each)', () => {
  it('1: exiting without close() while a huge-page source is being copied', () => {
    for (let i = 0; i < 5; i++) expect(clean('huge-page-exit')).toEqual({ exiting: true });
  });

  it('1: workers that exit that way do not take the process down', () => {
    expect(clean('huge-page-exit-worker')).toEqual({ alive: true });
  });

  it('2: gather refuses out overlapping indices, in the API and the binding', () => {
    const error = { name: 'RangeError', code: 'RP_BUFFER_OVERLAP', message: expect.stringMatching(/out must not overlap indices/) };
    expect(clean('gather-overlap')).toEqual({ error, native: error });
  });

  it('3: a resizable buffer is found from the real buffer, not an overridden `buffer` property', () => {
    expect(clean('resizable-source')).toEqual({
      source: { name: 'TypeError', code: 'RP_BUFFER_RESIZABLE', message: expect.stringMatching(/columns\.x\.data must not use a resizable/) },
      queue: { name: 'TypeError', code: 'RP_BUFFER_RESIZABLE', message: expect.stringMatching(/options\.columns\[0\]\.data must not use a resizable/) },
    });
  });

  it('4: batchSize far above the record count is clamped, not allocated', () => {
    const r = clean('huge-batch-size');
    expect(r).toMatchObject({ first: [0], done: true });
    expect(r.rssGrowthMiB).toBeLessThan(64);
  });

  it('5: a FIFO as a .npy file or a step file gives a typed error or a fallback, not a hang', () => {
    const r = clean('fifo');
    expect(r.npy).toEqual({ name: 'SourceOpenError', code: 'RP_SOURCE_OPEN_FAILED', message: expect.stringMatching(/p\.npy.*not a regular file/) });
    expect(r).toMatchObject({ step: 1, restored: { at: 1 } });
  });

  it('6: a batch buffer cannot be transferred away (a clone copies it), so recycle() works, once', () => {
    const expected = {
      copyBytes: 8 * 256 * 4 + 64,
      viaTransfer: 'unavailable',
      attached: 8 * 256,
      second: { name: 'TypeError', code: 'RP_BUFFER_DETACHED', message: expect.stringMatching(/already recycled/) },
      rows: 8,
    };
    expect(clean('recycle-transferred')).toEqual(expected);
    if (hasTransferFlag) {
      expect(clean('recycle-transferred', transferFlags)).toEqual({
        ...expected,
        viaTransfer: { name: 'TypeError', code: 'RP_BUFFER_PINNED', message: expect.stringMatching(/cannot be detached/) },
      });
    }
  });

  it('7: a source cannot be detached under the loader (a transfer copies), and batches stay correct after gc', () => {
    expect(clean('source-detach')).toEqual({ attached: 4096 * 256 * 4, movedBytes: 4096 * 256 * 4 });
  });

  it.skipIf(!hasTransferFlag)('8: transferring a small batch\'s slab away never lets the threads write freed memory', () => {
    expect(clean('slab-transfer', transferFlags)).toEqual({ movedBytes: 16, checked: 3000 });
  });

  it('9: a recycled batch is detached: its views read nothing, and nothing can move its memory', () => {
    const expected = { afterRecycle: { length: 0, byteLength: 0, read: true }, viaTransfer: 'unavailable', viaClone: 'DataCloneError' };
    expect(clean('recycled-transfer')).toEqual(expected);
    if (hasTransferFlag) expect(clean('recycled-transfer', transferFlags)).toEqual({ ...expected, viaTransfer: 'TypeError' });
  });
});
