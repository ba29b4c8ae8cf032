// saveOnSignal child: a training loop that advances a step on every event-loop
// turn, saves every 2000 steps without awaiting, and has saveOnSignal installed.
// Modes (argv[3]):
//   plain      the signal save is written at once;
//   slow       every save after the first waits 1.5 s before it is written,
//              so a second signal lands during the signal's save;
//   in-flight  at step 100 it starts a save (delayed 1 s), prints "saving 100"
//              and the parent signals while it is in flight;
//   uninstall  installs the handlers and removes them at once.
// It prints "ready" once its first save is durable, and "signal-save S" when
// the signal handler captures step S (from the metadata callback).
'use strict';
const { PipelineCheckpoint, PosixStepStore } = require('../../../dist/cjs/index.js');

const [dir, mode] = process.argv.slice(2);
/** How long the put of a file name waits before it is written (0: not at all). */
let delayOf = () => 0;
class SlowStore extends PosixStepStore {
  async put(name, bytes, prune) {
    const ms = delayOf(name);
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    return super.put(name, bytes, prune);
  }
}

const ckpt = new PipelineCheckpoint(dir, { store: new SlowStore(dir), keep: 5 });
let step = 0;
const data = new Float64Array(10_000); // filled with the step: a saved copy must hold one value throughout
const parts = {
  counter: { getState: () => ({ step }), setState: (s) => void (step = s.step) },
  blob: { getState: () => ({ data }), setState: (s) => data.set(s.data) },
};

const off = ckpt.saveOnSignal(parts, {
  step: () => step,
  metadata: () => {
    process.stdout.write(`signal-save ${step}\n`);
    return { loss: 1 / (step + 1), signal: true };
  },
});
if (mode === 'uninstall') off();

async function main() {
  await ckpt.save(parts, { step: 0 });
  process.stdout.write('ready\n');
  if (mode === 'slow') delayOf = () => 1500;
  if (mode === 'in-flight') delayOf = (name) => (name === 'step_100.msgpack' ? 1000 : 0);
  for (;;) {
    await new Promise((resolve) => setImmediate(resolve));
    step += 1;
    data.fill(step);
    if (mode === 'in-flight' && step === 100) {
      ckpt.save(parts, { step, metadata: { loss: 1 } }).then(() => process.stdout.write('saved 100\n'));
      process.stdout.write('saving 100\n');
      continue;
    }
    if (step % 2000 === 0 && mode !== 'in-flight') ckpt.save(parts, { step }).catch(() => undefined);
    if (step > 1e7) break;
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
