// Save on preemption: schedulers send SIGTERM (Slurm, Kubernetes) or SIGINT
// before they kill a job. The first signal saves and exits with 128 + its
// number, as a shell reports a death by that signal; a second one during the
// save exits at once, which the write protocol (FORMAT.md §6) makes safe.
import { constants } from 'node:os';
import type { State } from '../iterator/state.js';
import { argumentRangeError, argumentTypeError } from '../error-codes.js';
import { describe, plainObject } from '../validate.js';
import { type CheckpointTarget, resolveTarget } from './parts.js';

export interface SaveOnSignalOptions {
  /** The step to save under, read when the signal arrives (with the state). */
  step: () => number;
  /** The metadata to save with it (for keepBest, e.g. { loss }); default {}. */
  metadata?: (() => State) | undefined;
  /** Signal names; default ['SIGTERM', 'SIGINT']. (Plain strings: the public types need no @types/node.) */
  signals?: readonly string[] | undefined;
}

/** Signals a handler cannot be installed for, or that are not about ending a job. */
const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);

/**
 * Installs the handlers; `save` captures the state synchronously and queues
 * the write behind any save in flight (PipelineCheckpoint does both).
 */
export function installSaveOnSignal(
  target: CheckpointTarget,
  options_: SaveOnSignalOptions,
  save: (step: number, metadata: State | undefined) => Promise<string>,
): () => void {
  resolveTarget(target, 'getState'); // a bad part fails now, not when the job is being killed
  if (options_ === undefined) throw argumentTypeError('options must be an object with a step() function, got undefined');
  const opts = plainObject(options_, 'options', ['step', 'metadata', 'signals']);
  if (typeof opts.step !== 'function') throw argumentTypeError(`options.step must be a function returning the step, got ${describe(opts.step)}`);
  if (opts.metadata !== undefined && typeof opts.metadata !== 'function') {
    throw argumentTypeError(`options.metadata must be a function returning the metadata, got ${describe(opts.metadata)}`);
  }
  const step = opts.step as () => number;
  const metadata = opts.metadata as (() => State) | undefined;
  const signals = parseSignals(opts.signals);

  let saving = false;
  const handler = (signal: NodeJS.Signals): void => {
    const code = 128 + constants.signals[signal];
    if (saving) process.exit(code); // the second signal: do not wait any longer
    saving = true;
    let pending: Promise<string>;
    try {
      pending = save(step(), metadata === undefined ? undefined : metadata());
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      () => process.exit(code),
      (err: unknown) => {
        process.stderr.write(`resumable-pipeline: the save on ${signal} failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(code);
      },
    );
  };
  for (const signal of signals) process.on(signal, handler);
  let installed = true;
  return () => {
    if (!installed) return;
    installed = false;
    for (const signal of signals) process.off(signal, handler);
  };
}

function parseSignals(value: unknown): NodeJS.Signals[] {
  if (value === undefined) return ['SIGTERM', 'SIGINT'];
  if (!Array.isArray(value) || value.length === 0) {
    throw argumentTypeError(`options.signals must be a non-empty array of signal names, got ${describe(value)}`);
  }
  const signals: NodeJS.Signals[] = [];
  value.forEach((signal: unknown, i) => {
    if (typeof signal !== 'string') throw argumentTypeError(`options.signals[${i}] must be a signal name, got ${describe(signal)}`);
    if (!Object.hasOwn(constants.signals, signal)) throw argumentRangeError(`options.signals[${i}] is not a signal: ${JSON.stringify(signal)}`);
    if (UNCATCHABLE.has(signal)) throw argumentRangeError(`options.signals[${i}] is ${signal}, which no process can catch`);
    if (!signals.includes(signal as NodeJS.Signals)) signals.push(signal as NodeJS.Signals);
  });
  return signals;
}
