// The end-to-end case scripts/test-prebuilds.mjs runs with each prebuild (x64,
// and arm64 under qemu), from a project that installed the packed tarball:
//   node prebuild-e2e.cjs save <dir>     loaders over an in-memory and a mapped
//                                        .npy source, K batches, a checkpoint
//   node prebuild-e2e.cjs restore <dir>  a new process: restore, K more batches
//   node prebuild-e2e.cjs straight <dir> 2K batches without a break
// Each prints one JSON line: the addon it loaded and SHA-256 digests of the
// batches (and of the step file), which must be equal on every architecture:
// the permutation, the gather and the CRC-32C (no SSE4.2 on arm64) agree.
'use strict';
const { createHash } = require('node:crypto');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { ArraySource, DataLoader, NpySource, PipelineCheckpoint, random } = require('resumable-pipeline');

const K = 6;
const N = 1000;
const [mode, dir] = process.argv.slice(2);

/** A C-order float32 [N, 64] .npy file (format 1.0) with values from the row and column. */
function writeNpy(path) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${N}, 64), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const preamble = Buffer.alloc(10);
  preamble.write('\x93NUMPY', 0, 'latin1');
  preamble[6] = 1;
  preamble.writeUInt16LE(header.length, 8);
  const data = new Float32Array(N * 64).map((_, i) => Math.fround((i >> 6) * 0.25 - (i & 63)));
  writeFileSync(path, Buffer.concat([preamble, Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]));
}

function loaders() {
  const npy = join(dir, 'x.npy');
  if (!existsSync(npy)) writeNpy(npy);
  const memory = new ArraySource({
    x: { data: new Float32Array(N * 8).map((_, i) => i * 0.5), shape: [N, 8] },
    y: { data: new Uint8Array(N).map((_, i) => (i * 7) & 255), shape: [N] },
  });
  return {
    // small batches (the shared slab), shard 1 of 2, into the second epoch
    small: new DataLoader(memory, { batchSize: 96, seed: 42, numEpochs: 3, shardIndex: 1, shardCount: 2 }),
    // large batches (their own memory) of rows read from the mapped file
    large: new DataLoader(NpySource.open(npy), { batchSize: 200, seed: 7n, numEpochs: 3, prefetch: 3 }),
  };
}

/** One digest per batch: epoch, indices and every column's bytes. */
function take(loader, count) {
  const digests = [];
  for (let i = 0; i < count; i++) {
    const { value, done } = loader.next();
    if (done) throw new Error(`the loader ended after ${i} batches`);
    const hash = createHash('sha256').update(String(value.epoch));
    for (const name of Object.keys(value).sort()) {
      const field = value[name];
      if (ArrayBuffer.isView(field)) hash.update(name).update(new Uint8Array(field.buffer, field.byteOffset, field.byteLength));
    }
    digests.push(hash.digest('hex').slice(0, 16));
    loader.recycle(value);
  }
  return digests;
}

function pipelineOf(l) {
  return {
    getState: () => ({ small: l.small.getState(), large: l.large.getState() }),
    setState: (state) => {
      l.small.setState(state.small);
      l.large.setState(state.large);
    },
  };
}

async function main() {
  const l = loaders();
  const result = {
    arch: process.arch,
    addons: [],
    permutation: createHash('sha256').update(random.permutation(random.key(42), 100003)).digest('hex').slice(0, 16),
  };
  if (mode === 'straight') {
    result.small = take(l.small, 2 * K);
    result.large = take(l.large, 2 * K);
  } else if (mode === 'save') {
    result.small = take(l.small, K);
    result.large = take(l.large, K);
    Date.now = () => 1_700_000_000_000; // the step file's `created`, so its bytes compare across runs
    const checkpoint = new PipelineCheckpoint(join(dir, 'checkpoints'));
    const file = await checkpoint.save(pipelineOf(l), { step: K, metadata: { arch: 'any' } });
    await checkpoint.close();
    result.stepFile = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
  } else if (mode === 'restore') {
    const checkpoint = new PipelineCheckpoint(join(dir, 'checkpoints'));
    result.restoredStep = await checkpoint.restoreLatest(pipelineOf(l));
    await checkpoint.close();
    result.small = take(l.small, K);
    result.large = take(l.large, K);
  } else {
    throw new Error(`usage: prebuild-e2e.cjs save|restore|straight <dir> (got ${mode})`);
  }
  l.small.close();
  l.large.close();
  result.addons = process.report.getReport().sharedObjects.filter((path) => path.endsWith('.node'));
  console.log(JSON.stringify(result));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
