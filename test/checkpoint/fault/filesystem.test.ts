// Fault injection: a full disk (ENOSPC) and a read-only one (EROFS), on a tiny
// tmpfs mounted in a private mount namespace (unshare), and an unwritable
// directory (permission bits; as root, the child runs as nobody via setpriv). Each save throws a clear
// CheckpointWriteError, earlier steps stay intact, and restore still works.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHILDREN, mountNamespace, ROOT } from '../../helpers/child-process.js';
import { tempDir } from '../../helpers/temp-dir.js';

const ns = mountNamespace();
if ('reason' in ns) console.log(`SKIPPED ENOSPC and EROFS fault injection: ${ns.reason}`);
const isRoot = process.getuid?.() === 0;

/** Runs a shell script in the private mount namespace; returns the last JSON line it printed. */
function inNamespace(script: string): Record<string, any> {
  if ('reason' in ns) throw new Error(ns.reason);
  const run = spawnSync(ns.prefix[0]!, [...ns.prefix.slice(1), 'sh', '-ec', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const line = run.stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (run.status !== 0 || line === undefined) throw new Error(`exit ${run.status}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return JSON.parse(line) as Record<string, any>;
}

const child = (mode: string, dir: string) => `'${process.execPath}' '${join(CHILDREN, 'filesystem.cjs')}' ${mode} '${dir}'`;

describe.skipIf('reason' in ns)('a full or read-only disk', () => {
  it('ENOSPC: the save throws a clear error, leaves no temp file, and earlier steps restore', () => {
    const dir = tempDir();
    const report = inNamespace(`mount -t tmpfs -o size=512k tmpfs '${dir}'\n${child('enospc', dir)}`);
    expect(report.first).toBeNull();
    expect(report.tooLarge).toMatchObject({ name: 'CheckpointWriteError', code: 'RP_CHECKPOINT_WRITE_FAILED', causeCode: 'ENOSPC', file: join(dir, 'step_2.msgpack') });
    expect(report.tooLarge.message).toMatch(/^could not save checkpoint .*step_2\.msgpack: ENOSPC: no space left on device/);
    expect(report.namesAfterFailure).toEqual(['.resumable-pipeline.lock', 'step_1.msgpack']);
    expect(report.restored).toBe(1);
    expect(report.restoredState).toEqual({ step: 1, length: 1000, ok: true });
    expect(report.afterwards).toBeNull(); // space is back once the temp file is gone
    expect(report.steps).toEqual([1, 3]);
  });

  it('EROFS: the save throws a clear error, and restore still works', () => {
    const dir = tempDir();
    const report = inNamespace(
      `mount -t tmpfs -o size=1m tmpfs '${dir}'\n${child('prepare', dir)}\nmount -o remount,ro '${dir}'\n${child('readonly', dir)}`,
    );
    expect(report.restored).toBe(2);
    expect(report.restoredState).toEqual({ step: 2 });
    expect(report.save).toMatchObject({ name: 'CheckpointWriteError', causeCode: 'EROFS', file: join(dir, 'step_3.msgpack') });
    expect(report.save.message).toMatch(/EROFS/);
    expect(report.steps).toEqual([1, 2]);
    expect(report.names).toEqual(['.resumable-pipeline.lock', 'step_1.msgpack', 'step_2.msgpack']);
  });
});

/** How to run the child as a user that permission bits apply to (root is exempt from them). */
function unprivileged(): { prefix: string[] } | { reason: string } {
  if (!isRoot) return { prefix: [] };
  // nobody must also be able to read the package (a checkout under /root is not).
  const probe = spawnSync('setpriv', [...NOBODY, process.execPath, '-e', `require(${JSON.stringify(join(ROOT, 'dist/cjs/index.js'))})`], {
    encoding: 'utf8',
  });
  if (probe.status === 0) return { prefix: ['setpriv', ...NOBODY] };
  const why = (probe.error?.message ?? probe.stderr.trim().split('\n').find((l) => l.includes('Error'))) || `exit ${probe.status}`;
  return { reason: `running as root, and cannot run the package as nobody with setpriv (${why})` };
}

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];
const user = unprivileged();
if ('reason' in user) console.log(`SKIPPED the unwritable-directory case: ${user.reason}`);

describe.skipIf('reason' in user)('an unwritable directory', () => {
  it('EACCES: the save throws a clear error, and restore still works', () => {
    if ('reason' in user) return;
    const dir = tempDir();
    if (isRoot) chownSync(dir, 65534, 65534);
    const run = (mode: string) => {
      const cmd = [...user.prefix, process.execPath, join(CHILDREN, 'filesystem.cjs'), mode, dir];
      const out = spawnSync(cmd[0]!, cmd.slice(1), { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      if (out.status !== 0) throw new Error(`exit ${out.status}: ${out.stderr}`);
      return JSON.parse(out.stdout.trim().split('\n').pop()!) as Record<string, any>;
    };
    expect(run('prepare')).toEqual({ first: null, second: null });
    chmodSync(dir, 0o555);
    try {
      const report = run('readonly');
      expect(report.restored).toBe(2);
      expect(report.save).toMatchObject({ name: 'CheckpointWriteError', causeCode: 'EACCES', file: join(dir, 'step_3.msgpack') });
      expect(report.save.message).toMatch(/^could not save checkpoint .*step_3\.msgpack: EACCES: permission denied/);
      expect(report.names).toEqual(['.resumable-pipeline.lock', 'step_1.msgpack', 'step_2.msgpack']);
    } finally {
      chmodSync(dir, 0o755);
    }
  });
});
