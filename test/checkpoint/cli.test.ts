// The CLI as installed: package.json "bin" -> the built dist file, run
// directly (shebang) and through node. inspect, verify, --json, exit codes.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PipelineCheckpoint } from '../../src/index.js';
import { CLI, ROOT } from '../helpers/child-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

function cli(...args: string[]) {
  const out = spawnSync(CLI, args, { encoding: 'utf8', timeout: 30_000 });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

async function populated(): Promise<string> {
  const dir = tempDir();
  const ckpt = new PipelineCheckpoint(dir);
  for (const step of [100, 200, 300]) {
    await ckpt.save({ getState: () => ({ step }), setState() {} }, { step, metadata: { loss: step / 1000, seed: 5n, hist: new Uint8Array([1, 2]) } });
  }
  await ckpt.close();
  return dir;
}

describe('the resumable-pipeline command', () => {
  beforeAll(() => {
    expect(pkg.bin['resumable-pipeline']).toBe('dist/cjs/cli/main.js');
    expect(join(ROOT, pkg.bin['resumable-pipeline']!)).toBe(CLI);
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    accessSync(CLI, constants.X_OK);
  });

  it('inspect prints a table of steps with size, time, status and metadata', async () => {
    const dir = await populated();
    const { code, stdout } = cli('inspect', dir);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe(`${dir}: 3 step file(s)`);
    expect(lines[1]).toMatch(/^STEP\s+SIZE\s+TIME\s+STATUS\s+METADATA$/);
    expect(lines[2]).toMatch(/^100\s+\d+ B\s+\d{4}-\d\d-\d\dT\S+Z\s+valid\s+\{"loss":0\.1,"seed":"5","hist":\[1,2\]\}$/);
    expect(lines.slice(3).map((l) => l.split(/\s+/)[0])).toEqual(['200', '300']);
  });

  it('verify exits 0 when every file is valid, 1 naming each corrupt file', async () => {
    const dir = await populated();
    expect(cli('verify', dir)).toMatchObject({ code: 0, stdout: `OK: 3 valid step file(s) in ${dir}\n` });
    const file = join(dir, 'step_200.msgpack');
    const bytes = readFileSync(file);
    bytes[20]! ^= 4;
    writeFileSync(file, bytes);
    writeFileSync(join(dir, '.step_400.msgpack.0123456789abcdef.tmp'), 'x');
    writeFileSync(join(dir, 'step_50.msgpack.corrupt'), 'x');
    const verify = cli('verify', dir);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`CORRUPT ${file}: CRC32C mismatch`);
    expect(verify.stdout).toContain(`CORRUPT (set aside by a writer) ${join(dir, 'step_50.msgpack.corrupt')}`);
    expect(verify.stdout).toContain('1 temp file(s)');
    expect(verify.stdout.trim().split('\n').pop()).toBe(`FAILED: 2 corrupt file(s) in ${dir}`);

    const inspect = cli('inspect', dir);
    expect(inspect.code).toBe(0); // inspect reports; verify judges
    expect(inspect.stdout).toMatch(/\n200\s+\d+ B\s+\S+\s+CORRUPT: CRC32C mismatch .*\s+-\n/);
  });

  it('--json gives one machine-readable object', async () => {
    const dir = await populated();
    writeFileSync(join(dir, 'step_300.msgpack'), 'garbage');
    const { code, stdout } = cli('verify', dir, '--json');
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as Record<string, any>;
    expect(report).toMatchObject({ command: 'verify', directory: dir, ok: false, setAside: [], tempFiles: [] });
    expect(report.steps).toHaveLength(3);
    expect(report.steps[0]).toMatchObject({ step: 100, file: join(dir, 'step_100.msgpack'), valid: true, metadata: { loss: 0.1, seed: '5', hist: [1, 2] } });
    expect(Number.isNaN(Date.parse(report.steps[0].time))).toBe(false);
    expect(report.steps[2]).toMatchObject({ step: 300, valid: false, size: 7 });
    expect(report.steps[2].reason).toMatch(/msgpack document/);
    const inspect = JSON.parse(cli('inspect', '--json', dir).stdout) as Record<string, any>;
    expect(inspect.command).toBe('inspect');
  });

  it('an empty directory is fine; usage errors and unreadable directories exit 2', () => {
    const dir = tempDir();
    expect(cli('verify', dir)).toMatchObject({ code: 0, stdout: `OK: 0 valid step file(s) in ${dir}\n` });
    expect(cli('inspect', dir).stdout).toBe(`${dir}: 0 step file(s)\n`);
    const none = cli();
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^Usage: resumable-pipeline/);
    expect(cli('frobnicate', dir)).toMatchObject({ code: 2 });
    expect(cli('verify')).toMatchObject({ code: 2 });
    expect(cli('verify', dir, 'extra')).toMatchObject({ code: 2 });
    const unknown = cli('verify', dir, '--jsn');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--jsn/);
    const missing = cli('verify', join(dir, 'nope'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope: ENOENT/);
    expect(cli('--help')).toMatchObject({ code: 0 });
    expect(cli('--version')).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('--metric adds the metric and its rank (keepBest\'s ranking); --mode max reverses it; bad uses exit 2', async () => {
    const dir = await populated(); // losses 0.1, 0.2, 0.3
    const ckpt = new PipelineCheckpoint(dir);
    await ckpt.save({ getState: () => 4, setState() {} }, { step: 400, metadata: { note: 'no loss' } });
    await ckpt.save({ getState: () => 5, setState() {} }, { step: 500, metadata: { loss: 0.1 } }); // ties with 100: the older ranks first
    await ckpt.close();
    const { code, stdout } = cli('inspect', dir, '--metric', 'loss');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[1]).toMatch(/^STEP\s+SIZE\s+TIME\s+STATUS\s+LOSS\s+RANK \(min\)\s+METADATA$/);
    const cells = lines.slice(2).map((l) => l.split(/\s+/));
    expect(cells.map((c) => [c[0], c[5], c[6]])).toEqual([ // SIZE is two cells ("86 B")
      ['100', '0.1', '1'],
      ['200', '0.2', '3'],
      ['300', '0.3', '4'],
      ['400', '-', '-'],
      ['500', '0.1', '2'],
    ]);
    const max = JSON.parse(cli('inspect', dir, '--metric', 'loss', '--mode', 'max', '--json').stdout) as { metric: unknown; steps: Array<{ step: number; metric: number | null; rank: number | null }> };
    expect(max.metric).toEqual({ name: 'loss', mode: 'max' });
    expect(max.steps.map((s) => [s.step, s.metric, s.rank])).toEqual([
      [100, 0.1, 3],
      [200, 0.2, 2],
      [300, 0.3, 1],
      [400, null, null],
      [500, 0.1, 4],
    ]);
    expect(cli('inspect', dir, '--mode', 'max')).toMatchObject({ code: 2 });
    expect(cli('inspect', dir, '--metric', 'loss', '--mode', 'best').stderr).toMatch(/--mode must be min or max, got "best"/);
  });

  it('runs through node too (as npx does after install)', async () => {
    const dir = await populated();
    const out = spawnSync(process.execPath, [CLI, 'verify', dir], { encoding: 'utf8' });
    expect(out.status).toBe(0);
  });
});
