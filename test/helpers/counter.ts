// Small iterators with a strict setState, for the checkpoint tests.
import { CheckpointableIterator, type State } from '../../src/index.js';

/** A counter with a strict setState: it validates everything before changing anything. */
export class Counter extends CheckpointableIterator<number> {
  position = 0;
  seed = 7n;
  weights = new Float64Array([0.5, -0, 1.5, 2.5]);

  next(): IteratorResult<number> {
    this.position += 1;
    this.weights[this.position % 4] = this.position;
    return { done: false, value: this.position };
  }

  getState(): State {
    return { position: this.position, seed: this.seed, weights: this.weights.slice() };
  }

  setState(state: State): void {
    if (typeof state !== 'object' || state === null || Array.isArray(state) || ArrayBuffer.isView(state)) {
      throw new TypeError('state must be an object');
    }
    const { position, seed, weights } = state as Record<string, State>;
    if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) throw new RangeError('state.position is invalid');
    if (typeof seed !== 'bigint') throw new TypeError('state.seed must be a bigint');
    if (!(weights instanceof Float64Array) || weights.length !== 4) throw new TypeError('state.weights must be a Float64Array(4)');
    this.position = position;
    this.seed = seed;
    this.weights = weights.slice();
  }
}

/** An iterator whose setState changes part of itself and then throws: restore must roll it back. */
export class HalfApplying extends Counter {
  override setState(state: State): void {
    const s = state as Record<string, State>;
    if (typeof s.position === 'number') this.position = s.position;
    if (s.reject === true) throw new RangeError('state.reject: this state is refused after a partial update');
    super.setState(state);
  }
}
