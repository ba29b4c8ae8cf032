// The step-file codec: our own msgpack writer/reader (src/checkpoint/state-*.ts)
// against the best @msgpack/msgpack configuration that writes the same bytes
// (issue 14, item 3). Both sides produce a whole step file, so the library
// side pays what it would pay in the package: its Encoder with an
// ExtensionCodec for ext 1 (TypedArray) and ext 2 (bigint), -0 kept as a
// float64 by overriding its number writer (no option does it: forceIntegerToFloat
// turns every integer into a float), the payload embedded as a bin, and the
// CRC patched into a 0xce placeholder. The library's decode is timed WITHOUT
// the checks our reader makes (strict UTF-8, exact int64 range, duplicate and
// non-string keys, depth, unknown ext types): it is a lower bound for a
// library path that would keep them. Before timing, each case checks that
// both sides wrote the same bytes.
//
// CLI: npm run bench:codec [-- --quick]  (also a section of `npm run bench`: --only codec)
import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack';
import { native } from '../src/native.js';
import { decodeStepFile, encodeStepFile } from '../src/checkpoint/step-file.js';
import { assertState, type State } from '../src/iterator/state.js';
import { bigintMagnitudeLength, decodeBigInt, decodeTypedArray, dtypeCode, EXT_BIGINT, EXT_TYPED_ARRAY, writeBigInt } from '../src/checkpoint/state-ext.js';
import { isTypedArray } from '../src/typed-arrays.js';
import type { DataLoaderState } from '../src/loader/loader-state.js';
import { type BenchContext, interleave, median, printTable, type Row, type Section } from './harness.js';

// --- the library candidate -------------------------------------------------

const extensions = new ExtensionCodec();
extensions.register({
  type: EXT_TYPED_ARRAY,
  encode: (value: unknown) => {
    if (!isTypedArray(value)) return null;
    // The library wants the whole ext body as one Uint8Array: a copy of the elements.
    const body = new Uint8Array(1 + value.byteLength);
    body[0] = dtypeCode(value);
    body.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength), 1);
    return body;
  },
  decode: (data: Uint8Array) => decodeTypedArray(data),
});
extensions.register({
  type: EXT_BIGINT,
  encode: (value: unknown) => {
    if (typeof value !== 'bigint') return null;
    const length = bigintMagnitudeLength(value);
    const body = new Uint8Array(1 + length);
    writeBigInt(value, body, 0, length);
    return body;
  },
  decode: (data: Uint8Array) => decodeBigInt(data),
});

type NumberWriter = { encodeNumber(n: number): void; encodeNumberAsFloat(n: number): void };
const encoder = new Encoder({ extensionCodec: extensions });
// -0: the library writes it as the integer 0; FORMAT.md keeps it a float64.
const plainNumber = (Encoder.prototype as unknown as NumberWriter).encodeNumber;
(encoder as unknown as NumberWriter).encodeNumber = function (this: NumberWriter, n: number) {
  if (Object.is(n, -0)) this.encodeNumberAsFloat(n);
  else plainNumber.call(this, n);
};
const decoder = new Decoder({ extensionCodec: extensions });
// The envelope's bins are Uint8Arrays that must stay bins, not ext 1: a second pair without the codec.
const envelopeEncoder = new Encoder();
const envelopeDecoder = new Decoder();

function libraryStepFile(step: number, state: State, metadata: State, created: number): Uint8Array {
  assertState(state, 'state');
  assertState(metadata, 'metadata');
  const envelope = {
    format: 'resumable-pipeline/step',
    version: 1,
    step,
    created,
    metadata: encoder.encode(metadata),
    payload: encoder.encode(state),
    crc32c: 0xffffffff, // a uint32 placeholder (0xce + 4 bytes), patched below
  };
  const bytes = envelopeEncoder.encode(envelope);
  const crc = native().crc32c(bytes.subarray(0, bytes.length - 4));
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(bytes.length - 4, crc);
  return bytes;
}

function libraryDecode(bytes: Uint8Array): State {
  const env = envelopeDecoder.decode(bytes) as { payload: Uint8Array; metadata: Uint8Array; crc32c: number };
  if (native().crc32c(bytes.subarray(0, bytes.length - 4)) !== env.crc32c) throw new Error('crc');
  decoder.decode(env.metadata);
  return decoder.decode(env.payload) as State;
}

