// Child processes for the checkpoint tests: the scripts in
// test/checkpoint/children/ and the CLI, run on the built package (dist/), plus
// a private mount namespace for filesystem faults.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = join(__dirname, '../..');
export const CHILDREN = join(ROOT, 'test/checkpoint/children');
export const CLI = join(ROOT, 'dist/cjs/cli/main.js');

/** A child running children/<script> under plain node, with its stdout as lines. */
export class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  stderr = '';
  private waiters: Array<() => void> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** `env`, if given, is the child's whole environment. */
  constructor(command: string, args: readonly string[], env?: NodeJS.ProcessEnv) {
    this.proc = spawn(command, args, { cwd: ROOT, ...(env === undefined ? {} : { env }) });
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      this.lines.push(line);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    // 'close' comes after stdout has ended, so every line the child wrote is in `lines`.
    this.exited = new Promise((resolve) => this.proc.on('close', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static node(script: string, args: readonly string[] = [], env?: NodeJS.ProcessEnv): Child {
    return new Child(process.execPath, [join(CHILDREN, script), ...args], env);
  }

  send(line: string): void {
    this.proc.stdin.write(`${line}\n`);
  }

  /** The first line (from the start) matching test; rejects if the child exits first. */
  async waitFor(test: (line: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(test);
      if (found !== undefined) return found;
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(`child exited (${this.proc.exitCode ?? this.proc.signalCode}) before the line; stderr: ${this.stderr}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for a line; got ${JSON.stringify(this.lines)}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Parses the last line that is a JSON object. */
  json<T = Record<string, unknown>>(): T {
    const line = [...this.lines].reverse().find((l) => l.startsWith('{'));
    if (line === undefined) throw new Error(`no JSON line from the child; stdout: ${this.lines.join('\n')}; stderr: ${this.stderr}`);
    return JSON.parse(line) as T;
  }
}

/**
 * A way to run commands in a private mount namespace with a tmpfs mount
 * (`unshare -Urm`, or `unshare -m` as root), or why there is none.
 */
export function mountNamespace(): { prefix: string[] } | { reason: string } {
  const reasons: string[] = [];
  const candidates = [['unshare', '-Urm'], ...(process.getuid?.() === 0 ? [['unshare', '-m']] : [])];
  const dir = mkdtempSync(join(tmpdir(), 'rp-probe-'));
  try {
    for (const prefix of candidates) {
      const probe = spawnSync(prefix[0]!, [...prefix.slice(1), 'sh', '-c', `mount -t tmpfs -o size=64k tmpfs '${dir}'`], { encoding: 'utf8' });
      if (probe.status === 0) return { prefix };
      reasons.push(`${prefix.join(' ')}: ${(probe.error?.message ?? probe.stderr).trim() || `exit ${probe.status}`}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { reason: `cannot mount a tmpfs in a private mount namespace (${reasons.join('; ')})` };
}
