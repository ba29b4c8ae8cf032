// A read-only report on a checkpoint directory: every step file checked as
// restore would check it. Used by the CLI; it never takes the lock or changes
// anything, so it is safe to run beside a live writer.
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CheckpointCorruptError, CheckpointNotFoundError } from '../errors.js';
import type { State } from '../iterator/state.js';
import { readStep, SET_ASIDE_FILE, stepFileName, stepsIn, TEMP_FILE } from './step-directory.js';

export interface StepFileReport {
  step: number;
  file: string;
  /** Bytes on disk. */
  size: number;
  /** The envelope's creation time (ms since the epoch); the file's mtime if the file is corrupt. */
  time: number;
  /** The saved metadata; undefined if the file is corrupt. */
  metadata: State | undefined;
  valid: boolean;
  /** Why the file is corrupt. */
  reason?: string;
}

export interface DirectoryReport {
  directory: string;
  /** Step files, ascending by step. */
  steps: StepFileReport[];
  /** Corrupt files a writer renamed aside (step_<N>.msgpack.corrupt). */
  setAside: string[];
  /** Temp files of a save in progress or of a writer that crashed. */
  tempFiles: string[];
}

export async function inspectDirectory(directory: string): Promise<DirectoryReport> {
  if (typeof directory !== 'string' || directory === '') throw new TypeError('directory must be a non-empty string');
  const dir = resolve(directory);
  const names = (await readdir(dir)).sort();
  const steps: StepFileReport[] = [];
  for (const step of stepsIn(names)) {
    const file = join(dir, stepFileName(step));
    try {
      const { created, metadata, size } = await readStep(dir, step);
      steps.push({ step, file, size, time: created, metadata, valid: true });
    } catch (err) {
      if (err instanceof CheckpointNotFoundError) continue; // pruned by a live writer since readdir
      if (!(err instanceof CheckpointCorruptError)) throw err;
      let info;
      try {
        info = await stat(file);
      } catch {
        continue;
      }
      steps.push({ step, file, size: info.size, time: info.mtimeMs, metadata: undefined, valid: false, reason: err.reason });
    }
  }
  return {
    directory: dir,
    steps,
    setAside: names.filter((n) => SET_ASIDE_FILE.test(n)).map((n) => join(dir, n)),
    tempFiles: names.filter((n) => TEMP_FILE.test(n)).map((n) => join(dir, n)),
  };
}
