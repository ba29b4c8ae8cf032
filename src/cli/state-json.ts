// State -> JSON-safe values for CLI output: a bigint becomes its decimal string,
// a TypedArray a plain array (bigint elements as strings). Lossy by design;
// the step file itself stays the exact record.
import { isTypedArray, type State } from '../iterator/state.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function stateToJson(value: State): Json {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (isTypedArray(value)) return Array.from(value as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? v.toString() : v));
  if (Array.isArray(value)) return value.map(stateToJson);
  const out: { [key: string]: Json } = {};
  for (const [key, item] of Object.entries(value)) out[key] = stateToJson(item);
  return out;
}
