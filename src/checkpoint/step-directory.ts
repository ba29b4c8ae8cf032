// The names a checkpoint directory holds, and reading one step from it.
// Only these patterns are ever touched; anything else in the directory is left alone.
import { randomBytes } from 'node:crypto';
import { CheckpointCorruptError, CheckpointNotFoundError, CheckpointReadError, ResumablePipelineError } from '../errors.js';
import { pathIn } from './location.js';
import { decodeStepFile, type StepFile } from './step-file.js';
import type { StepStore } from './step-store.js';

/** step_<N>.msgpack, N in decimal without leading zeros. */
const STEP_FILE = /^step_(0|[1-9][0-9]*)\.msgpack$/;
/** A save in progress (or left by a crash): .step_<N>.msgpack.<16 hex>.tmp */
export const TEMP_FILE = /^\.step_(0|[1-9][0-9]*)\.msgpack\.[0-9a-f]{16}\.tmp$/;
/** A corrupt step file set aside by a writer (see FORMAT.md §6). */
export const SET_ASIDE_FILE = /^step_(0|[1-9][0-9]*)\.msgpack\.corrupt$/;

export function stepFileName(step: number): string {
  return `step_${step}.msgpack`;
}

/** A fresh temp file name for a save of the file `name` (matches TEMP_FILE for step files). */
export function tempFileName(name: string): string {
  return `.${name}.${randomBytes(8).toString('hex')}.tmp`;
}

export function setAsideName(step: number): string {
  return `${stepFileName(step)}.corrupt`;
}

/** The step of a step file's name, or undefined for any other name. */
export function parseStepFileName(name: string): number | undefined {
  const match = STEP_FILE.exec(name);
  if (match === null) return undefined;
  const step = Number(match[1]);
  return Number.isSafeInteger(step) ? step : undefined;
}

/** The steps of the step files among names, ascending. */
export function stepsIn(names: readonly string[]): number[] {
  const steps: number[] = [];
  for (const name of names) {
    const step = parseStepFileName(name);
    if (step !== undefined) steps.push(step);
  }
  return steps.sort((a, b) => a - b);
}

/** Every name in the directory `dir`; an I/O error is a CheckpointReadError naming dir. */
export async function listNames(store: StepStore, dir: string): Promise<string[]> {
  try {
    return await store.list();
  } catch (err) {
    throw readError(dir, err);
  }
}

/** The steps whose files are present in `dir`, ascending. */
export async function listSteps(store: StepStore, dir: string): Promise<number[]> {
  return stepsIn(await listNames(store, dir));
}

/** A store's own typed errors pass; a system error becomes CheckpointReadError (cause: it). */
function readError(path: string, err: unknown): unknown {
  return err instanceof ResumablePipelineError ? err : new CheckpointReadError(path, err);
}

/**
 * What one step file is, as every reader classifies it (FORMAT.md §5): valid
 * (with its contents), missing, or corrupt (with the error naming it and why;
 * a FIFO or any other non-regular file is corrupt and never read). I/O errors
 * other than a missing file reject with CheckpointReadError naming the file.
 */
export type StepFileStatus =
  | { status: 'valid'; step: number; file: string; size: number; mtimeMs: number; contents: StepFile }
  | { status: 'missing'; step: number; file: string }
  | { status: 'corrupt'; step: number; file: string; size: number; mtimeMs: number; error: CheckpointCorruptError };

/** Reads and checks one step file of the directory `dir` (used to name it in errors). */
export async function stepFileStatus(store: StepStore, dir: string, step: number): Promise<StepFileStatus> {
  const file = pathIn(dir, stepFileName(step));
  let stored;
  try {
    stored = await store.read(stepFileName(step));
  } catch (err) {
    throw readError(file, err);
  }
  if (stored === undefined) return { status: 'missing', step, file };
  const { bytes, size, mtimeMs } = stored;
  if (bytes === undefined) {
    return { status: 'corrupt', step, file, size, mtimeMs, error: new CheckpointCorruptError(file, 'not a regular file') };
  }
  try {
    return { status: 'valid', step, file, size, mtimeMs, contents: decodeStepFile(bytes, file, step) };
  } catch (err) {
    if (!(err instanceof CheckpointCorruptError)) throw err;
    return { status: 'corrupt', step, file, size, mtimeMs, error: err };
  }
}

/** Reads and checks one step file: CheckpointNotFoundError or CheckpointCorruptError name it. */
export async function readStep(store: StepStore, dir: string, step: number): Promise<StepFile> {
  const found = await stepFileStatus(store, dir, step);
  if (found.status === 'missing') throw new CheckpointNotFoundError(found.file);
  if (found.status === 'corrupt') throw found.error;
  return found.contents;
}
