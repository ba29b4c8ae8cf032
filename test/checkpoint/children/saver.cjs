// Kill -9 loop child: restores the directory's latest step, prints "ready S",
// then saves S+1, S+2, ... forever, printing "ack N" once save N has resolved
// (is durable). The parent kills it at a random moment.
// With "exit-in-flight", it starts one large save and exits before it can finish.
'use strict';
const { readdirSync } = require('node:fs');
const { PipelineCheckpoint } = require('../../../dist/cjs/index.js');

/** State of step n: n, and a payload of varying size whose contents depend on n. */
function stateOf(step) {
  const length = 1 + ((step * 7919) % 40000);
  const payload = new Float64Array(length);
  for (let i = 0; i < length; i++) payload[i] = step * 1e6 + i;
  return { step, length, payload, tag: `step-${step}` };
}

async function main() {
  const [mode, dir] = process.argv.slice(2);
  const ckpt = new PipelineCheckpoint(dir, { keep: 3 });
  let state = null;
  const pipeline = { getState: () => state, setState: (s) => { state = s; } };
  const start = (await ckpt.restoreLatest(pipeline)) ?? 0;
  if (mode === 'exit-in-flight') {
    state = stateOf(start + 1);
    state.payload = new Float64Array(4_000_000); // 32 MB: the write is still going when we exit
    ckpt.save(pipeline, { step: start + 1 }).catch(() => undefined);
    // Exit as soon as the temp file exists, i.e. while the write is under way.
    const timer = setInterval(() => {
      if (readdirSync(dir).some((name) => name.endsWith('.tmp'))) process.exit(0);
    }, 1);
    setTimeout(() => process.exit(0), 5000).unref();
    timer.unref();
    return;
  }
  process.stdout.write(`ready ${start}\n`);
  for (let step = start + 1; ; step++) {
    state = stateOf(step);
    await ckpt.save(pipeline, { step, metadata: { step } });
    process.stdout.write(`ack ${step}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
