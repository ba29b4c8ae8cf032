// Interop with another msgpack implementation: Python's msgpack (Debian
// package python3-msgpack) reads a step file the package wrote, checking the
// state and the CRC32C with its own code, and writes one the package restores.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectDirectory, PipelineCheckpoint, type State } from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { difference } from '../helpers/state-arbitrary.js';

const SCRIPT = join(__dirname, 'interop.py');

/** A python3 that can import msgpack: Debian's first (pyenv shims may shadow it on PATH). */
function findPython(): { python: string } | { reason: string } {
  const tried: string[] = [];
  for (const python of ['/usr/bin/python3', 'python3']) {
    if (python.startsWith('/') && !existsSync(python)) continue;
    const probe = spawnSync(python, ['-c', 'import msgpack'], { encoding: 'utf8' });
    if (probe.status === 0) return { python };
    tried.push(`${python}: ${(probe.error?.message ?? probe.stderr.trim().split('\n').pop()) || `exit ${probe.status}`}`);
  }
  return { reason: `no python3 can import msgpack (install python3-msgpack: apt-get install -y python3-msgpack); tried ${tried.join('; ')}` };
}

const found = findPython();
if ('reason' in found) console.log(`SKIPPED Python interop: ${found.reason}`);

/** The tagged JSON form interop.py also produces (see its docstring). */
function tag(value: State, floatElements = false): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'boolean':
      return { b: value };
    case 'string':
      return { s: value };
    case 'bigint':
      return { big: value.toString() };
    case 'number': {
      if (!floatElements && Number.isSafeInteger(value) && !Object.is(value, -0)) return { i: String(value) };
      const bits = Buffer.alloc(8);
      bits.writeDoubleBE(value);
      return { f: bits.toString('hex') };
    }
  }
  if (ArrayBuffer.isView(value)) {
    const kind = Object.prototype.toString.call(value).slice(8, -1);
    const floats = kind.startsWith('Float');
    const v = Array.from(value as ArrayLike<number | bigint>, (e) => (typeof e === 'bigint' ? { i: e.toString() } : tag(e, floats)));
    return { ta: kind, v };
  }
  if (Array.isArray(value)) return { a: value.map((v) => tag(v)) };
  return { m: Object.entries(value).map(([k, v]) => [k, tag(v)]) };
}

const run = (python: string, args: string[]) => spawnSync(python, [SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000 });

describe.skipIf('reason' in found)('Python msgpack interop', () => {
  const python = 'python' in found ? found.python : '';

  it('Python reads a step file the package wrote, and checks state and CRC32C itself', async () => {
    const dir = tempDir();
    const state: State = {
      position: 300,
      epoch: 1,
      negativeZero: -0,
      nan: Number.NaN,
      bigNumber: 2 ** 60, // not a safe integer: a float64, exact
      safeMax: Number.MAX_SAFE_INTEGER,
      seed: 2n ** 70n + 5n,
      debt: -(2n ** 64n),
      zero: 0n,
      text: 'ünïcödé ✓ 𝄞',
      int8: new Int8Array([-128, 127]),
      uint8: new Uint8Array([0, 255]),
      clamped: new Uint8ClampedArray([7]),
      int16: new Int16Array([-32768, 1]),
      uint16: new Uint16Array([65535]),
      int32: new Int32Array([-(2 ** 31)]),
      uint32: new Uint32Array([0xdeadbeef, 42]),
      float32: new Float32Array([1.5, -0, Number.POSITIVE_INFINITY, 0.1]),
      float64: new Float64Array([Math.PI, -0, Number.NEGATIVE_INFINITY]),
      bigint64: new BigInt64Array([-(2n ** 63n), 1n]),
      biguint64: new BigUint64Array([2n ** 64n - 1n]),
      offsetView: new Uint16Array([1, 2, 3, 4]).subarray(1, 3),
      nested: [null, true, false, [], {}, { deep: [[1, 2], { k: 'v' }] }],
    };
    const metadata: State = { loss: 0.25, note: 'from node' };
    const ckpt = new PipelineCheckpoint(dir);
    const file = await ckpt.save({ getState: () => state, setState() {} }, { step: 1234, metadata });
    await ckpt.close();
    const expected = join(dir, 'expected.json');
    writeFileSync(expected, JSON.stringify({ step: 1234, state: tag(state), metadata: tag(metadata) }));
    const out = run(python, ['read', file, expected]);
    expect(out.stdout + out.stderr).toMatch(/^OK crc32c=[0-9a-f]{8} step=1234\n$/);
    expect(out.status).toBe(0);
  });

  it('the package restores a step file Python wrote, exactly', async () => {
    const dir = tempDir();
    const out = run(python, ['write', join(dir, 'step_700.msgpack')]);
    expect(out.status, out.stderr).toBe(0);
    const written = JSON.parse(out.stdout) as { step: number; state: unknown; metadata: unknown };

    let restored: State = null;
    const ckpt = new PipelineCheckpoint(dir);
    expect(await ckpt.restoreLatest({ getState: () => restored, setState: (s) => void (restored = s) })).toBe(700);
    expect(tag(restored)).toEqual(written.state);
    expect(tag(await ckpt.metadata(700))).toEqual(written.metadata);

    // And in JS terms: the kinds arrive as themselves.
    const expectedState = {
      position: 300,
      epoch: 1,
      negativeZero: -0,
      ratio: 0.1,
      inf: Number.POSITIVE_INFINITY,
      seed: 2n ** 70n + 5n,
      debt: -(2n ** 64n),
      zero: 0n,
      key: new Uint32Array([0xdeadbeef, 42]),
      weights: new Float32Array([1.5, -0, Number.POSITIVE_INFINITY, 0.1]),
      indices: new Int16Array([-1, 2, -32768]),
      big: new BigUint64Array([2n ** 64n - 1n, 0n]),
      signed: new BigInt64Array([-(2n ** 63n)]),
      bytes: new Uint8Array(0),
      nested: [null, true, false, 'ünïcödé ✓ 𝄞', { deep: [[], {}] }],
      name: 'python',
    };
    expect(difference(expectedState, restored)).toBeUndefined();
    const report = await inspectDirectory(dir);
    expect(report.steps.map((s) => [s.step, s.valid])).toEqual([[700, true]]);
  });
});
