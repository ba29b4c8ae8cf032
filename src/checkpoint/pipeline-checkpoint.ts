// PipelineCheckpoint: one msgpack step file per step in a directory, written
// durably in the background, pruned by retention, read back with fallback.
// The guarantees and the policies are spelled out in FORMAT.md §5-§7.
// All storage goes through a StepStore (PosixStepStore unless one is given).
import {
  CheckpointClosedError,
  CheckpointCorruptError,
  CheckpointExistsError,
  CheckpointLockedError,
  CheckpointReadError,
  CheckpointWriteError,
  ResumablePipelineError,
} from '../errors.js';
import type { State } from '../iterator/state.js';
import { argumentTypeError, boolean, describe, integer, optionalInteger, plainObject } from '../validate.js';
import { applyPayload, capturePayload, type CheckpointTarget, resolveTarget } from './parts.js';
import { checkStoreLocation, defaultStore } from './default-store.js';
import { normalizeLocation, pathIn } from './location.js';
import { type KeepBest, metricOf, parseKeepBest, rankByMetric, type RetentionPolicy, stepsToPrune } from './retention.js';
import { installSaveOnSignal, type SaveOnSignalOptions } from './save-on-signal.js';
import { encodeStepFile } from './step-file.js';
import { stepFileBuffer } from './step-file-buffer.js';
import { listSteps, readStep, setAsideName, stepFileName, stepFileStatus, stepsIn, TEMP_FILE } from './step-directory.js';
import type { StepStore, StepStoreLock } from './step-store.js';

export interface PipelineCheckpointOptions extends RetentionPolicy {
  /**
   * Where the step files live. Default: a PosixStepStore over the directory.
   * `directory` still names the files in errors and resolved paths.
   */
  store?: StepStore | undefined;
  /**
   * Whether this process writes (default true). With many processes on one
   * directory or bucket, exactly one is: `primary: shardFromEnv().shardIndex === 0`.
   * The others read and restore; their save() and delete() do nothing (a
   * save resolves with the step's file, as the primary's does) and take no lock.
   */
  primary?: boolean;
}

export interface SaveOptions {
  /** The step number (a safe integer >= 0); must be newer than every valid step present unless `overwrite`. */
  step: number;
  /** Any State, saved with the step and read back by metadata(step). Default {}. */
  metadata?: State;
  /** Overrides the directory's `keep` for this save. */
  keep?: number;
  /** Overrides the directory's `keepBest` for this save. */
  keepBest?: KeepBest;
  /** Replace the file of this step, and delete every newer step (a rewind), instead of throwing. */
  overwrite?: boolean;
}

/** How a save treats a valid step file at or above its step (FORMAT.md §7). */
type SaveMode = 'new' | 'overwrite' | 'replace-same';

export class PipelineCheckpoint {
  /** The directory, resolved, or the URL (s3://bucket/prefix) as given. */
  readonly directory: string;
  /** Whether this process writes (options.primary). */
  readonly primary: boolean;
  private readonly retention: RetentionPolicy;
  private readonly store: StepStore;
  /** Held from the first save or delete until close(); readers never take it. */
  private lock: StepStoreLock | undefined;
  /**
   * The steps present, ascending, kept while the lock is held: no other writer
   * can change them then, so a save needs no directory listing.
   */
  private known: number[] = [];
  /**
   * keepBest's metric of each known step, read from the files under the lock
   * (undefined: the file has none, or is corrupt); `metricName` says which
   * metric they are, so a save with another keepBest reads them again.
   */
  private metrics = new Map<number, number | undefined>();
  private metricName: string | undefined;
  /** Saves and deletes run one after another; reads wait for those queued before them. */
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  /** Uninstallers of this checkpoint's saveOnSignal handlers; close() runs them. */
  private signalHandlers = new Set<() => void>();

