// Typed errors with stable string codes (as classic-level does), so callers
// can branch on `err.code` without parsing messages.

export class ResumablePipelineError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A step file failed its length, CRC, format or decode check. */
export class CheckpointCorruptError extends ResumablePipelineError {
  readonly file: string;
  readonly reason: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super('RP_CHECKPOINT_CORRUPT', `checkpoint file ${file} is corrupt: ${reason}`, options);
    this.file = file;
    this.reason = reason;
  }
}

/** Another writer (process or PipelineCheckpoint) holds the directory's lock. */
export class CheckpointLockedError extends ResumablePipelineError {
  readonly directory: string;
  constructor(directory: string) {
    super('RP_CHECKPOINT_LOCKED', `checkpoint directory ${directory} is locked by another writer`);
    this.directory = directory;
  }
}

/**
 * save() of a step that is not newer than every valid step present, without
 * `overwrite: true`; `file` is the step file in the way.
 */
export class CheckpointExistsError extends ResumablePipelineError {
  readonly file: string;
  constructor(file: string, message = `checkpoint ${file} already exists (pass overwrite: true to replace it)`) {
    super('RP_CHECKPOINT_EXISTS', message);
    this.file = file;
  }
}

/**
 * A save (or delete, or creating the directory) failed on I/O; `cause` is the
 * system error (its `code` is e.g. ENOSPC). Earlier steps are untouched.
 */
export class CheckpointWriteError extends ResumablePipelineError {
  readonly file: string;
  /** `action` completes "could not ... <file>" in the message. */
  constructor(file: string, cause: unknown, action = 'save checkpoint') {
    super('RP_CHECKPOINT_WRITE_FAILED', `could not ${action} ${file}: ${messageOf(cause)}`, { cause });
    this.file = file;
  }
}

/**
 * Listing the checkpoint directory or reading a step file failed on I/O
 * (EACCES, EIO, a directory that is gone, ...): `file` is the directory or
 * the step file, `cause` the system error (its `code` is Node's, e.g. EACCES).
 * A step file that is simply missing is CheckpointNotFoundError instead.
 */
export class CheckpointReadError extends ResumablePipelineError {
  readonly file: string;
  constructor(file: string, cause: unknown) {
    super('RP_CHECKPOINT_READ_FAILED', `could not read checkpoint ${file}: ${messageOf(cause)}`, { cause });
    this.file = file;
  }
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** save() or delete() after close(). */
export class CheckpointClosedError extends ResumablePipelineError {
  readonly directory: string;
  constructor(directory: string) {
    super('RP_CHECKPOINT_CLOSED', `PipelineCheckpoint for ${directory} is closed`);
    this.directory = directory;
  }
}

/** restore() or metadata() of a step that has no file. */
export class CheckpointNotFoundError extends ResumablePipelineError {
  readonly file: string;
  constructor(file: string) {
    super('RP_CHECKPOINT_NOT_FOUND', `checkpoint ${file} does not exist`);
    this.file = file;
  }
}

/**
 * A step saved as named parts does not fit the parts given to restore: a part
 * is missing from the file, the file holds one unnamed state (or parts where
 * one object was given), or a part's setState refused its state (`cause`).
 * `parts` names the parts at fault; no part was changed.
 */
export class CheckpointPartError extends ResumablePipelineError {
  readonly file: string;
  readonly parts: string[];
  constructor(file: string, parts: string[], message: string, options?: { cause?: unknown }) {
    super('RP_CHECKPOINT_PART', message, options);
    this.file = file;
    this.parts = parts;
  }
}

/** A state that does not fit the iterator it is restored into. */
export class IncompatibleStateError extends ResumablePipelineError {
  /** The fields whose saved value differs from this iterator's. */
  readonly fields: string[];
  constructor(message: string, fields: string[] = []) {
    super('RP_INCOMPATIBLE_STATE', message);
    this.fields = fields;
  }
}

/** A source file (e.g. a .npy file) could not be opened or mapped: missing, unreadable, or not a regular file. */
export class SourceOpenError extends ResumablePipelineError {
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('RP_SOURCE_OPEN_FAILED', message, options);
    this.file = file;
  }
}

/** A record of a source file that cannot be decoded (a JSON line that is not valid JSON or UTF-8); `line` is 1-based. */
export class RecordDecodeError extends ResumablePipelineError {
  readonly file: string;
  readonly line: number;
  constructor(file: string, line: number, message: string, options?: { cause?: unknown }) {
    super('RP_RECORD_INVALID', message, options);
    this.file = file;
    this.line = line;
  }
}

/** The records of a batch, for messages: the first few indices. */
function describeBatch(epoch: number, indices: Uint32Array): string {
  const shown = Array.from(indices.subarray(0, 8)).join(', ');
  return `the batch of epoch ${epoch} with records [${shown}${indices.length > 8 ? `, ... (${indices.length} in all)` : ''}]`;
}

/**
 * A map threw or rejected, on the main thread or in a worker. It surfaces at
 * that batch's place in the order; the next call retries the batch. `cause`
 * is what the map threw (from a worker: a copy with its name, message, stack
 * and code).
 */
export class MapError extends ResumablePipelineError {
  readonly epoch: number;
  readonly indices: Uint32Array;
  constructor(epoch: number, indices: Uint32Array, cause: unknown) {
    super('RP_MAP_FAILED', `map failed on ${describeBatch(epoch, indices)}: ${messageOf(cause)}`, { cause });
    this.epoch = epoch;
    this.indices = indices;
  }
}

/**
 * A batch killed two worker threads in a row (the worker exited, threw
 * outside the map, or ran past its resource limits); each was replaced.
 */
export class WorkerFailedError extends ResumablePipelineError {
  readonly epoch: number;
  readonly indices: Uint32Array;
  constructor(epoch: number, indices: Uint32Array, cause: unknown) {
    super('RP_WORKER_FAILED', `${describeBatch(epoch, indices)} killed two map workers: ${messageOf(cause)}`, { cause });
    this.epoch = epoch;
    this.indices = indices;
  }
}

/** A map module that cannot be found or loaded, or has no default export function; `module` names it. */
export class MapModuleError extends ResumablePipelineError {
  readonly module: string;
  constructor(module: string, message: string, options?: { cause?: unknown }) {
    super('RP_MAP_INVALID', message, options);
    this.module = module;
  }
}

/** Why CUDA cannot run: the CUDA addon is not built (or does not load), no driver, or no device. */
export type CudaUnavailableReason = 'not built' | 'no driver' | 'no device';

/** A GPU call (`device: 'cuda'`, `cuda.devices()`, `cuda.pinnedBuffer()`) where CUDA cannot run; `reason` says why. */
export class CudaUnavailableError extends ResumablePipelineError {
  readonly reason: CudaUnavailableReason;
  constructor(reason: CudaUnavailableReason, detail: string, options?: { cause?: unknown }) {
    super('RP_CUDA_UNAVAILABLE', `CUDA is unavailable (${reason}): ${detail}`, options);
    this.reason = reason;
  }
}

/**
 * Tags a TypeError, RangeError or Error about misuse (a bad argument, a closed
 * object) with a stable `code`, as the binding does for its own errors. The
 * property is not enumerable, so the error still compares equal to a plain
 * one with its message (as `assert.throws` and test matchers compare them).
 */
export function withCode<E extends Error>(error: E, code: string): E & { readonly code: string } {
  return Object.defineProperty(error, 'code', { value: code, writable: true, configurable: true, enumerable: false }) as E & { readonly code: string };
}
