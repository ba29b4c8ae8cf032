// A section measured in a fresh child process, as a user's program runs the
// package: it imports the package and one bench file, not the harness with
// every other section, and nothing ran in it before. The harness's own
// process differs in ways V8 reacts to: after earlier sections its old
// generation is small but its young one has grown to the maximum, and then V8
// starts an incremental major GC about every 40 ms (its "allocation limit"),
// which slowed the 256 B default path to 0.6x of a fresh process's rate.
//
//   childSection(__filename, { id, title })   in the bench file, and
//   if (require.main === module) runChildSection(run)   at its end.
import { spawnSync } from 'node:child_process';
import type { BenchContext, Row, Section } from './harness.js';

type Run = (ctx: BenchContext) => Row[] | Promise<Row[]>;

/**
 * Runs the section in `rounds` fresh child processes (one with --quick); each
 * row is the median child's, by its ratio (else its value). A process is
 * worth a round of its own: on this VM a random gather from a 1 GiB source
 * runs at a rate that varies by process (10-16 GB/s at 256 B rows, with the
 * same code), as the host backs that memory differently each time.
 */
export function childSection(file: string, meta: { id: string; title: string }, rounds = 3): Section {
  return {
    ...meta,
    run(ctx: BenchContext): Row[] {
      const runs = Array.from({ length: ctx.quick ? 1 : rounds }, () => {
        const r = spawnSync(process.execPath, ['--import', 'tsx', file, 'child-section', JSON.stringify(ctx)], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          timeout: 1_200_000,
        });
        if (r.status !== 0) throw new Error(`${meta.id}: the child process failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''})`);
        return JSON.parse(r.stdout.trim().split('\n').pop()!) as Row[];
      });
      return runs[0]!.map((_, i) => {
        const byKey = runs.map((rows) => rows[i]!).sort((a, b) => (a.ratio ?? a.value) - (b.ratio ?? b.value));
        const row = byKey[Math.floor((byKey.length - 1) / 2)]!;
        return runs.length === 1 ? row : { ...row, note: [row.note, `median of ${runs.length} processes`].filter(Boolean).join('; ') };
      });
    },
  };
}

/** In the child: runs the section in this process and prints its rows as JSON. */
export function runChildSection(run: Run): void {
  if (process.argv[2] !== 'child-section') return;
  const ctx = JSON.parse(process.argv[3]!) as BenchContext;
  Promise.resolve(run(ctx)).then(
    (rows) => process.stdout.write(`\n${JSON.stringify(rows)}\n`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
