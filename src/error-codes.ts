// The stable `code` of the errors the public API throws as built-in classes,
// and the factories that attach them (README, "Error codes"). The class stays
// TypeError/RangeError/Error; the typed classes in errors.ts carry their own
// codes.
import { withCode } from './errors.js';

export const ErrorCodes = {
  /** A bad argument, option or field: TypeError (wrong type) or RangeError (bad value). */
  INVALID_ARGUMENT: 'RP_INVALID_ARGUMENT',
  /** A source file (.npy) that opens but cannot be used: bad header, dtype, order, size. */
  SOURCE_INVALID: 'RP_SOURCE_INVALID',
  /** A value a checkpoint cannot hold (save, encodeState): TypeError/RangeError naming its path. */
  STATE_INVALID: 'RP_STATE_INVALID',
  /** Bytes that are not one valid msgpack State document (decodeState): RangeError naming path and byte. */
  STATE_MALFORMED: 'RP_STATE_MALFORMED',
  /** A loader used after close(). */
  LOADER_CLOSED: 'RP_LOADER_CLOSED',
  /** A loader called while a nextAsync() is pending. */
  LOADER_BUSY: 'RP_LOADER_BUSY',
  /** next() on a loader whose map is asynchronous (returned a Promise, or is a module): use nextAsync(). */
  MAP_ASYNC: 'RP_MAP_ASYNC',
  /** A resizable or growable buffer where a fixed one is needed. */
  BUFFER_RESIZABLE: 'RP_BUFFER_RESIZABLE',
  /** transfer() of a buffer a loader's threads use. */
  BUFFER_PINNED: 'RP_BUFFER_PINNED',
  /** The native addon could not be found or loaded. */
  ADDON_UNAVAILABLE: 'RP_ADDON_UNAVAILABLE',
  /** A CUDA call failed on the device (out of device memory, a kernel fault): Error from the CUDA addon. */
  CUDA_FAILED: 'RP_CUDA_FAILED',
  /** An optional peer dependency a feature needs is not installed (the message says what to install). */
  DEPENDENCY_MISSING: 'RP_DEPENDENCY_MISSING',
  /** This host cannot read or write step files (big-endian). */
  PLATFORM_UNSUPPORTED: 'RP_PLATFORM_UNSUPPORTED',
} as const;

type Coded<E> = E & { readonly code: string };

/** A TypeError about a bad argument (RP_INVALID_ARGUMENT). */
export function argumentTypeError(message: string): Coded<TypeError> {
  return withCode(new TypeError(message), ErrorCodes.INVALID_ARGUMENT);
}

/** A RangeError about a bad argument (RP_INVALID_ARGUMENT). */
export function argumentRangeError(message: string): Coded<RangeError> {
  return withCode(new RangeError(message), ErrorCodes.INVALID_ARGUMENT);
}

/** A RangeError about a source file's contents; the message names the file (RP_SOURCE_INVALID). */
export function sourceError(message: string): Coded<RangeError> {
  return withCode(new RangeError(message), ErrorCodes.SOURCE_INVALID);
}

/** A value a checkpoint cannot hold; the message names its path (RP_STATE_INVALID). */
export function stateTypeError(message: string): Coded<TypeError> {
  return withCode(new TypeError(message), ErrorCodes.STATE_INVALID);
}

/** A value a checkpoint cannot hold (too deep, too large); the message names its path (RP_STATE_INVALID). */
export function stateRangeError(message: string): Coded<RangeError> {
  return withCode(new RangeError(message), ErrorCodes.STATE_INVALID);
}

/** Bytes that do not decode to a State; the message names the path and byte (RP_STATE_MALFORMED). */
export function malformedStateError(message: string): Coded<RangeError> {
  return withCode(new RangeError(message), ErrorCodes.STATE_MALFORMED);
}

/** The addon cannot be found or loaded (RP_ADDON_UNAVAILABLE). */
export function addonError(message: string, options?: { cause?: unknown }): Coded<Error> {
  return withCode(new Error(message, options), ErrorCodes.ADDON_UNAVAILABLE);
}

/** An Error with the given code. */
export function codedError(message: string, code: string): Coded<Error> {
  return withCode(new Error(message), code);
}
