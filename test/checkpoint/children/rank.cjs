// One rank of a data-parallel job, as a launcher starts it: the shard comes
// from the environment (shardFromEnv, DataLoader shard: 'env'), only rank 0
// writes (primary), every rank restores the newest step. It moves in
// lockstep with the others, as ranks do around an all-reduce: on each "next"
// line from the parent it takes one batch (one step), the primary saves
// every `saveEvery` steps, and it reports {step, epoch, indices, saved}.
// argv: JSON { location, n, batchSize, seed, numEpochs, dropRemainder, saveEvery, s3? }.
'use strict';
const { createInterface } = require('node:readline');
const { ArraySource, DataLoader, PipelineCheckpoint, S3StepStore, shardFromEnv } = require('../../../dist/cjs/index.js');

const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

async function main() {
  const a = JSON.parse(process.argv[2]);
  const shard = shardFromEnv();
  const data = Int32Array.from({ length: a.n }, (_, i) => i);
  const loader = new DataLoader(new ArraySource({ y: { data, shape: [a.n] } }), {
    batchSize: a.batchSize,
    seed: a.seed,
    numEpochs: a.numEpochs,
    dropRemainder: a.dropRemainder,
    shard: 'env',
  });
  const store = a.s3 === undefined ? undefined : new S3StepStore(a.s3);
  const ckpt = new PipelineCheckpoint(a.location, { primary: shard.shardIndex === 0, store });
  const restored = await ckpt.restoreLatest(loader);
  let step = restored ?? 0;
  say({ ready: true, ...shard, restored });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line !== 'next') continue;
    const r = loader.next();
    if (r.done) {
      say({ done: true, step });
      continue;
    }
    step += 1;
    let saved = false;
    if (step % a.saveEvery === 0) {
      await ckpt.save(loader, { step });
      saved = shard.shardIndex === 0;
    }
    say({ step, epoch: r.value.epoch, indices: Array.from(r.value.indices), saved });
  }
  await ckpt.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
