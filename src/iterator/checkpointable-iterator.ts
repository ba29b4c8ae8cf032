// The base class of resumable iterators: next() plus a state to save and restore.
import type { State } from './state.js';

export abstract class CheckpointableIterator<T> implements IterableIterator<T> {
  abstract next(): IteratorResult<T>;

  /** A snapshot of everything needed to continue exactly from here. */
  abstract getState(): State;

  /** Continues from a snapshot; should validate it before changing anything. */
  abstract setState(state: State): void;

  /** The iterator is its own iterable, so `for...of` continues after setState. */
  [Symbol.iterator](): this {
    return this;
  }
}
