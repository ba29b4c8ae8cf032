// The fuzz runner (parent side): runs batches of seeds in child processes,
// several at a time, for a given time; a child that dies (signal, abort,
// non-zero exit) or stops answering (per-case timeout) is a failure, pinned
// to one seed by re-running the suspect alone, then bisecting the batch down
// to single seeds. Used by scripts/fuzz.ts (`npm run fuzz`) and test/fuzz.test.ts.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { scenarioOf } from './cases.js';
import { type CaseResult, MARK } from './context.js';

export interface FuzzOptions {
  /** How long to start new batches, in seconds. */
  seconds: number;
  /** The first case seed (cases are seed, seed + 1, ...); random by default. */
  seed?: number;
  /** Runs exactly these seeds, in order, in one child, and reports. */
  replay?: number[];
  /** Stops after this many cases (before `seconds` if reached first). */
  maxCases?: number;
  /** Child processes at a time (default: 2, at most the CPUs). */
  jobs?: number;
  /** Seeds per child (default 40). */
  batch?: number;
  /** A case (or a child's exit after its last case) taking longer is a hang (default 10 s). */
  caseTimeoutMs?: number;
  /** Time allowed for pinning failures to seeds after `seconds` (default max(20, seconds)). */
  bisectSeconds?: number;
  /** Repository root (default: two folders up). */
  root?: string;
  /** Extra environment for the children (RP_FUZZ_SELFTEST, RP_FUZZ_TRACE). */
  env?: Record<string, string>;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Copies the children's stderr to this process's (replays, with RP_FUZZ_TRACE). */
  passStderr?: boolean;
}

export interface Failure {
  kind: 'crash' | 'hang';
  /** One seed when pinned; otherwise the seeds that fail only together, in order. */
  seeds: number[];
  pinned: boolean;
  scenario: string;
  /** How it failed: signal or exit code, during a case or at exit, stderr's last lines. */
  detail: string;
}

export interface FuzzReport {
  baseSeed: number;
  cases: number;
  elapsedMs: number;
  casesPerSecond: number;
  calls: Record<string, number>;
  scenarios: Record<string, number>;
  /** Total milliseconds spent in each scenario's cases. */
  scenarioMs: Record<string, number>;
  expected: number;
  traps: number;
  unexpected: Record<string, number>;
  /** Up to 3 seeds that threw each unexpected error. */
  unexpectedSeeds: Record<string, number[]>;
  failures: Failure[];
  /** Setup problems (the package did not load): not the code under test, but the run is void. */
  infra: string[];
  ok: boolean;
}

interface ChildOutcome {
  results: CaseResult[];
  status: 'ok' | 'crash' | 'hang' | 'infra';
  /** The seed running when the child died or hung. */
  inProgress: number | undefined;
  /** Seeds the child never started. */
  notStarted: number[];
  detail: string;
}

const FUZZ_DIR = __dirname;
const SOURCES = ['prng.ts', 'context.ts', 'values.ts', 'cases.ts', 'child.ts'];

/** Transpiles the fuzz cases to CommonJS once, so each child starts with plain node (~0.2 s, not tsx's ~1 s). */
function transpile(outDir: string): string {
  mkdirSync(outDir, { recursive: true });
  for (const file of SOURCES) {
    const source = readFileSync(join(FUZZ_DIR, file), 'utf8');
    const out = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    writeFileSync(join(outDir, file.replace(/\.ts$/, '.js')), out.outputText);
  }
  return join(outDir, 'child.js');
}

