// PipelineCheckpoint: one msgpack step file per step in a directory, written
// durably in the background, pruned by retention, read back with fallback.
import { mkdirSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CheckpointCorruptError, CheckpointExistsError, CheckpointNotFoundError } from '../errors.js';
import type { Checkpointable, State } from '../iterator/state.js';
import { boolean, integer, optionalInteger, plainObject } from '../validate.js';
import { DirectoryLock } from './directory-lock.js';
import { TEMP_FILE, writeFileDurable } from './durable-write.js';
import { type RetentionPolicy, stepsToPrune } from './retention.js';
import { decodeStepFile, encodeStepFile, STEP_FILE, stepFileName, type StepFile } from './step-file.js';

export interface PipelineCheckpointOptions extends RetentionPolicy {}

export interface SaveOptions {
  step: number;
  metadata?: State;
  /** Overrides the directory's `keep` for this save. */
  keep?: number;
  /** Replace an existing file for this step instead of throwing. */
  overwrite?: boolean;
}

function checkPipeline(pipeline: unknown, method: 'getState' | 'setState'): Checkpointable {
  if (typeof pipeline !== 'object' || pipeline === null || typeof (pipeline as Record<string, unknown>)[method] !== 'function') {
    throw new TypeError(`pipeline must have a ${method}() method`);
  }
  return pipeline as Checkpointable;
}

export class PipelineCheckpoint {
  readonly directory: string;
  private readonly retention: RetentionPolicy;
  private lock: DirectoryLock | undefined;
  /** Saves run one after another; reads wait for the saves before them. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(directory: string, options: PipelineCheckpointOptions = {}) {
    if (typeof directory !== 'string' || directory === '') {
      throw new TypeError('directory must be a non-empty string');
    }
    const opts = plainObject(options, 'options');
    this.retention = {
      keep: optionalInteger(opts.keep, 'options.keep', 1),
      keepEvery: optionalInteger(opts.keepEvery, 'options.keepEvery', 1),
    };
    this.directory = resolve(directory);
    mkdirSync(this.directory, { recursive: true });
  }

  /**
   * Captures pipeline.getState() now (synchronously, so the pipeline may move
   * on at once) and resolves with the file's path once it is durable.
   */
  save(pipeline: Checkpointable, options: SaveOptions): Promise<string> {
    try {
      this.checkOpen();
      const opts = plainObject(options, 'options');
      const step = integer(opts.step, 'options.step');
      const keep = optionalInteger(opts.keep, 'options.keep', 1) ?? this.retention.keep;
      const overwrite = boolean(opts.overwrite, 'options.overwrite', false);
      const bytes = encodeStepFile(step, checkPipeline(pipeline, 'getState').getState(), opts.metadata ?? {});
      return this.enqueue(() => this.write(step, bytes, overwrite, keep));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Restores the newest valid step; skips corrupt files with a warning. Null if there are none. */
  async restoreLatest(pipeline: Checkpointable): Promise<number | null> {
    const target = checkPipeline(pipeline, 'setState');
    await this.settled();
    const steps = await this.steps();
    const failures: CheckpointCorruptError[] = [];
    for (const step of steps.reverse()) {
      let file: StepFile;
      try {
        file = await this.read(step);
      } catch (err) {
        if (err instanceof CheckpointNotFoundError) continue; // pruned meanwhile
        if (!(err instanceof CheckpointCorruptError)) throw err;
        failures.push(err);
        process.emitWarning(`${err.message}; falling back to an older step`, { code: err.code, type: 'CheckpointWarning' });
        continue;
      }
      applyState(target, file.state);
      return step;
    }
    if (failures.length > 0) {
      throw new CheckpointCorruptError(this.directory, `all ${failures.length} step files are corrupt (newest: ${failures[0]!.reason})`);
    }
    return null;
  }

  /** Restores one step; a missing or corrupt file throws a typed error naming it. */
  async restore(pipeline: Checkpointable, step: number): Promise<number> {
    const target = checkPipeline(pipeline, 'setState');
    integer(step, 'step');
    await this.settled();
    applyState(target, (await this.read(step)).state);
    return step;
  }

  /** The steps present, ascending. */
  async steps(): Promise<number[]> {
    await this.settled();
    return this.listSteps();
  }

  async latestStep(): Promise<number | null> {
    const steps = await this.steps();
    return steps.length === 0 ? null : steps[steps.length - 1]!;
  }

  /** The metadata saved with a step. */
  async metadata(step: number): Promise<State> {
    integer(step, 'step');
    await this.settled();
    return (await this.read(step)).metadata;
  }

  /** Deletes one step's file (no error if it is already gone). */
  delete(step: number): Promise<void> {
    try {
      this.checkOpen();
      integer(step, 'step');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue(async () => {
      this.acquireLock();
      await rm(join(this.directory, stepFileName(step)), { force: true });
    });
  }

  /** Resolves when every save queued so far has finished (rejections included). */
  async waitUntilFinished(): Promise<void> {
    await this.settled();
  }

  /** Waits for pending saves, then releases the directory lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.settled();
    this.lock?.release();
    this.lock = undefined;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`PipelineCheckpoint for ${this.directory} is closed`);
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private settled(): Promise<unknown> {
    return this.queue;
  }

  /** Takes the directory lock on first write; clears temp files of crashed writers. */
  private acquireLock(): boolean {
    if (this.lock !== undefined) return false;
    this.lock = DirectoryLock.acquire(this.directory);
    return true;
  }

  private async write(step: number, bytes: Uint8Array, overwrite: boolean, keep: number | undefined): Promise<string> {
    if (this.acquireLock()) await this.removeStaleTemps();
    const present = await this.listSteps();
    if (!overwrite && present.includes(step)) {
      throw new CheckpointExistsError(join(this.directory, stepFileName(step)));
    }
    const path = await writeFileDurable(this.directory, stepFileName(step), bytes);
    const all = present.includes(step) ? present : [...present, step];
    for (const old of stepsToPrune(all, { keep, keepEvery: this.retention.keepEvery })) {
      await rm(join(this.directory, stepFileName(old)), { force: true });
    }
    return path;
  }

  private async removeStaleTemps(): Promise<void> {
    for (const name of await readdir(this.directory)) {
      if (TEMP_FILE.test(name)) await rm(join(this.directory, name), { force: true });
    }
  }

  private async listSteps(): Promise<number[]> {
    const steps: number[] = [];
    for (const name of await readdir(this.directory)) {
      const match = STEP_FILE.exec(name);
      if (match) steps.push(Number(match[1]));
    }
    return steps.sort((a, b) => a - b);
  }

  private async read(step: number): Promise<StepFile> {
    const file = join(this.directory, stepFileName(step));
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CheckpointNotFoundError(file);
      throw err;
    }
    return decodeStepFile(bytes, file, step);
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
