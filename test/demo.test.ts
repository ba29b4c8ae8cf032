// `npm run demo` end to end: a SIGKILLed child, a restore, a verified stream.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('the quickref demo resumes after SIGKILL and verifies the stream', () => {
  const root = join(__dirname, '..');
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/quickref.ts'], { cwd: root, encoding: 'utf8' });
  expect(out).toMatch(/^Saved checkpoint at step 100$/m);
  expect(out).toMatch(/^Killed the training process with SIGKILL$/m);
  expect(out).toMatch(/^Before restore: position=0$/m);
  expect(out).toMatch(/^After restore: position=\d+/m);
  expect(out).toMatch(/^Resumed stream matches the uninterrupted run/m);
});

it('the loader demo resumes a DataLoader after SIGKILL, then elastically with two shards', () => {
  const root = join(__dirname, '..');
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/loader.ts'], { cwd: root, encoding: 'utf8' });
  expect(out).toMatch(/^Killed the training process with SIGKILL$/m);
  expect(out).toMatch(/^Resumed stream matches the uninterrupted run/m);
  expect(out).toMatch(/^Two shards resumed from the same file: .* came exactly once$/m);
});

it('the training demo resumes a tfjs model, its optimizer and the loader after SIGKILL and SIGTERM, byte for byte', () => {
  const root = join(__dirname, '..');
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/train.ts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(out).toMatch(/^Killed the first training process with SIGKILL at step \d+$/m);
  expect(out).toMatch(/^ {2}a training process resumed at step [1-9]\d*$/m); // the second one, from a checkpoint
  expect(out).toMatch(/^The second training process saved step \d+ on SIGTERM and exited with 143$/m);
  expect(out).toMatch(/^Resumed in this process at step \d+ and finished at step 256$/m);
  expect(out).toMatch(/^Steps kept \(keep: 2, keepBest: the best 2 by loss\): [\d, ]+; best: step \d+/m);
  expect(out).toMatch(/^Final weights match the uninterrupted run byte for byte/m);
}, 150_000);

it('the tokenize demo resumes module maps on workers after SIGKILL, with another worker count, byte for byte', () => {
  const root = join(__dirname, '..');
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/tokenize.ts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(out).toMatch(/^Killed the tokenizing process \(workers: 2\) with SIGKILL after batch \d+$/m);
  expect(out).toMatch(/^ {2}resumed at step [1-9]\d* with workers: 1/m);
  expect(out).toMatch(/^Output: \d+ bytes, [1-9]\d* tokens/m);
  expect(out).toMatch(/^Resumed output equals the uninterrupted run byte for byte$/m);
}, 150_000);

it('the enrich demo keeps 16 HTTP maps in flight and resumes with another concurrency', () => {
  const root = join(__dirname, '..');
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/enrich.ts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(out).toMatch(/^Resumed at batch 120 with concurrency 4: 200 batches, equal to the uninterrupted run$/m);
  expect(out).toMatch(/^Requests: \d+ for 800 records \(two full runs\), [1-9]\d* sent again/m);
});