  constructor(directory: string, options_: PipelineCheckpointOptions = {}) {
    if (typeof directory !== 'string' || directory === '') {
      throw argumentTypeError(`directory must be a non-empty string, got ${describe(directory)}`);
    }
    const opts = plainObject(options_, 'options', ['keep', 'keepEvery', 'keepBest', 'store', 'primary']);
    this.primary = boolean(opts.primary, 'options.primary', true);
    this.retention = {
      keep: optionalInteger(opts.keep, 'options.keep', 1),
      keepEvery: optionalInteger(opts.keepEvery, 'options.keepEvery', 1),
      keepBest: parseKeepBest(opts.keepBest, 'options.keepBest'),
    };
    if (opts.store !== undefined && (typeof opts.store !== 'object' || opts.store === null)) {
      throw argumentTypeError(`options.store must be a StepStore, got ${describe(opts.store)}`);
    }
    this.directory = normalizeLocation(directory);
    if (opts.store !== undefined) checkStoreLocation(opts.store as StepStore, this.directory, 'options.store');
    this.store = (opts.store as StepStore | undefined) ?? defaultStore(this.directory);
    try {
      this.store.create();
    } catch (err) {
      throw err instanceof ResumablePipelineError ? err : new CheckpointWriteError(this.directory, err, 'create checkpoint directory');
    }
  }

