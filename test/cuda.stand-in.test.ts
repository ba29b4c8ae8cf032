// The device suite (test/device/cuda-device.ts, `npm run test:cuda`) run here
// against a CPU stand-in for the CUDA addon (test/helpers/cuda-stand-in.cjs):
// everything above the addon (DeviceArray, random.permutation's and the
// DataLoader's device paths, cacheOnDevice, resume) is checked byte for byte
// without a GPU. The kernels themselves are checked by the host grid runner
// (native/tests/test_grid_runner.cpp) and on a GPU by `npm run test:cuda`.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = join(__dirname, '..');

it('the device suite passes against the CPU stand-in for the CUDA addon', () => {
  const tsx = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const r = spawnSync(process.execPath, [tsx, join(ROOT, 'test', 'device', 'cuda-device.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, RP_CUDA_ADDON_PATH: join(ROOT, 'test', 'helpers', 'cuda-stand-in.cjs'), RP_TEST_CUDA_QUICK: '1' },
    timeout: 120_000,
  });
  const summary = r.stdout.split('\n').filter((line) => /^# (tests|pass|fail)/.test(line));
  expect(r.status, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`).toBe(0);
  expect(summary).toContain('# fail 0');
  expect(Number(/^# pass (\d+)/m.exec(r.stdout)?.[1])).toBeGreaterThan(60);
});
