// Filesystem faults, run inside a private mount namespace on a tiny tmpfs.
//   enospc DIR:   save step 1, then a save too large for the disk, then step 3.
//   prepare DIR:  save steps 1 and 2.
//   readonly DIR: (DIR now read-only or unwritable) restore, then try to save.
// Each prints one JSON report line.
'use strict';
const { readdirSync } = require('node:fs');
const { PipelineCheckpoint } = require('../../../dist/cjs/index.js');

const [mode, dir] = process.argv.slice(2);
let state = null;
const pipeline = { getState: () => state, setState: (s) => { state = s; } };
const describe = (err) => err && { name: err.name, code: err.code, causeCode: err.cause && err.cause.code, file: err.file, message: err.message };

async function trySave(ckpt, step, value) {
  state = value;
  try {
    await ckpt.save(pipeline, { step });
    return null;
  } catch (err) {
    return describe(err);
  }
}

async function main() {
  const ckpt = new PipelineCheckpoint(dir);
  const report = {};
  if (mode === 'enospc') {
    report.first = await trySave(ckpt, 1, { step: 1, data: new Uint8Array(1000).fill(1) });
    report.tooLarge = await trySave(ckpt, 2, { step: 2, data: new Uint8Array(4 << 20).fill(2) });
    report.namesAfterFailure = readdirSync(dir).sort();
    state = null;
    report.restored = await ckpt.restoreLatest(pipeline);
    report.restoredState = state && { step: state.step, length: state.data.length, ok: state.data.every((b) => b === 1) };
    report.afterwards = await trySave(ckpt, 3, { step: 3, data: new Uint8Array(10).fill(3) });
    report.steps = await ckpt.steps();
  } else if (mode === 'prepare') {
    report.first = await trySave(ckpt, 1, { step: 1 });
    report.second = await trySave(ckpt, 2, { step: 2 });
  } else if (mode === 'readonly') {
    report.restored = await ckpt.restoreLatest(pipeline);
    report.restoredState = state;
    report.save = await trySave(ckpt, 3, { step: 3 });
    report.steps = await ckpt.steps();
    report.names = readdirSync(dir).sort();
  }
  await ckpt.close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
