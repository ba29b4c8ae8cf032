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