function newestMtime(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** A warning when dist/ is missing or older than src/ (the children run dist/). */
export function distWarning(root: string): string | undefined {
  const built = join(root, 'dist/cjs/index.js');
  if (!existsSync(built)) return 'dist/ is missing: run `node scripts/build-ts.mjs` (npm run build:ts) first';
  if (newestMtime(join(root, 'src')) > statSync(built).mtimeMs) {
    return 'dist/ is older than src/: the children run the built package; run `node scripts/build-ts.mjs` to test the current sources';
  }
  return undefined;
}

/** Where cases write files: RP_FUZZ_TMPDIR, else tmpfs (/dev/shm: no disk, cheap fsync), else the OS temp dir. */
function scratchDir(): string {
  const chosen = process.env['RP_FUZZ_TMPDIR'];
  if (chosen !== undefined && chosen !== '') return chosen;
  try {
    if (statSync('/dev/shm').isDirectory()) {
      accessSync('/dev/shm', constants.W_OK);
      return '/dev/shm';
    }
  } catch {
    // no tmpfs here
  }
  return tmpdir();
}

function nodeFlags(): string[] {
  const flags = ['--expose-gc', '--no-warnings', '--max-old-space-size=4096'];
  // ArrayBuffer.prototype.transfer is behind a flag on Node 20: turn it on, so it is fuzzed too.
  if (typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer !== 'function') {
    const probe = spawnSync(process.execPath, ['--harmony-rab-gsab-transfer', '-e', '0'], { stdio: 'ignore' });
    if (probe.status === 0) flags.push('--harmony-rab-gsab-transfer');
  }
  return flags;
}

class Runner {
  private readonly root: string;
  private readonly work: string;
  private readonly childJs: string;
  private readonly flags: string[];
  private readonly timeout: number;
  private readonly log: (line: string) => void;
  private readonly children = new Set<ChildProcess>();
  private childCount = 0;
  readonly results: CaseResult[] = [];
  readonly failures: Failure[] = [];
  readonly infra: string[] = [];
  stopped = false;

  /** Kills the children if this process exits first (Ctrl-C, a closed pipe, a test timeout). */
  private readonly onExit = (): void => {
    for (const child of this.children) child.kill('SIGKILL');
    rmSync(this.work, { recursive: true, force: true });
  };

  constructor(private readonly opts: FuzzOptions) {
    process.on('exit', this.onExit);
    this.root = opts.root ?? join(FUZZ_DIR, '..', '..');
    this.work = mkdtempSync(join(scratchDir(), 'rp-fuzz-'));
    this.childJs = transpile(join(this.work, 'js'));
    this.flags = nodeFlags();
    this.timeout = opts.caseTimeoutMs ?? 10_000;
    this.log = opts.log ?? (() => undefined);
  }

  dispose(): void {
    process.off('exit', this.onExit);
    for (const child of this.children) child.kill('SIGKILL');
    rmSync(this.work, { recursive: true, force: true });
  }

  /** Runs seeds in order in one child process. */
  runChild(seeds: number[]): Promise<ChildOutcome> {
    const tmp = join(this.work, `child-${this.childCount++}`);
    mkdirSync(tmp);
    const child = spawn(process.execPath, [...this.flags, this.childJs, seeds.join(',')], {
      cwd: tmp,
      env: {
        ...process.env,
        // Every allocation of 64 KiB or more gets its own mapping, unmapped when freed: a
        // thread that touches a freed buffer then faults at once instead of reading stale heap.
        MALLOC_MMAP_THRESHOLD_: '65536',
        ...this.opts.env,
        RP_FUZZ_ROOT: this.root,
        RP_FUZZ_TMP: tmp,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    const results: CaseResult[] = [];
    const started = new Set<number>();
    let inProgress: number | undefined;
    let caseStart = Date.now();
    let ready = false;
    let done = false;
    let doneAt = 0;
    let killedFor: string | undefined;
    let infra: string | undefined;
    let stderr = '';
    let pending = '';
    const spawnedAt = Date.now();
    const onLine = (line: string): void => {
      if (!line.startsWith(MARK)) {
        stderr = (stderr + line + '\n').slice(-6000);
        return;
      }
      const msg = JSON.parse(line.slice(MARK.length)) as { t: string; seed?: number; result?: CaseResult; message?: string };
      if (msg.t === 'ready') ready = true;
      else if (msg.t === 'start') {
        inProgress = msg.seed!;
        started.add(msg.seed!);
        caseStart = Date.now();
      } else if (msg.t === 'end') {
        results.push(msg.result!);
        inProgress = undefined;
      } else if (msg.t === 'done') {
        done = true;
        doneAt = Date.now();
      } else if (msg.t === 'infra') infra = msg.message;
    };
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) !== -1) {
        onLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      if (this.opts.passStderr === true) process.stderr.write(chunk);
      stderr = (stderr + chunk).slice(-6000);
    });
    const kill = (why: string): void => {
      if (killedFor !== undefined) return;
      killedFor = why;
      child.kill('SIGKILL');
    };
    const timer = setInterval(() => {
      const now = Date.now();
      if (this.stopped) kill('stopped');
      else if (!ready && now - spawnedAt > Math.max(30_000, this.timeout)) kill('startup');
      else if (inProgress !== undefined && now - caseStart > this.timeout) kill('case');
      else if (done && now - doneAt > this.timeout) kill('exit');
    }, 100);
    return new Promise((resolveOnce) => {
      let settled = false;
      const resolve = (outcome: ChildOutcome): void => {
        if (!settled) resolveOnce(outcome);
        settled = true;
      };
      // The process could not be started at all (no 'close' may follow).
      child.on('error', (err) => {
        if (child.pid !== undefined) return; // a started child: its 'close' reports it
        clearInterval(timer);
        this.children.delete(child);
        rmSync(tmp, { recursive: true, force: true });
        resolve({ results, inProgress: undefined, notStarted: seeds, status: 'infra', detail: `could not start ${process.execPath}: ${err.message}` });
      });
      child.on('close', (code, signal) => {
        clearInterval(timer);
        this.children.delete(child);
        rmSync(tmp, { recursive: true, force: true });
        if (pending !== '') onLine(pending);
        const notStarted = seeds.filter((s) => !started.has(s));
        const tail = stderr.trim().split('\n').slice(-12).join('\n');
        const base = { results, inProgress, notStarted };
        if (killedFor === 'stopped') {
          resolve({ ...base, status: 'ok', inProgress: undefined, detail: 'stopped' });
        } else if (killedFor === 'case') {
          resolve({ ...base, status: 'hang', detail: `no answer within ${this.timeout / 1000} s during the case (seed ${inProgress})\n${tail}` });
        } else if (killedFor === 'exit') {
          resolve({ ...base, status: 'hang', detail: `did not exit within ${this.timeout / 1000} s after its last case\n${tail}` });
        } else if (infra !== undefined || killedFor === 'startup' || (!ready && code === 70)) {
          resolve({ ...base, status: 'infra', detail: infra ?? `the child did not start: ${tail}` });
        } else if (code === 0 && signal === null && done) {
          resolve({ ...base, status: 'ok', detail: '' });
        } else {
          const how = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
          const when = inProgress !== undefined ? `during the case (seed ${inProgress})` : done ? 'at exit, after its last case' : 'between cases';
          resolve({ ...base, status: 'crash', detail: `${how} ${when}\n${tail}` });
        }
      });
    });
  }

  record(out: ChildOutcome): void {
    this.results.push(...out.results);
  }

  fail(kind: 'crash' | 'hang', seeds: number[], pinned: boolean, detail: string): void {
    const scenario = seeds.length === 1 ? scenarioOf(seeds[0]!) : [...new Set(seeds.map(scenarioOf))].join(', ');
    this.failures.push({ kind, seeds, pinned, scenario, detail });
    this.log(printable(`FAIL ${kind}${pinned ? '' : ' (not pinned to one seed)'}: seed ${seeds.join(',')} [${scenario}]: ${detail.split('\n')[0]}`));
  }

  /** Finds the seeds that fail, re-running subsets (each subset in order, in one child). */
  async pin(kind: 'crash' | 'hang', group: number[], suspect: number | undefined, deadline: number, detail: string): Promise<void> {
    if (suspect !== undefined) {
      const alone = await this.runChild([suspect]);
      if (alone.status === 'crash' || alone.status === 'hang') {
        this.fail(alone.status, [suspect], true, alone.detail);
        return;
      }
    }
    await this.bisect(kind, group, deadline, detail);
  }

  private async bisect(kind: 'crash' | 'hang', group: number[], deadline: number, detail: string): Promise<void> {
    if (Date.now() > deadline || this.stopped) {
      this.fail(kind, group, false, `${detail}\n(no time left to pin it to one seed)`);
      return;
    }
    if (group.length === 1) {
      const alone = await this.runChild(group);
      if (alone.status === 'crash' || alone.status === 'hang') this.fail(alone.status, group, true, alone.detail);
      else this.fail(kind, group, false, `${detail}\n(did not fail again when re-run alone: flaky)`);
      return;
    }
    const mid = Math.ceil(group.length / 2);
    const halves = [group.slice(0, mid), group.slice(mid)];
    const outcomes = await Promise.all(halves.map((h) => this.runChild(h)));
    let any = false;
    for (let i = 0; i < 2; i++) {
      const out = outcomes[i]!;
      if (out.status !== 'crash' && out.status !== 'hang') continue;
      any = true;
      const half = halves[i]!;
      // Only the seeds up to the one that was running can be the cause.
      const upTo = out.inProgress === undefined ? half : half.slice(0, half.indexOf(out.inProgress) + 1);
      await this.bisect(out.status, upTo, deadline, out.detail);
    }
    if (!any) this.fail(kind, group, false, `${detail}\n(fails only when these seeds run together, in this order)`);
  }

  /** Runs a batch; on a failure, continues with the seeds after the failing one and pins the failure. */
  async runBatch(seeds: number[], deadline: number): Promise<void> {
    let remaining = seeds;
    let infraTries = 0;
    while (remaining.length > 0 && !this.stopped) {
      const out = await this.runChild(remaining);
      this.record(out);
      if (out.status === 'ok') return;
      if (out.status === 'infra') {
        this.log(`child did not start (retrying): ${out.detail.split('\n')[0]}`);
        if (++infraTries >= 3) {
          this.infra.push(out.detail);
          this.stopped = true;
          return;
        }
        await new Promise((r) => setTimeout(r, 2000));
        continue;
      }
      const ranHere = remaining.filter((s) => !out.notStarted.includes(s));
      if (out.inProgress !== undefined) {
        const before = ranHere.slice(0, ranHere.indexOf(out.inProgress) + 1);
        await this.pin(out.status, before, out.inProgress, deadline, out.detail);
      } else {
        await this.pin(out.status, ranHere, undefined, deadline, out.detail);
      }
      remaining = out.notStarted;
    }
  }
}

function sum(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const t0 = Date.now();
  const runner = new Runner(opts);
  const baseSeed = (opts.seed ?? (opts.replay?.[0] ?? Math.floor(Math.random() * 2 ** 31))) >>> 0;
  const log = opts.log ?? (() => undefined);
  try {
    if (opts.replay !== undefined) {
      let out = await runner.runChild(opts.replay);
      for (let tries = 1; out.status === 'infra' && tries < 3; tries++) {
        log(`child did not start (retrying): ${out.detail.split('\n')[0]}`);
        await new Promise((r) => setTimeout(r, 2000));
        out = await runner.runChild(opts.replay);
      }
      runner.record(out);
      if (out.status === 'crash' || out.status === 'hang') runner.fail(out.status, out.inProgress !== undefined ? [out.inProgress] : opts.replay, out.inProgress !== undefined || opts.replay.length === 1, out.detail);
      else if (out.status === 'infra') runner.infra.push(out.detail);
    } else {
      const jobs = Math.max(1, opts.jobs ?? Math.min(2, availableParallelism()));
      const batch = Math.max(1, opts.batch ?? 40);
      const fuzzEnd = t0 + opts.seconds * 1000;
      const bisectEnd = fuzzEnd + (opts.bisectSeconds ?? Math.max(20, opts.seconds)) * 1000;
      const limit = opts.maxCases === undefined ? Infinity : baseSeed + opts.maxCases;
      let next = baseSeed;
      let lastLog = Date.now();
      const worker = async (): Promise<void> => {
        while (!runner.stopped && Date.now() < fuzzEnd && next < limit) {
          const seeds: number[] = [];
          while (seeds.length < batch && next < limit) seeds.push(next++);
          await runner.runBatch(seeds, bisectEnd);
          if (Date.now() - lastLog > 5000) {
            lastLog = Date.now();
            const s = (Date.now() - t0) / 1000;
            log(`${runner.results.length} cases in ${s.toFixed(0)} s (${(runner.results.length / s).toFixed(1)}/s), ${runner.failures.length} failures`);
          }
        }
      };
      // A hard stop, whatever is still running: fuzzing, pinning, then a case's timeout.
      const hardStop = setTimeout(() => {
        log('time is up: stopping the children still running');
        runner.stopped = true;
      }, bisectEnd - Date.now() + (opts.caseTimeoutMs ?? 10_000));
      try {
        await Promise.all(Array.from({ length: jobs }, worker));
      } finally {
        clearTimeout(hardStop);
      }
    }
  } finally {
    runner.stopped = true;
    runner.dispose();
  }
  const elapsedMs = Date.now() - t0;
  const calls: Record<string, number> = {};
  const scenarios: Record<string, number> = {};
  const scenarioMs: Record<string, number> = {};
  const unexpected: Record<string, number> = {};
  const unexpectedSeeds: Record<string, number[]> = {};
  let expected = 0;
  let traps = 0;
  for (const r of runner.results) {
    sum(calls, r.calls);
    sum(unexpected, r.unexpected);
    for (const k of Object.keys(r.unexpected)) {
      const list = (unexpectedSeeds[k] ??= []);
      if (list.length < 3) list.push(r.seed);
    }
    scenarios[r.scenario] = (scenarios[r.scenario] ?? 0) + 1;
    scenarioMs[r.scenario] = (scenarioMs[r.scenario] ?? 0) + (r.ms ?? 0);
    expected += r.expected;
    traps += r.traps;
  }
  return {
    baseSeed,
    cases: runner.results.length,
    elapsedMs,
    casesPerSecond: runner.results.length / (elapsedMs / 1000),
    calls,
    scenarios,
    scenarioMs,
    expected,
    traps,
    unexpected,
    unexpectedSeeds,
    failures: runner.failures,
    infra: runner.infra,
    ok: runner.failures.length === 0 && runner.infra.length === 0,
  };
}

/** Control characters (fuzzed strings end up in messages) shown as escapes. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f\ud800-\udfff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The report as text: statistics, then each failure with the command that replays it. */
export function formatReport(r: FuzzReport): string {
  return printable(reportLines(r).join('\n'));
}

function reportLines(r: FuzzReport): string[] {
  const lines: string[] = [];
  const table = (rec: Record<string, number>, indent = '  '): void => {
    for (const [k, v] of Object.entries(rec).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) lines.push(`${indent}${String(v).padStart(7)}  ${k}`);
  };
  lines.push(`cases run: ${r.cases} in ${(r.elapsedMs / 1000).toFixed(1)} s (${r.casesPerSecond.toFixed(1)} cases/s), base seed ${r.baseSeed}`);
  lines.push('scenarios (cases, mean ms a case):');
  for (const [k, v] of Object.entries(r.scenarios).sort((a, b) => b[1] - a[1])) lines.push(`  ${String(v).padStart(7)}  ${k} (${((r.scenarioMs[k] ?? 0) / v).toFixed(0)} ms)`);
  lines.push('calls per export:');
  table(r.calls);
  lines.push(`refused with TypeError/RangeError/RP_* code: ${r.expected}; the fuzzer's own trap errors passed through: ${r.traps}`);
  const other = Object.keys(r.unexpected).length;
  lines.push(`other thrown errors (informational, not failures), by message prefix: ${other === 0 ? 'none' : ''}`);
  for (const [k, v] of Object.entries(r.unexpected).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    lines.push(`  ${String(v).padStart(7)}  ${k}  (e.g. seed ${(r.unexpectedSeeds[k] ?? []).join(', ')})`);
  }
  for (const msg of r.infra) lines.push(`SETUP PROBLEM (the run is void): ${msg}`);
  if (r.failures.length === 0) {
    lines.push(r.infra.length === 0 ? 'no crash, no hang' : 'no crash, no hang in the cases that ran (but the run is void: see above)');
  } else {
    lines.push(`FAILURES: ${r.failures.length}`);
    for (const f of r.failures) {
      lines.push(`- ${f.kind} ${f.pinned ? `seed ${f.seeds[0]}` : `seeds ${f.seeds.join(',')} (together)`} [${f.scenario}]`);
      lines.push(`  replay: npm run fuzz -- --replay ${f.seeds.join(',')}`);
      for (const l of f.detail.split('\n')) lines.push(`  | ${l}`);
    }
  }
  return lines;
}
