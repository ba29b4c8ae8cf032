// The names a checkpoint directory holds, and reading one step from it.
// Only these patterns are ever touched; anything else in the directory is left alone.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointCorruptError, CheckpointNotFoundError } from '../errors.js';
import { decodeStepFile, type StepFile } from './step-file.js';

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

/** The steps whose files are present, ascending. */
export async function listSteps(dir: string): Promise<number[]> {
  return stepsIn(await readdir(dir));
}

/** Reads and checks one step file (and its size): CheckpointNotFoundError or CheckpointCorruptError name it. */
export async function readStep(dir: string, step: number): Promise<StepFile & { size: number }> {
  const file = join(dir, stepFileName(step));
  let bytes: Uint8Array;
  try {
    // O_NONBLOCK and a regular-file check first: a FIFO in a step file's
    // place would otherwise block the read forever.
    const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      if (!(await handle.stat()).isFile()) throw new CheckpointCorruptError(file, 'not a regular file');
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CheckpointNotFoundError(file);
    throw err;
  }
  return { ...decodeStepFile(bytes, file, step), size: bytes.length };
}
