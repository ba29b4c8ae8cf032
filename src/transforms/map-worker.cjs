'use strict';
// The worker-thread entry of a module map (run by piscina). Each task is one
// batch: its bytes, copied into buffers of its own and transferred here, so no
// other thread can detach or free them. The map's result goes back with its
// ArrayBuffers transferred, not cloned. A map that throws is a reply, never
// a worker crash; only a dying worker rejects the task.
const { workerData } = require('node:worker_threads');
const { Piscina } = require('piscina');
const { loadMapModule, transfersOf, errorReply } = require('./map-module.cjs');

let loading; // the module loads at the first task, so a module that exits while loading kills a ready worker (replaced)
let random; // the package's random namespace, for ctx.key

function keyOf(words) {
  if (random === undefined) {
    try {
      random = require(workerData.index).random; // the main thread's own copy (src under a TypeScript loader, or dist/)
    } catch {
      random = require('resumable-pipeline').random; // src without a TypeScript loader here: the built package
    }
  }
  return random.wrapKeyData(words);
}

function contextOf(task) {
  let key;
  return {
    get key() {
      if (key === undefined) key = keyOf(task.key);
      return key;
    },
    epoch: task.epoch,
    indices: task.indices,
  };
}

module.exports = async function runMap(task) {
  if (loading === undefined) loading = loadMapModule(workerData.module);
  let fn;
  try {
    fn = await loading;
  } catch (error) {
    return { invalid: error.message };
  }
  const batch = task.batch;
  if (Array.isArray(batch)) {
    // A record batch: an array's own properties do not survive the copy.
    batch.epoch = task.epoch;
    batch.indices = task.indices;
  }
  let value;
  try {
    value = await fn(batch, contextOf(task));
  } catch (error) {
    return { failed: errorReply(error) };
  }
  const reply = { value };
  const transfer = transfersOf(value);
  if (transfer.length === 0) return reply;
  return Piscina.move({ [Piscina.transferableSymbol]: transfer, [Piscina.valueSymbol]: reply });
};
