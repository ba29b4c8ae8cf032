// PipelineCheckpoint: one msgpack step file per step in a directory, written
// durably in the background, pruned by retention, read back with fallback.
// The guarantees and the policies are spelled out in FORMAT.md §5-§7.
// All storage goes through a StepStore (PosixStepStore unless one is given).
import { join, resolve } from 'node:path';
import {
  CheckpointClosedError,
  CheckpointCorruptError,
  CheckpointExistsError,
  CheckpointLockedError,
  CheckpointWriteError,
  ResumablePipelineError,
} from '../errors.js';
import type { Checkpointable, State } from '../iterator/state.js';
import { argumentTypeError, boolean, describe, integer, optionalInteger, plainObject } from '../validate.js';
import { PosixStepStore } from './posix-step-store.js';
import { type RetentionPolicy, stepsToPrune } from './retention.js';
import { encodeStepFile } from './step-file.js';
import { listSteps, readStep, setAsideName, stepFileName, stepFileStatus, stepsIn, TEMP_FILE } from './step-directory.js';
import type { StepStore, StepStoreLock } from './step-store.js';

export interface PipelineCheckpointOptions extends RetentionPolicy {
  /**
   * Where the step files live. Default: a PosixStepStore over the directory.
   * `directory` still names the files in errors and resolved paths.
   */
  store?: StepStore | undefined;
}

export interface SaveOptions {
  /** The step number (a safe integer >= 0); must be newer than every valid step present unless `overwrite`. */
  step: number;
  /** Any State, saved with the step and read back by metadata(step). Default {}. */
  metadata?: State;
  /** Overrides the directory's `keep` for this save. */
  keep?: number;
  /** Replace the file of this step, and delete every newer step (a rewind), instead of throwing. */
  overwrite?: boolean;
}

function checkPipeline(pipeline: unknown, method: 'getState' | 'setState'): Checkpointable {
  if (typeof pipeline !== 'object' || pipeline === null || typeof (pipeline as Record<string, unknown>)[method] !== 'function') {
    throw argumentTypeError(`pipeline must be an object with a ${method}() method, got ${describe(pipeline)}`);
  }
  return pipeline as Checkpointable;
}