// --- the cases ----------------------------------------------------------------

/** What DataLoader.getState() returns (src/loader/loader-state.ts), inside a small training state. */
function loaderState(): State {
  const loader: DataLoaderState = {
    version: 1,
    epoch: 3,
    position: 1_234_567,
    fingerprint: { n: 50_000_000, seed: 7n ** 20n, shuffle: true, dropRemainder: false },
  };
  return { loader, step: 12_345, rng: new Uint32Array([1, 2, 3, 4]), lr: 3e-4, bestLoss: -0 };
}

function tensorState(bytes: number): State {
  const weights = new Float32Array(bytes / 4);
  for (let i = 0; i < weights.length; i++) weights[i] = Math.sin(i);
  return { step: 3, weights };
}

function wideState(fields: number): State {
  const out: Record<string, State> = {};
  for (let i = 0; i < fields; i++) out[`field_${i}`] = i % 3 === 0 ? i : i % 3 === 1 ? `v${i}` : i / 7;
  return out;
}

interface Case {
  name: string;
  state: State;
  /** Calls per timed round, so that a round lasts long enough to time. */
  calls: number;
}

export const codecSection: Section = {
  id: 'codec',
  title: 'Step-file codec: own writer/reader vs @msgpack/msgpack (same bytes)',
  run(ctx: BenchContext): Row[] {
    const scale = ctx.quick ? 0.2 : 1;
    const cases: Case[] = [
      { name: 'DataLoader state', state: loaderState(), calls: Math.ceil(20_000 * scale) },
      { name: '1 MiB Float32Array', state: tensorState(1 << 20), calls: Math.ceil(100 * scale) },
      { name: '64 MiB Float32Array', state: tensorState(64 << 20), calls: 1 },
      { name: '10k small fields', state: wideState(10_000), calls: Math.ceil(100 * scale) },
    ];
    const rows: Row[] = [];
    const created = 1_700_000_000_000;
    for (const c of cases) {
      const ours = encodeStepFile(7, c.state, {}, created);
      const theirs = libraryStepFile(7, c.state, {}, created);
      if (Buffer.compare(ours, theirs) !== 0) throw new Error(`${c.name}: the two encoders wrote different bytes`);
      const t = interleave(
        {
          ownEncode: () => { for (let i = 0; i < c.calls; i++) encodeStepFile(7, c.state, {}, created); },
          libEncode: () => { for (let i = 0; i < c.calls; i++) libraryStepFile(7, c.state, {}, created); },
          ownDecode: () => { for (let i = 0; i < c.calls; i++) decodeStepFile(ours, 'bench'); },
          libDecode: () => { for (let i = 0; i < c.calls; i++) libraryDecode(ours); },
        },
        ctx.repeats,
      );
      const per = (k: keyof typeof t) => median(t[k]) / c.calls;
      const note = `${ours.length} bytes`;
      rows.push(
        { figure: `${c.name}: encode, own`, value: per('ownEncode'), unit: 'ms', note },
        { figure: `${c.name}: encode, library`, value: per('libEncode'), unit: 'ms', ratio: per('libEncode') / per('ownEncode'), baseline: 'own' },
        { figure: `${c.name}: decode, own (checked)`, value: per('ownDecode'), unit: 'ms' },
        {
          figure: `${c.name}: decode, library (unchecked)`,
          value: per('libDecode'),
          unit: 'ms',
          ratio: per('libDecode') / per('ownDecode'),
          baseline: 'own',
          note: 'no UTF-8/int/key/depth checks',
        },
      );
    }
    // A shared Encoder keeps its grown buffer for the next call (it never shrinks).
    const retained = (encoder as unknown as { bytes: Uint8Array }).bytes.byteLength + (envelopeEncoder as unknown as { bytes: Uint8Array }).bytes.byteLength;
    rows.push({
      figure: 'library: buffers its shared Encoders keep after the cases',
      value: retained / 2 ** 20,
      unit: 'MiB',
      note: 'own codec: none (one exactly-sized buffer per file)',
    });
    return rows;
  },
};

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  printTable(codecSection.title, codecSection.run({ quick, repeats: quick ? 5 : 11 }) as Row[]);
}