  /**
   * Captures getState() of the pipeline, or of every part of a record of
   * parts ({ loader, model, optimizer }), and encodes it now, synchronously
   * (TypedArrays are copied into the file's bytes), so everything may move on
   * at once; resolves with the file's path once it is durable. Saves are
   * written one at a time, in call order.
   */
  save(pipeline: CheckpointTarget, saveOptions: SaveOptions): Promise<string> {
    let prepared: Prepared;
    try {
      this.checkOpen();
      if (!this.primary) return this.skipSave(saveOptions);
      if (saveOptions === undefined) throw argumentTypeError('options must be an object with a step, got undefined');
      const opts = plainObject(saveOptions, 'options', ['step', 'metadata', 'keep', 'keepBest', 'overwrite']);
      prepared = this.prepare(
        pipeline,
        integer(opts.step, 'options.step'),
        opts.metadata,
        boolean(opts.overwrite, 'options.overwrite', false) ? 'overwrite' : 'new',
        {
          keep: optionalInteger(opts.keep, 'options.keep', 1) ?? this.retention.keep,
          keepEvery: this.retention.keepEvery,
          keepBest: parseKeepBest(opts.keepBest, 'options.keepBest') ?? this.retention.keepBest,
        },
      );
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue((durable) => this.write(prepared, durable));
  }

  /** A non-primary save: its options are checked as the primary's are, and nothing is captured or written. */
  private skipSave(saveOptions: SaveOptions): Promise<string> {
    try {
      if (saveOptions === undefined) throw argumentTypeError('options must be an object with a step, got undefined');
      const opts = plainObject(saveOptions, 'options', ['step', 'metadata', 'keep', 'keepBest', 'overwrite']);
      const step = integer(opts.step, 'options.step');
      optionalInteger(opts.keep, 'options.keep', 1);
      parseKeepBest(opts.keepBest, 'options.keepBest');
      boolean(opts.overwrite, 'options.overwrite', false);
      return Promise.resolve(pathIn(this.directory, stepFileName(step)));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * On one of `signals` (default SIGTERM and SIGINT), saves `parts` at
   * `step()` with `metadata()` after any save in flight, then exits with
   * 128 + the signal number; a second signal meanwhile exits at once (the
   * directory still restores to its newest complete step). Returns a function
   * that removes the handlers; close() removes them too. See FORMAT.md §9.
   */
  saveOnSignal(parts: CheckpointTarget, options: SaveOnSignalOptions): () => void {
    this.checkOpen();
    const uninstall = installSaveOnSignal(parts, options, (step, metadata) => {
      try {
        this.checkOpen();
        if (!this.primary) return Promise.resolve(pathIn(this.directory, stepFileName(integer(step, 'step()'))));
        // A step saved already (the loop saved it just before the signal) is replaced, never a newer one.
        const prepared = this.prepare(parts, integer(step, 'step()'), metadata, 'replace-same', this.retention);
        return this.enqueue((durable) => this.write(prepared, durable));
      } catch (err) {
        return Promise.reject(err);
      }
    });
    const remove = (): void => {
      uninstall();
      this.signalHandlers.delete(remove);
    };
    this.signalHandlers.add(remove);
    return remove;
  }

  /** Checks, captures and encodes a save (synchronously; throws on bad input). */
  private prepare(pipeline: CheckpointTarget, step: number, metadata: unknown, mode: SaveMode, retention: RetentionPolicy): Prepared {
    const payload = capturePayload(resolveTarget(pipeline, 'getState'));
    const meta = metadata === undefined ? {} : metadata;
    const bytes = encodeStepFile(step, payload, meta, Date.now(), stepFileBuffer);
    const keepBest = retention.keepBest;
    return { step, bytes, mode, retention, metric: keepBest === undefined ? undefined : metricOf(meta as State, keepBest.metric) };
  }

  /**
   * Restores the newest step that passes every check, skipping (with a
   * RP_CHECKPOINT_CORRUPT warning) any that does not. Null only if there are
   * no step files; if there are some but none is valid, it throws.
   */
  async restoreLatest(pipeline: CheckpointTarget): Promise<number | null> {
    const target = resolveTarget(pipeline, 'setState');
    await this.queue;
    const steps = await listSteps(this.store, this.directory);
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
      applyPayload(target, found.contents.state, found.file);
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
  async restore(pipeline: CheckpointTarget, step: number): Promise<number> {
    const target = resolveTarget(pipeline, 'setState');
    integer(step, 'step');
    await this.queue;
    applyPayload(target, (await readStep(this.store, this.directory, step)).state, pathIn(this.directory, stepFileName(step)));
    return step;
  }

  /**
   * Restores the best step by `by` (default: options.keepBest's metric and
   * mode), read from every step file's metadata; ties go to the older step.
   * Corrupt files are skipped with a RP_CHECKPOINT_CORRUPT warning. Null if
   * no valid step has the metric.
   */
  async restoreBest(pipeline: CheckpointTarget, by?: { metric: string; mode: 'min' | 'max'; count?: number }): Promise<number | null> {
    const target = resolveTarget(pipeline, 'setState');
    let rank: { metric: string; mode: 'min' | 'max' };
    if (by === undefined) {
      if (this.retention.keepBest === undefined) {
        throw argumentTypeError('restoreBest needs a { metric, mode } argument or options.keepBest, got neither');
      }
      rank = this.retention.keepBest;
    } else {
      const opts = plainObject(by, 'by', ['metric', 'mode', 'count']); // a keepBest object will do (its count is not used)
      rank = parseKeepBest({ metric: opts.metric, mode: opts.mode, count: 1 }, 'by')!;
    }
    await this.queue;
    let best: { step: number; value: number; state: State; file: string } | undefined;
    for (const step of await listSteps(this.store, this.directory)) {
      const found = await stepFileStatus(this.store, this.directory, step);
      if (found.status === 'missing') continue;
      if (found.status === 'corrupt') {
        process.emitWarning(`${found.error.message}; skipped by restoreBest`, { code: found.error.code, type: 'CheckpointWarning' });
        continue;
      }
      const value = metricOf(found.contents.metadata, rank.metric);
      if (value === undefined) continue;
      const candidates = new Map<number, number | undefined>([[step, value]]);
      if (best !== undefined) candidates.set(best.step, best.value);
      if (best === undefined || rankByMetric(candidates, rank.mode)[0] === step) {
        best = { step, value, state: found.contents.state, file: found.file };
      }
    }
    if (best === undefined) return null;
    applyPayload(target, best.state, best.file);
    return best.step;
  }

  /** The steps whose files are present, ascending (files are not read: see restoreLatest). */
  async steps(): Promise<number[]> {
    await this.queue;
    return listSteps(this.store, this.directory);
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
    if (!this.primary) return Promise.resolve();
    const file = pathIn(this.directory, stepFileName(step));
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
    for (const remove of [...this.signalHandlers]) remove(); // a signal now gets its default effect
    await this.queue;
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release();
    this.known = [];
    this.metrics.clear();
    this.metricName = undefined;
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
      // Temp files of a writer that died: no live writer can own them now.
      for (const name of names) {
        if (TEMP_FILE.test(name)) await this.store.remove(name);
      }
      this.known = stepsIn(names);
      this.metrics.clear();
      this.metricName = undefined;
    } catch (err) {
      await lock.release();
      throw err;
    }
    this.lock = lock;
  }

  private forget(step: number): void {
    const i = this.known.indexOf(step);
    if (i !== -1) this.known.splice(i, 1);
    this.metrics.delete(step);
  }

  /**
   * The metric of every known step, read from its file (under the lock, so
   * it stays true until this writer changes the directory).
   */
  private async knownMetrics(metric: string): Promise<Map<number, number | undefined>> {
    if (this.metricName !== metric) {
      this.metrics.clear();
      this.metricName = metric;
    }
    for (const step of this.known) {
      if (this.metrics.has(step)) continue;
      const found = await stepFileStatus(this.store, this.directory, step);
      this.metrics.set(step, found.status === 'valid' ? metricOf(found.contents.metadata, metric) : undefined);
    }
    return this.metrics;
  }

  private async write(prepared: Prepared, durable: (path: string) => void): Promise<string> {
    const { step, bytes, mode, retention } = prepared;
    const file = pathIn(this.directory, stepFileName(step));
    let prune: number[] = [];
    let failed: { name: string; reason: string }[] = [];
    try {
      await this.acquireLock();
      const notOlder = this.known.filter((s) => s >= step);
      if (mode === 'overwrite' || (mode === 'replace-same' && notOlder.every((s) => s === step))) {
        // A rewind: the newer steps go first, so once this save resolves it is the latest.
        const newer = notOlder.filter((s) => s > step).reverse();
        for (const s of newer) {
          await this.store.remove(stepFileName(s));
          this.forget(s);
        }
      } else if (notOlder.length > 0) {
        await this.clearCorruptConflicts(step, notOlder);
      }
      // Retention is decided now and carried out by the same store call, right
      // after the new file is durable; the save resolves before those removals.
      const after = this.known.includes(step) ? this.known : [...this.known, step].sort((a, b) => a - b);
      let metrics: Map<number, number | undefined> | undefined;
      if (retention.keepBest !== undefined) {
        metrics = new Map(await this.knownMetrics(retention.keepBest.metric));
        metrics.set(step, prepared.metric);
      }
      prune = stepsToPrune(after, retention, metrics).filter((s) => s !== step);
      // A file of this step still known here is one this save means to replace (a rewind, or the same step again).
      failed = await this.store.put(stepFileName(step), bytes, prune.map(stepFileName), {
        replace: this.known.includes(step),
        onDurable: () => durable(file), // the save resolves now; retention's removals follow
      });
    } catch (err) {
      // A read on the way (a conflict check, keepBest's metrics) fails the save as a write error.
      if (err instanceof CheckpointReadError) throw new CheckpointWriteError(file, err.cause);
      throw err instanceof ResumablePipelineError ? err : new CheckpointWriteError(file, err);
    }
    if (!this.known.includes(step)) this.known = [...this.known, step].sort((a, b) => a - b);
    if (retention.keepBest !== undefined && this.metricName === retention.keepBest.metric) this.metrics.set(step, prepared.metric);
    else this.metrics.delete(step); // read from the file when next needed
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

/** A save, captured and encoded, waiting for its turn to be written. */
interface Prepared {
  step: number;
  bytes: Uint8Array;
  mode: SaveMode;
  retention: RetentionPolicy;
  /** keepBest's metric of this save's metadata (undefined: none, or no keepBest). */
  metric: number | undefined;
}