export class PipelineCheckpoint {
  readonly directory: string;
  private readonly retention: RetentionPolicy;
  private readonly store: StepStore;
  /** Held from the first save or delete until close(); readers never take it. */
  private lock: StepStoreLock | undefined;
  /**
   * The steps present, ascending, kept while the lock is held: no other writer
   * can change them then, so a save needs no directory listing.
   */
  private known: number[] = [];
  /** Saves and deletes run one after another; reads wait for those queued before them. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(directory: string, options_: PipelineCheckpointOptions = {}) {
    if (typeof directory !== 'string' || directory === '') {
      throw argumentTypeError(`directory must be a non-empty string, got ${describe(directory)}`);
    }
    const opts = plainObject(options_, 'options', ['keep', 'keepEvery', 'store']);
    this.retention = {
      keep: optionalInteger(opts.keep, 'options.keep', 1),
      keepEvery: optionalInteger(opts.keepEvery, 'options.keepEvery', 1),
    };
    if (opts.store !== undefined && (typeof opts.store !== 'object' || opts.store === null)) {
      throw argumentTypeError(`options.store must be a StepStore, got ${describe(opts.store)}`);
    }
    this.directory = resolve(directory);
    this.store = (opts.store as StepStore | undefined) ?? new PosixStepStore(this.directory);
    this.store.create();
  }

  /**
   * Captures pipeline.getState() and encodes it now, synchronously, so the
   * pipeline may move on at once; resolves with the file's path once it is
   * durable. Saves are written one at a time, in call order.
   */
  save(pipeline: Checkpointable, saveOptions: SaveOptions): Promise<string> {
    let bytes: Uint8Array;
    let step: number;
    let keep: number | undefined;
    let overwrite: boolean;
    try {
      this.checkOpen();
      if (saveOptions === undefined) throw argumentTypeError('options must be an object with a step, got undefined');
      const opts = plainObject(saveOptions, 'options', ['step', 'metadata', 'keep', 'overwrite']);
      step = integer(opts.step, 'options.step');
      keep = optionalInteger(opts.keep, 'options.keep', 1) ?? this.retention.keep;
      overwrite = boolean(opts.overwrite, 'options.overwrite', false);
      const state = checkPipeline(pipeline, 'getState').getState();
      bytes = encodeStepFile(step, state, opts.metadata === undefined ? {} : opts.metadata);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue((durable) => this.write(step, bytes, overwrite, keep, durable));
  }

  /**
   * Restores the newest step that passes every check, skipping (with a
   * RP_CHECKPOINT_CORRUPT warning) any that does not. Null only if there are
   * no step files; if there are some but none is valid, it throws.
   */
  async restoreLatest(pipeline: Checkpointable): Promise<number | null> {
    const target = checkPipeline(pipeline, 'setState');
    await this.queue;
    const steps = await listSteps(this.store);
    const failures: CheckpointCorruptError[] = [];
    for (let i = steps.length - 1; i >= 0; i--) {
      const found = await stepFileStatus(this.store, this.directory, steps[i]!);
      if (found.status === 'missing') continue; // pruned by a writer meanwhile
      if (found.status === 'corrupt') {
        const err = found.error;
        failures.push(err);
        process.emitWarning(`${err.message}; falling back to an older step`, { code: err.code, type: 'CheckpointWarning' });
        continue;
      }
      applyState(target, found.contents.state);
      return found.step;
    }
    if (failures.length > 0) {
      throw new CheckpointCorruptError(
        this.directory,
        `all ${failures.length} step files are corrupt (the newest, ${failures[0]!.file}: ${failures[0]!.reason})`,
      );
    }
    return null;
  }

  /** Restores one step; a missing or corrupt file throws a typed error naming it. */
  async restore(pipeline: Checkpointable, step: number): Promise<number> {
    const target = checkPipeline(pipeline, 'setState');
    integer(step, 'step');
    await this.queue;
    applyState(target, (await readStep(this.store, this.directory, step)).state);
    return step;
  }

  /** The steps whose files are present, ascending (files are not read: see restoreLatest). */
  async steps(): Promise<number[]> {
    await this.queue;
    return listSteps(this.store);
  }

  /** The highest step present, or null. */
  async latestStep(): Promise<number | null> {
    const steps = await this.steps();
    return steps.length === 0 ? null : steps[steps.length - 1]!;
  }

  /** The metadata saved with a step (the file is checked as fully as by restore). */
  async metadata(step: number): Promise<State> {
    integer(step, 'step');
    await this.queue;
    return (await readStep(this.store, this.directory, step)).metadata;
  }

  /** Deletes one step's file durably (no error if it is already gone). */
  delete(step: number): Promise<void> {
    try {
      this.checkOpen();
      integer(step, 'step');
    } catch (err) {
      return Promise.reject(err);
    }
    const file = join(this.directory, stepFileName(step));
    return this.enqueue(async () => {
      try {
        await this.acquireLock();
        await this.store.remove(stepFileName(step));
        this.forget(step);
        await this.store.syncDirectory();
      } catch (err) {
        throw err instanceof ResumablePipelineError ? err : new CheckpointWriteError(file, err);
      }
    });
  }

  /** Resolves when every save and delete queued so far has finished (their errors go to their own promises). */
  async waitUntilFinished(): Promise<void> {
    await this.queue;
  }

  /** Waits for pending saves, then releases the directory lock. Later saves throw CheckpointClosedError. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    this.lock?.release();
    this.lock = undefined;
    this.known = [];
  }

  private checkOpen(): void {
    if (this.closed) throw new CheckpointClosedError(this.directory);
  }

  /**
   * Runs task after everything queued before it. The task may settle its
   * promise early (a save resolves once durable, then prunes) and the next
   * task still waits for all of it. The returned promise is not chained to
   * anything here, so a failed save nobody awaits surfaces as an unhandled
   * rejection instead of vanishing.
   */
  private enqueue<T>(task: (settle: (value: T) => void) => Promise<T>): Promise<T> {
    return new Promise<T>((resolveTask, rejectTask) => {
      this.queue = this.queue.then(() => task(resolveTask).then(resolveTask, rejectTask));
    });
  }

  /**
   * Takes the lock on first write, then (only ever under the lock) clears temp
   * files of crashed writers and lists the steps present.
   */
  private async acquireLock(): Promise<void> {
    if (this.lock !== undefined) return;
    const lock = await this.store.lock();
    if (lock === null) throw new CheckpointLockedError(this.directory);
    try {
      const names = await this.store.list();
      for (const name of names) {
        if (TEMP_FILE.test(name)) await this.store.remove(name);
      }
      this.known = stepsIn(names);
    } catch (err) {
      lock.release();
      throw err;
    }
    this.lock = lock;
  }

  private forget(step: number): void {
    const i = this.known.indexOf(step);
    if (i !== -1) this.known.splice(i, 1);
  }

  private async write(
    step: number,
    bytes: Uint8Array,
    overwrite: boolean,
    keep: number | undefined,
    durable: (path: string) => void,
  ): Promise<string> {
    const file = join(this.directory, stepFileName(step));
    let prune: number[] = [];
    let failed: { name: string; reason: string }[] = [];
    try {
      await this.acquireLock();
      const notOlder = this.known.filter((s) => s >= step);
      if (overwrite) {
        // A rewind: the newer steps go first, so once this save resolves it is the latest.
        const newer = notOlder.filter((s) => s > step).reverse();
        for (const s of newer) {
          await this.store.remove(stepFileName(s));
          this.forget(s);
        }
      } else if (notOlder.length > 0) {
        await this.clearCorruptConflicts(step, notOlder);
      }
      // Retention is decided now and carried out in the same store call,
      // right after the new file is durable (one thread-pool trip per save).
      const after = this.known.includes(step) ? this.known : [...this.known, step].sort((a, b) => a - b);
      prune = stepsToPrune(after, { keep, keepEvery: this.retention.keepEvery }).filter((s) => s !== step);
      failed = await this.store.put(stepFileName(step), bytes, prune.map(stepFileName));
    } catch (err) {
      throw err instanceof ResumablePipelineError ? err : new CheckpointWriteError(file, err);
    }
    if (!this.known.includes(step)) this.known = [...this.known, step].sort((a, b) => a - b);
    const notRemoved = new Set(failed.map((f) => f.name));
    for (const old of prune) if (!notRemoved.has(stepFileName(old))) this.forget(old);
    durable(file);
    // Retention is housekeeping: a file it could not remove never fails the save.
    if (failed.length > 0) {
      process.emitWarning(`could not prune old steps in ${this.directory}: ${failed.map((f) => `${f.name}: ${f.reason}`).join('; ')}`, {
        code: 'RP_CHECKPOINT_PRUNE_FAILED',
        type: 'CheckpointWarning',
      });
    }
    return file;
  }

  /**
   * A save must be newer than every valid step. Conflicting files that are
   * corrupt do not block it (after a fallback the loop will save those steps
   * again): they are renamed aside to step_<N>.msgpack.corrupt and kept.
   */
  private async clearCorruptConflicts(step: number, conflicts: readonly number[]): Promise<void> {
    const corrupt: number[] = [];
    for (const s of [...conflicts].reverse()) {
      const found = await stepFileStatus(this.store, this.directory, s);
      if (found.status === 'missing') {
        this.forget(s); // removed by hand meanwhile
        continue;
      }
      if (found.status === 'corrupt') {
        corrupt.push(s);
        continue;
      }
      const file = found.file;
      throw s === step
        ? new CheckpointExistsError(file)
        : new CheckpointExistsError(
            file,
            `checkpoint ${file} is newer than step ${step}; a save must be newer than every valid step ` +
              `(pass overwrite: true to rewind: replace step ${step} and delete the newer steps)`,
          );
    }
    for (const s of corrupt) {
      await this.store.setAside(stepFileName(s), setAsideName(s));
      this.forget(s);
    }
  }
}

/** setState, rolled back to the previous state if it throws part-way. */
function applyState(target: Checkpointable, state: State): void {
  let before: State | undefined;
  try {
    before = typeof target.getState === 'function' ? target.getState() : undefined;
  } catch {
    before = undefined; // nothing to roll back to
  }
  try {
    target.setState(state);
  } catch (err) {
    if (before !== undefined) {
      try {
        target.setState(before);
      } catch {
        // The original error is the one the caller needs.
      }
    }
    throw err;
  }
}
