// One of two writers racing for one directory. On "go" it saves step 1 and
// reports {first: "ok"} or {first: <error code>}; on "finish", if it won, it
// saves steps 2..20 and reports {done: [...]}; then it closes and exits.
// With "hold", it saves step 1 and keeps the lock until stdin closes.
'use strict';
const { createInterface } = require('node:readline');
const { PipelineCheckpoint } = require('../../../dist/cjs/index.js');

const [mode, dir, id] = process.argv.slice(2);
const ckpt = new PipelineCheckpoint(dir);
const pipeline = { step: 0, getState() { return { writer: id, step: this.step }; }, setState() {} };
const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
let won = false;

async function onLine(line) {
  if (line === 'go') {
    try {
      pipeline.step = 1;
      await ckpt.save(pipeline, { step: 1 });
      won = true;
      say({ first: 'ok' });
    } catch (err) {
      say({ first: err.code ?? err.name, message: err.message });
    }
  } else if (line === 'finish') {
    const done = [];
    if (won) {
      for (let step = 2; step <= 20; step++) {
        pipeline.step = step;
        await ckpt.save(pipeline, { step });
        done.push(step);
      }
    }
    await ckpt.close();
    say({ done });
    process.exit(0);
  }
}

if (mode === 'hold') {
  pipeline.step = 1;
  ckpt.save(pipeline, { step: 1 }).then(() => say({ holding: true }), (err) => say({ holding: false, message: err.message }));
  process.stdin.on('end', () => process.exit(0)).resume();
} else {
  say({ ready: true });
  createInterface({ input: process.stdin }).on('line', (line) => {
    onLine(line).catch((err) => {
      process.stderr.write(`${err.stack}\n`);
      process.exit(1);
    });
  });
}
