// One step file: a msgpack map (the envelope) whose `metadata` and `payload`
// are embedded msgpack documents, covered by one CRC32C. See FORMAT.md.
import { decode, encode } from '@msgpack/msgpack';
import { native } from '../native.js';
import type { State } from '../iterator/state.js';
import { CheckpointCorruptError } from '../errors.js';
import { decodeState, encodeState } from './state-codec.js';

export const FORMAT_NAME = 'resumable-pipeline/step';
export const FORMAT_VERSION = 1;
export const STEP_FILE = /^step_(0|[1-9][0-9]*)\.msgpack$/;

export function stepFileName(step: number): string {
  return `step_${step}.msgpack`;
}

export interface StepFile {
  step: number;
  /** Creation time, ms since the epoch. */
  created: number;
  metadata: State;
  state: State;
}

function checksum(metadata: Uint8Array, payload: Uint8Array): number {
  return native().crc32c(payload, native().crc32c(metadata));
}

/** The bytes of a step file (throws a TypeError naming a value that is not State). */
export function encodeStepFile(step: number, state: unknown, metadata: unknown, created = Date.now()): Uint8Array {
  const payload = encodeState(state, 'state');
  const meta = encodeState(metadata, 'metadata');
  return encode({
    format: FORMAT_NAME,
    version: FORMAT_VERSION,
    step,
    created,
    metadata: meta,
    payload,
    crc32c: checksum(meta, payload),
  });
}

/** Parses and checks a step file; any flaw throws CheckpointCorruptError naming file. */
export function decodeStepFile(bytes: Uint8Array, file: string, expectedStep?: number): StepFile {
  const fail = (reason: string, cause?: unknown): never => {
    throw new CheckpointCorruptError(file, reason, { cause });
  };
  if (bytes.length === 0) fail('the file is empty');
  let envelope: unknown;
  try {
    envelope = decode(bytes, { maxStrLength: bytes.length, maxBinLength: bytes.length, maxArrayLength: bytes.length, maxMapLength: bytes.length, maxExtLength: bytes.length });
  } catch (cause) {
    fail(`not a complete msgpack document (${(cause as Error).message})`, cause);
  }
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) fail('the envelope is not a map');
  const env = envelope as Record<string, unknown>;
  if (env.format !== FORMAT_NAME) fail(`format is ${JSON.stringify(env.format)}, expected "${FORMAT_NAME}"`);
  if (env.version !== FORMAT_VERSION) fail(`format version ${String(env.version)} is not supported (this package reads ${FORMAT_VERSION})`);
  const { step, created, metadata, payload, crc32c } = env;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) fail('step is not a non-negative integer');
  if (expectedStep !== undefined && step !== expectedStep) fail(`it holds step ${String(step)}, but its name says ${expectedStep}`);
  if (typeof created !== 'number') fail('created is not a number');
  if (!(metadata instanceof Uint8Array) || !(payload instanceof Uint8Array)) fail('metadata or payload is not binary');
  const meta = metadata as Uint8Array;
  const data = payload as Uint8Array;
  const actual = checksum(meta, data);
  if (crc32c !== actual) fail(`CRC32C mismatch (stored ${String(crc32c)}, computed ${actual})`);
  try {
    return { step: step as number, created: created as number, metadata: decodeState(meta), state: decodeState(data) };
  } catch (cause) {
    return fail(`the payload does not decode (${(cause as Error).message})`, cause);
  }
}
