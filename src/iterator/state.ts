// What a checkpoint can hold, and the check that a value is one of those.
import { isTypedArray, type TypedArray } from '../typed-arrays.js';
import { stateRangeError, stateTypeError } from '../error-codes.js';

export { isTypedArray, type TypedArray };

/** A checkpointable value; it round-trips exactly through a step file. */
export type State = null | boolean | number | bigint | string | TypedArray | State[] | { [key: string]: State };

/** Anything with getState/setState can be checkpointed (duck typing). */
export interface Checkpointable {
  getState(): State;
  setState(state: State): void;
}

/** Arrays and objects nest at most this deep (the root is depth 0). */
export const MAX_STATE_DEPTH = 512;

/** An object literal (or Object.create(null)): not an array, class instance, Map, ... */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

// A lone surrogate has no UTF-8 form; encoding would silently replace it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function wellFormed(text: string): boolean {
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed;
  return native !== undefined ? native.call(text) : !LONE_SURROGATE.test(text);
}

function describeKind(value: object): string {
  if (ArrayBuffer.isView(value)) return `a ${value.constructor?.name ?? 'binary view'}`;
  return `a ${value.constructor?.name ?? 'non-plain object'}`;
}

/**
 * Throws a TypeError (RangeError past MAX_STATE_DEPTH) naming the path of the
 * first value that a step file cannot hold exactly.
 */
export function assertState(value: unknown, path = 'state'): asserts value is State {
  check(value, path, 0, new Set());
}

function check(value: unknown, path: string, depth: number, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'boolean':
    case 'number':
    case 'bigint':
      return;
    case 'string':
      if (!wellFormed(value)) throw stateTypeError(`${path} is a string with a lone surrogate, which UTF-8 cannot hold`);
      return;
    case 'object': {
      if (value === null || isTypedArray(value)) return;
      if (ancestors.has(value)) throw stateTypeError(`${path} is a circular reference, which a checkpoint cannot hold`);
      if (depth >= MAX_STATE_DEPTH) throw stateRangeError(`${path} is nested deeper than ${MAX_STATE_DEPTH} levels`);
      ancestors.add(value);
      if (Array.isArray(value)) {
        // An index loop, not forEach, so holes are seen (as undefined) and rejected.
        for (let i = 0; i < value.length; i++) check(value[i], `${path}[${i}]`, depth + 1, ancestors);
      } else if (isPlainObject(value)) {
        for (const key of Object.keys(value)) {
          const at = `${path}.${key}`;
          if (key === '__proto__') throw stateTypeError(`${at}: the key "__proto__" cannot be stored in a checkpoint`);
          if (!wellFormed(key)) throw stateTypeError(`${at}: the key has a lone surrogate, which UTF-8 cannot hold`);
          check((value as Record<string, unknown>)[key], at, depth + 1, ancestors);
        }
      } else {
        throw stateTypeError(`${path} is ${describeKind(value)}, which a checkpoint cannot hold`);
      }
      ancestors.delete(value);
      return;
    }
    default:
      throw stateTypeError(`${path} is ${typeof value}, which a checkpoint cannot hold`);
  }
}
