// A fuzz child process (runner.ts transpiles this folder to JavaScript and
// starts `node --expose-gc child.js SEED,SEED,...`). It loads the built
// package (dist/) and runs the cases in order, reporting each start and end
// on stdout with synchronous writes, so the parent knows which case was
// running when the process died or stopped answering.
import { mkdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { runCase } from './cases.js';
import { type CaseResult, classifyError, type FuzzEnv, MARK, type Package, type RawBinding } from './context.js';

function send(message: object): void {
  writeSync(1, `${MARK}${JSON.stringify(message)}\n`);
}

/**
 * Ends this process once the runner that started it is gone (killed by a test
 * timeout, a closed pipe): a thread of its own, so it works even while a case
 * spins the main thread.
 */
function watchParent(): void {
  const code = `
    const { workerData } = require('node:worker_threads');
    setInterval(() => { if (process.ppid !== workerData) process.kill(process.pid, 'SIGKILL'); }, 500);
  `;
  const watchdog = new Worker(code, { eval: true, workerData: process.ppid });
  watchdog.unref();
}

async function main(): Promise<void> {
  watchParent();
  const root = process.env['RP_FUZZ_ROOT'] ?? process.cwd();
  const tmpRoot = process.env['RP_FUZZ_TMP'] ?? '/tmp';
  const seeds = (process.argv[2] ?? '').split(',').filter((s) => s !== '').map(Number);
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  let pkg: Package;
  let native: () => RawBinding;
  try {
    pkg = require(join(root, 'dist/cjs/index.js')) as Package;
    native = (require(join(root, 'dist/cjs/native.js')) as { native: () => RawBinding }).native;
    native(); // load the addon now: failing here is a setup problem, not a case's
  } catch (err) {
    send({ t: 'infra', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exitCode = 70;
    return;
  }
  // Errors thrown where nobody can catch them (a callback from C++, a promise
  // nobody awaited) are noted against the running case.
  let stray: string[] = [];
  const note = (what: string) => (err: unknown) => {
    const kind = classifyError(err);
    if (kind !== 'trap' && kind !== 'expected') stray.push(`${what}: ${kind}`);
  };
  process.on('uncaughtException', note('uncaughtException'));
  process.on('unhandledRejection', note('unhandledRejection'));
  // A promise that never settles must show as a hang (the parent's timeout),
  // not as an early exit of an empty event loop.
  const keepAlive = setInterval(() => undefined, 1000);
  send({ t: 'ready', pid: process.pid });
  for (const seed of seeds) {
    const tmp = join(tmpRoot, `case-${seed}`);
    mkdirSync(tmp, { recursive: true });
    const env: FuzzEnv = { pkg, native, tmp, gc, root, selftest: process.env['RP_FUZZ_SELFTEST'] };
    // Relative paths a case makes up land in its own directory.
    process.chdir(tmp);
    send({ t: 'start', seed });
    let result: CaseResult;
    try {
      result = await runCase(seed, env);
    } catch (err) {
      // A bug in the fuzzer itself: report it, keep going.
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      result = { seed, scenario: '?', calls: {}, unexpected: { [`FUZZER BUG: ${text.split('\n').slice(0, 3).join(' | ')}`]: 1 }, expected: 0, traps: 0 };
    }
    for (const s of stray) result.unexpected[s] = (result.unexpected[s] ?? 0) + 1;
    stray = [];
    send({ t: 'end', result });
    process.chdir(tmpRoot);
    try {
      rmSync(tmp, { recursive: true, force: true });
    } catch {
      // a leftover directory is removed with the child's temp root
    }
  }
  clearInterval(keepAlive);
  send({ t: 'done' });
}

void main();
