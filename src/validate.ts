// Argument checks for the TypeScript API: each error names the argument and
// carries `code` RP_INVALID_ARGUMENT (see README, "Error codes").
import { argumentRangeError, argumentTypeError } from './error-codes.js';

export { argumentRangeError, argumentTypeError };

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return typeof value;
}

/** An integer in [min, max]; TypeError for a non-number, RangeError otherwise. */
export function integer(value: unknown, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw argumentTypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw argumentRangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

export function optionalInteger(value: unknown, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  return value === undefined ? undefined : integer(value, name, min, max);
}

export function boolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw argumentTypeError(`${name} must be a boolean, got ${describe(value)}`);
  return value;
}

/**
 * An options object ({} for undefined). With `known`, every key must be one
 * of them, so a typo fails loudly instead of being ignored.
 */
export function plainObject(value: unknown, name: string, known?: readonly string[], what = 'an option'): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw argumentTypeError(`${name} must be an object, got ${describe(value)}`);
  }
  for (const key of known === undefined ? [] : Object.keys(value)) {
    if (!known!.includes(key)) throw argumentTypeError(`${name}.${key} is not ${what} (known: ${known!.join(', ')})`);
  }
  return value as Record<string, unknown>;
}
