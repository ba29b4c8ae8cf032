// A read-only report on a checkpoint directory: every step file checked as
// restore would check it. Used by the CLI; it never takes the lock or changes
// anything, so it is safe to run beside a live writer.
import type { State } from '../iterator/state.js';
import { checkStoreLocation, defaultStore } from './default-store.js';
import { normalizeLocation, pathIn } from './location.js';
import { listNames, SET_ASIDE_FILE, stepFileStatus, stepsIn, TEMP_FILE } from './step-directory.js';
import type { StepStore } from './step-store.js';
import { argumentTypeError } from '../error-codes.js';

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

/** `store` (default: a PosixStepStore over the directory, an S3StepStore for s3://bucket/prefix) is where the files are read from. */
export async function inspectDirectory(directory: string, options: { store?: StepStore | undefined } = {}): Promise<DirectoryReport> {
  if (typeof directory !== 'string' || directory === '') throw argumentTypeError('directory must be a non-empty string');
  const dir = normalizeLocation(directory);
  if (options.store !== undefined) checkStoreLocation(options.store, dir, 'options.store');
  const store = options.store ?? defaultStore(dir);
  const names = (await listNames(store, dir)).sort();
  const steps: StepFileReport[] = [];
  for (const step of stepsIn(names)) {
    const found = await stepFileStatus(store, dir, step);
    if (found.status === 'missing') continue; // pruned by a live writer since the listing
    const { file, size } = found;
    if (found.status === 'valid') {
      steps.push({ step, file, size, time: found.contents.created, metadata: found.contents.metadata, valid: true });
    } else {
      steps.push({ step, file, size, time: found.mtimeMs, metadata: undefined, valid: false, reason: found.error.reason });
    }
  }
  return {
    directory: dir,
    steps,
    setAside: names.filter((n) => SET_ASIDE_FILE.test(n)).map((n) => pathIn(dir, n)),
    tempFiles: names.filter((n) => TEMP_FILE.test(n)).map((n) => pathIn(dir, n)),
  };
}
