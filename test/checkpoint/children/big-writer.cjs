// A writer the parent kills mid-write: saves step 1 (small), prints "saved 1",
// then starts a save of step 2 with a 64 MiB state and prints "writing 2";
// the parent SIGKILLs it while the temp file of step 2 exists.
'use strict';
const { PipelineCheckpoint } = require('../../../dist/cjs/index.js');

async function main() {
  const dir = process.argv[2];
  const ckpt = new PipelineCheckpoint(dir);
  let state = { step: 1 };
  const pipeline = { getState: () => state, setState: (s) => void (state = s) };
  await ckpt.save(pipeline, { step: 1 });
  process.stdout.write('saved 1\n');
  state = { step: 2, weights: new Float32Array(16 * 1024 * 1024).fill(2) };
  const saving = ckpt.save(pipeline, { step: 2 });
  process.stdout.write('writing 2\n');
  await saving;
  process.stdout.write('saved 2\n');
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
