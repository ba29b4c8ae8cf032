// An independent reference for the DataLoader's order, written from the
// documented rules with plain loops and a materialised permutation: the
// order key chain, rounds (one batch per shard), the even split of a short
// last round, and dropRemainder dropping the whole short round.
import { random } from '../../src/index.js';

export interface OrderConfig {
  n: number;
  batchSize: number;
  shardCount: number;
  dropRemainder: boolean;
  numEpochs: number;
  seed: number | bigint;
  shuffle: boolean;
}

export interface Cursor {
  epoch: number;
  position: number;
}

export interface ExpectedBatch {
  epoch: number;
  indices: number[];
  /** The state's cursor once the batch is returned. */
  after: Cursor;
}

export function orderKey(seed: number | bigint, epoch: number): random.Key {
  const lo = epoch % 2 ** 32;
  const hi = Math.floor(epoch / 2 ** 32);
  return random.foldIn(random.foldIn(random.foldIn(random.key(seed), 0), lo), hi);
}

/** The documented map key: (seed, epoch, first record index, or n when empty). */
export function batchKey(seed: number | bigint, epoch: number, firstRecord: number): random.Key {
  let k = random.foldIn(random.key(seed), 1);
  for (const v of [epoch, firstRecord]) k = random.foldIn(random.foldIn(k, v % 2 ** 32), Math.floor(v / 2 ** 32));
  return k;
}

const orders = new Map<string, Uint32Array>();
export function epochOrder(c: OrderConfig, epoch: number): Uint32Array {
  if (!c.shuffle) return Uint32Array.from({ length: c.n }, (_, i) => i);
  const id = `${c.seed}/${epoch}/${c.n}`;
  let order = orders.get(id);
  if (order === undefined) {
    order = random.permutation(orderKey(c.seed, epoch), c.n);
    if (orders.size > 2000) orders.clear();
    orders.set(id, order);
  }
  return order;
}

/** Every shard's batch of each round from `from`, at most maxRounds rounds. */
export function expectedRounds(c: OrderConfig, from: Cursor, maxRounds = Infinity): ExpectedBatch[][] {
  const rounds: ExpectedBatch[][] = [];
  let { epoch, position } = from;
  const S = c.shardCount * c.batchSize;
  while (epoch < c.numEpochs && rounds.length < maxRounds) {
    const remaining = c.n - position;
    if (c.dropRemainder && remaining < S) {
      epoch += 1;
      position = 0;
      continue;
    }
    const sizes: number[] = [];
    if (remaining >= S) {
      for (let k = 0; k < c.shardCount; k++) sizes.push(c.batchSize);
    } else {
      const base = Math.floor(remaining / c.shardCount);
      for (let k = 0; k < c.shardCount; k++) sizes.push(base + (k < remaining % c.shardCount ? 1 : 0));
    }
    const next = position + Math.min(S, remaining);
    const after = next === c.n || (c.dropRemainder && c.n - next < S) ? { epoch: epoch + 1, position: 0 } : { epoch, position: next };
    const order = epochOrder(c, epoch);
    let start = position;
    rounds.push(
      sizes.map((size) => {
        const indices = Array.from(order.subarray(start, start + size));
        start += size;
        return { epoch, indices, after };
      }),
    );
    ({ epoch, position } = after);
  }
  return rounds;
}

/** One shard's batches from `from`. */
export function expectedBatches(c: OrderConfig, shard: number, from: Cursor = { epoch: 0, position: 0 }, maxRounds = Infinity): ExpectedBatch[] {
  return expectedRounds(c, from, maxRounds).map((round) => round[shard]!);
}
