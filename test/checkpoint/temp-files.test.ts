// Temp files left by a writer killed mid-write: readers (restore, inspect, the
// CLI) report them and leave them alone; the next writer removes them when it
// takes the directory lock, before it writes anything.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { inspectDirectory, PipelineCheckpoint, type State } from '../../src/index.js';
import { Child, CLI } from '../helpers/child-process.js';
import { tempDir } from '../helpers/temp-dir.js';

const temps = (dir: string) => readdirSync(dir).filter((n) => /^\.step_\d+\.msgpack\.[0-9a-f]{16}\.tmp$/.test(n));

/** Kills a writer while its temp file exists (retrying if a write finishes first); the directory it leaves. */
async function killedMidWrite(): Promise<string> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const dir = tempDir();
    const child = Child.node('big-writer.cjs', [dir]);
    await child.waitFor((l) => l === 'saved 1');
    const deadline = Date.now() + 20_000;
    while (temps(dir).length === 0 && child.proc.exitCode === null && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    child.proc.kill('SIGKILL');
    const { signal } = await child.exited;
    if (signal === 'SIGKILL' && temps(dir).length === 1 && !child.lines.includes('saved 2')) return dir;
  }
  throw new Error('could not kill the writer while its temp file existed in 10 attempts');
}

it('a killed writer leaves a temp file: readers report it and leave it; the next writer removes it on taking the lock', async () => {
  const dir = await killedMidWrite();
  const [temp] = temps(dir);
  const path = join(dir, temp!);

  // Readers: the newest complete step restores, the temp file stays and is reported.
  let restored: State = null;
  const reader = new PipelineCheckpoint(dir);
  expect(await reader.restoreLatest({ getState: () => restored, setState: (s) => void (restored = s) })).toBe(1);
  expect(restored).toEqual({ step: 1 });
  expect((await inspectDirectory(dir)).tempFiles).toEqual([path]);
  const inspect = spawnSync(CLI, ['inspect', dir], { encoding: 'utf8' });
  expect(inspect.status).toBe(0);
  expect(inspect.stdout).toContain(`1 temp file(s) of a save in progress or a crashed writer (the next writer removes them)`);
  expect(inspect.stdout).toContain(`TEMP ${path}\n`);
  const verify = spawnSync(CLI, ['verify', dir], { encoding: 'utf8' });
  expect(verify.status).toBe(0); // a temp file is not a corrupt step: it may be a live writer's
  expect(verify.stdout).toContain(`TEMP ${path}`);
  expect(verify.stdout.trim().split('\n').pop()).toBe(`OK: 1 valid step file(s) in ${dir}`);
  const json = JSON.parse(spawnSync(CLI, ['verify', '--json', dir], { encoding: 'utf8' }).stdout) as { ok: boolean; tempFiles: string[] };
  expect(json).toMatchObject({ ok: true, tempFiles: [path] });
  expect(temps(dir)).toEqual([temp]);

  // The next writer: its first save takes the lock and removes the temp file first.
  const writer = new PipelineCheckpoint(dir);
  await writer.save({ getState: () => ({ step: 2 }), setState() {} }, { step: 2 });
  expect(temps(dir)).toEqual([]);
  expect((await inspectDirectory(dir)).tempFiles).toEqual([]);
  await writer.close();
}, 120_000);
