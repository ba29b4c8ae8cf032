// One step file: a msgpack map (the envelope) whose `metadata` and `payload`
// are embedded msgpack documents, and whose last entry is a CRC32C of every
// byte before it. See FORMAT.md.
import { native } from '../native.js';
import { assertState, type State } from '../iterator/state.js';
import { CheckpointCorruptError } from '../errors.js';
import { binHeaderSize, MsgpackWriter, numberSize, stateSize, strSize } from './state-encoder.js';
import { decodeState, readDocument } from './state-decoder.js';
import { stateTypeError } from '../error-codes.js';

export const FORMAT_NAME = 'resumable-pipeline/step';
export const FORMAT_VERSION = 1;

/** The envelope's keys, in the order they are written; `crc32c` must be last. */
const KEYS = ['format', 'version', 'step', 'created', 'metadata', 'payload', 'crc32c'] as const;

/** The trailer: 0xce (msgpack uint32) and the checksum, big-endian. */
const TRAILER = 5;

export interface StepFile {
  step: number;
  /** Creation time, ms since the epoch. */
  created: number;
  metadata: State;
  state: State;
}

/**
 * The bytes of a step file. Throws a TypeError naming `state` or `metadata`
 * (and the bad path inside it) for a value a checkpoint cannot hold.
 * `allocate` gives the zeroed buffer of the file's size to encode into.
 */
export function encodeStepFile(
  step: number,
  state: unknown,
  metadata: unknown,
  created = Date.now(),
  allocate?: (size: number) => Uint8Array,
): Uint8Array {
  assertState(state, 'state');
  assertState(metadata, 'metadata');
  const metaSize = stateSize(metadata);
  const stateBytes = stateSize(state);
  const size =
    1 +
    KEYS.reduce((sum, key) => sum + strSize(key), 0) +
    strSize(FORMAT_NAME) + numberSize(FORMAT_VERSION) + numberSize(step) + numberSize(created) +
    binHeaderSize(metaSize) + metaSize +
    binHeaderSize(stateBytes) + stateBytes +
    TRAILER;
  const w = new MsgpackWriter(size, allocate);
  w.u8(0x80 | KEYS.length);
  w.str('format');
  w.str(FORMAT_NAME);
  w.str('version');
  w.number(FORMAT_VERSION);
  w.str('step');
  w.number(step);
  w.str('created');
  w.number(created);
  w.str('metadata');
  embed(w, metadata, metaSize);
  w.str('payload');
  embed(w, state, stateBytes);
  w.str('crc32c');
  w.u8(0xce);
  w.u32(native().crc32c(w.bytes.subarray(0, w.pos)));
  return w.finish();
}

/** A bin whose body is the msgpack of value, written in place. */
function embed(w: MsgpackWriter, value: State, size: number): void {
  w.binHeader(size);
  const end = w.pos + size;
  w.state(value);
  if (w.pos !== end) throw stateTypeError('the state changed while it was being encoded');
}

/**
 * Parses and checks a step file (framing, format, version, step, CRC32C, then
 * the embedded documents); any flaw throws CheckpointCorruptError naming file.
 */
export function decodeStepFile(bytes: Uint8Array, file: string, expectedStep?: number): StepFile {
  const fail = (reason: string, cause?: unknown): never => {
    throw new CheckpointCorruptError(file, reason, cause === undefined ? undefined : { cause });
  };
  if (bytes.length === 0) fail('the file is empty');
  let envelope: unknown;
  try {
    envelope = readDocument(bytes, true, 'envelope');
  } catch (cause) {
    fail(`it is not one complete msgpack document of ${bytes.length} bytes (${(cause as Error).message})`, cause);
  }
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) fail('the envelope is not a map');
  const env = envelope as Record<string, unknown>;
  // The CRC first, so a flipped byte in the format name or version reads as
  // damage, not as someone else's file or a newer format.
  const keys = Object.keys(env);
  const sealed = keys[keys.length - 1] === 'crc32c' && bytes[bytes.length - TRAILER] === 0xce;
  if (sealed) {
    const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(bytes.length - 4);
    const actual = native().crc32c(bytes.subarray(0, bytes.length - 4));
    if (stored !== actual) fail(`CRC32C mismatch (stored ${hex(stored)}, computed ${hex(actual)})`);
  }
  if (env.format !== FORMAT_NAME) fail(`format is ${JSON.stringify(env.format) ?? 'missing'}, expected "${FORMAT_NAME}"`);
  if (!sealed && env.version === FORMAT_VERSION) fail('it does not end with the crc32c entry as a msgpack uint32');
  if (env.version !== FORMAT_VERSION) {
    fail(`format version ${String(env.version)} is not supported (this package reads version ${FORMAT_VERSION})`);
  }
  const { step, created, metadata, payload } = env;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) fail('step is not a non-negative integer');
  if (expectedStep !== undefined && step !== expectedStep) fail(`it holds step ${String(step)}, but its name says ${expectedStep}`);
  if (typeof created !== 'number' || !Number.isFinite(created)) fail('created is not a finite number');
  if (!(metadata instanceof Uint8Array)) fail('metadata is not a msgpack bin');
  if (!(payload instanceof Uint8Array)) fail('payload is not a msgpack bin');
  let meta: State;
  let state: State;
  try {
    meta = decodeState(metadata as Uint8Array);
  } catch (cause) {
    return fail(`the metadata does not decode (${(cause as Error).message})`, cause);
  }
  try {
    state = decodeState(payload as Uint8Array);
  } catch (cause) {
    return fail(`the payload does not decode (${(cause as Error).message})`, cause);
  }
  return { step: step as number, created: created as number, metadata: meta, state };
}

function hex(crc: number): string {
  return `0x${crc.toString(16).padStart(8, '0')}`;
}
