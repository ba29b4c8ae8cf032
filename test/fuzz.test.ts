// The fuzzer (test/fuzz/, `npm run fuzz`): 30 seconds of random wrong and edge
// inputs to every export and to the raw binding, in child processes; any crash
// or hang fails the test with its seed and the command that replays it. The
// runner's own failure detection is checked with cases that crash on purpose.
import { describe, expect, it } from 'vitest';
import { type FuzzReport, formatReport, runFuzz } from './fuzz/runner.js';

const FUZZ_SECONDS = 30;

function summary(report: FuzzReport): string[] {
  return report.failures.map((f) => `${f.kind} in ${f.seeds.length === 1 ? 'seed' : 'seeds'} ${f.seeds.join(',')} [${f.scenario}]: replay with npm run fuzz -- --replay ${f.seeds.join(',')}`);
}

describe('fuzz', () => {
  it(`survives ${FUZZ_SECONDS} s of wrong and edge inputs to every export, without a crash or a hang`, async () => {
    const report = await runFuzz({ seconds: FUZZ_SECONDS, bisectSeconds: 30 });
    if (!report.ok) console.error(formatReport(report));
    expect(report.infra).toEqual([]);
    expect(summary(report)).toEqual([]);
    expect(report.cases).toBeGreaterThan(100);
  }, (FUZZ_SECONDS + 30 + 10 + 60) * 1000);

  describe('the runner reports a case that fails on purpose, with its seed', () => {
    const selftest = (what: string, seed: number, extra: { caseTimeoutMs?: number } = {}) =>
      runFuzz({ seconds: 120, seed: 7000, maxCases: 30, batch: 10, bisectSeconds: 60, env: { RP_FUZZ_SELFTEST: `${what}@${seed}` }, ...extra });

    it('an abort during a case', async () => {
      const report = await selftest('abort', 7013);
      expect(report.cases).toBe(29);
      expect(report.failures).toEqual([expect.objectContaining({ kind: 'crash', seeds: [7013], pinned: true })]);
      expect(report.failures[0]!.detail).toMatch(/SIGABRT during the case/);
      expect(report.ok).toBe(false);
      expect(formatReport(report)).toContain('npm run fuzz -- --replay 7013');
    }, 60_000);

    it('a segmentation fault', async () => {
      const report = await selftest('segv', 7021);
      expect(report.failures).toEqual([expect.objectContaining({ kind: 'crash', seeds: [7021], pinned: true })]);
      expect(report.failures[0]!.detail).toMatch(/SIGSEGV/);
    }, 60_000);

    it('a non-zero exit', async () => {
      const report = await selftest('exit', 7005);
      expect(report.failures).toEqual([expect.objectContaining({ kind: 'crash', seeds: [7005], pinned: true })]);
      expect(report.failures[0]!.detail).toMatch(/exited with code 3/);
    }, 60_000);

    it('a crash at exit, after the last case (found by bisecting the batch)', async () => {
      const report = await selftest('atexit', 7016);
      expect(report.cases).toBe(30);
      expect(report.failures).toEqual([expect.objectContaining({ kind: 'crash', seeds: [7016], pinned: true })]);
      expect(report.failures[0]!.detail).toMatch(/at exit/);
    }, 60_000);

    it('a case that never finishes', async () => {
      const report = await selftest('stall', 7002, { caseTimeoutMs: 2000 });
      expect(report.failures).toEqual([expect.objectContaining({ kind: 'hang', seeds: [7002], pinned: true })]);
      expect(report.cases).toBe(29);
    }, 60_000);

    it('and nothing when no case fails', async () => {
      const report = await selftest('abort', 999_999);
      expect(report.failures).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.cases).toBe(30);
    }, 60_000);
  });
});
