// What a checkpoint can hold, and the check that a value is one of those.
import type { TypedArray } from '../loader/gather.js';

export type { TypedArray };

/** A checkpointable value; it round-trips exactly through a step file. */
export type State = null | boolean | number | bigint | string | TypedArray | State[] | { [key: string]: State };

/** Anything with getState/setState can be checkpointed (duck typing). */
export interface Checkpointable {
  getState(): State;
  setState(state: State): void;
}

export function isTypedArray(value: unknown): value is TypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Throws a TypeError naming the path of the first value that is not State. */
export function assertState(value: unknown, path = 'state', seen = new Set<object>()): asserts value is State {
  switch (typeof value) {
    case 'boolean':
    case 'number':
    case 'bigint':
    case 'string':
      return;
    case 'object':
      if (value === null || isTypedArray(value)) return;
      if (seen.has(value)) throw new TypeError(`${path} is a circular reference, which a checkpoint cannot hold`);
      seen.add(value);
      if (Array.isArray(value)) {
        value.forEach((item, i) => assertState(item, `${path}[${i}]`, seen));
      } else if (isPlainObject(value)) {
        for (const [k, v] of Object.entries(value)) assertState(v, `${path}.${k}`, seen);
      } else {
        throw new TypeError(`${path} is a ${value.constructor?.name ?? 'non-plain object'}, which a checkpoint cannot hold`);
      }
      seen.delete(value);
      return;
    default:
      throw new TypeError(`${path} is ${typeof value}, which a checkpoint cannot hold`);
  }
}
