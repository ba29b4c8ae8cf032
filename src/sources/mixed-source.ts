// MixedSource: several column sources mixed by weight into one random-access
// source. The core owns the interleave (rp::Mix): record i of the mix is
// record j of source k in O(depth) integer steps, with no per-record table;
// here the sources' columns are checked to agree and joined into one column
// per name (the sources' rows one after another, read through the mix), so a
// DataLoader's prefetch thread gathers a mixed batch in one pass like any
// other. Its weights and sources' lengths are part of a loader's fingerprint.
import { argumentRangeError, argumentTypeError, sourceError } from '../error-codes.js';
import { normalizeSeed } from '../loader/loader-options.js';
import { native, type NativeMix } from '../native.js';
import { describe } from '../validate.js';
import { Column } from './column.js';
import { setSourceFingerprint } from './source-fingerprint.js';
import { type Columns, ColumnSource, columnsOf, maxRecords } from './source.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any ColumnSource, whatever its batch types (as DataLoader takes them)
type AnyColumnSource = ColumnSource<any, unknown>;

export interface MixedSourceEntry {
  /** Any ColumnSource (ArraySource, NpySource, ArrowSource, ...). Its decodeBatch is not applied. */
  readonly source: AnyColumnSource;
  /** A positive number; weights are relative (70/20/10 and 0.7/0.2/0.1 mix alike). */
  readonly weight: number;
}

export interface MixedSourceOptions {
  /** Keys each repeat's order of a source that ran out (default 0). */
  readonly seed?: number | bigint;
  /** Records in the mix; by default set by `exhausted`. Sources that run out first repeat. */
  readonly length?: number;
  /**
   * Without `length`: `'first'` (default) ends the mix where the first source
   * would repeat, so no record repeats; `'all'` ends it once every source was
   * read whole (the others repeat until then).
   */
  readonly exhausted?: 'first' | 'all';
  /**
   * Lets a loader resume a state saved with other weights (the sources must
   * still have the same lengths): it continues from the same position of the
   * epoch with the new weights. Default false: such a state is refused with
   * IncompatibleStateError.
   */
  readonly allowWeightChange?: boolean;
}

/** Where a record of a mix comes from. */
export interface MixedRecord {
  /** The index of its source in the entries given. */
  readonly source: number;
  /** Its record in that source. */
  readonly index: number;
}

const OPTIONS = ['seed', 'length', 'exhausted', 'allowWeightChange'];

export class MixedSource<C extends Columns = Columns> extends ColumnSource<C> {
  /** The weights, normalised to sum to 1, by source. */
  readonly weights: readonly number[];
  /** Each source's record count. */
  readonly sourceLengths: readonly number[];
  /**
   * Over any W consecutive records of the mix, each source's count is within
   * this of W × its weight (under 1 for two sources; see README).
   */
  readonly windowBound: number;
  private readonly spec: NativeMix;

  constructor(entries: readonly MixedSourceEntry[], options: MixedSourceOptions = {}) {
    if (!Array.isArray(entries) || entries.length === 0) {
      throw argumentTypeError(`entries must be a non-empty array of { source, weight }, got ${describe(entries)}`);
    }
    if (typeof options !== 'object' || options === null) throw argumentTypeError(`options must be an object, got ${describe(options)}`);
    for (const key of Object.keys(options)) {
      if (!OPTIONS.includes(key)) throw argumentTypeError(`options.${key} is not a MixedSource option (${OPTIONS.join(', ')})`);
    }
    const sources: AnyColumnSource[] = [];
    const weights: number[] = [];
    entries.forEach((e: unknown, k) => {
      if (typeof e !== 'object' || e === null) throw argumentTypeError(`entries[${k}] must be { source, weight }, got ${describe(e)}`);
      const { source, weight } = e as { source?: unknown; weight?: unknown };
      if (!(source instanceof ColumnSource)) throw argumentTypeError(`entries[${k}].source must be a ColumnSource, got ${describe(source)}`);
      if (typeof weight !== 'number') throw argumentTypeError(`entries[${k}].weight must be a number, got ${describe(weight)}`);
      if (!(weight > 0) || !Number.isFinite(weight)) throw argumentRangeError(`entries[${k}].weight must be positive and finite, got ${weight}`);
      sources.push(source);
      weights.push(weight);
    });
    const seed = options.seed === undefined ? 0 : normalizeSeed(options.seed, 'options.seed');
    const exhausted = options.exhausted ?? 'first';
    if (exhausted !== 'first' && exhausted !== 'all') throw argumentRangeError(`options.exhausted must be 'first' or 'all', got ${describe(exhausted)}`);
    const allowWeightChange = options.allowWeightChange ?? false;
    if (typeof allowWeightChange !== 'boolean') throw argumentTypeError(`options.allowWeightChange must be a boolean, got ${describe(allowWeightChange)}`);
    const lengths = sources.map((s) => s.length);
    const total = lengths.reduce((a, b) => a + b, 0);
    if (total > maxRecords()) throw argumentRangeError(`the sources hold ${total} records together, over the 2^32 limit`);
    const columns = agreeingColumns(sources);
    const spec: NativeMix = Object.freeze({ rows: Object.freeze(lengths), weights: Object.freeze([...weights]), seed: BigInt(seed) });
    const info = native().mixInfo(spec);
    let length: number;
    if (options.length !== undefined) {
      length = options.length;
      if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 1 || length > maxRecords()) {
        throw argumentRangeError(`options.length must be an integer in [1, 2^32], got ${describe(length)}`);
      }
    } else {
      length = exhausted === 'all' ? info.lengthAll : info.lengthFirst;
    }
    super(columns.map((parts) => Column.mixed(parts[0]!.name, parts, spec, length)));
    const sum = weights.reduce((a, b) => a + b, 0);
    this.weights = Object.freeze(weights.map((w) => w / sum));
    this.sourceLengths = spec.rows;
    this.windowBound = info.windowBound;
    this.spec = spec;
    const fingerprint = Object.freeze({ rows: [...lengths], weights: [...weights], seed, length });
    setSourceFingerprint(this, {
      value: fingerprint,
      check(saved) {
        const s = saved as { rows?: unknown; weights?: unknown; seed?: unknown; length?: unknown } | null;
        if (typeof s !== 'object' || s === null) return { differing: ['source'], lengthMayChange: false };
        const same = (a: unknown, b: readonly unknown[]) => Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
        const differing: string[] = [];
        if (!same(s.rows, fingerprint.rows)) differing.push('source.rows');
        if (s.seed !== fingerprint.seed) differing.push('source.seed');
        const weightsDiffer = !same(s.weights, fingerprint.weights) || s.length !== fingerprint.length;
        if (weightsDiffer && !allowWeightChange) differing.push('source.weights');
        return { differing, lengthMayChange: allowWeightChange };
      },
    });
  }

  /** Where records of the mix come from: record indices[i] is record index of source `source`. */
  locate(indices: readonly number[] | Uint32Array): MixedRecord[] {
    const idx = Uint32Array.from(indices as ArrayLike<number>);
    idx.forEach((i, j) => {
      const given = (indices as ArrayLike<number>)[j];
      if (given !== i || i >= this.length) throw argumentRangeError(`indices[${j}] must be an integer in [0, ${this.length}), got ${describe(given)}`);
    });
    const sources = new Uint32Array(idx.length);
    const rows = new Float64Array(idx.length);
    native().mixLocate(this.spec, idx, sources, rows);
    return Array.from(idx, (_, j) => ({ source: sources[j]!, index: rows[j]! }));
  }
}

/**
 * The sources' columns by name, in the first source's order; every source
 * must have the same names, dtypes, kinds, row shapes and padding.
 */
function agreeingColumns(sources: readonly AnyColumnSource[]): Column[][] {
  const all = sources.map((s) => columnsOf(s));
  const first = all[0]!;
  const describeColumn = (c: Column) => `${c.kind} ${c.dtype}${c.kind === 'fixed' ? ` [${c.rowShape.join(', ')}]` : ''}${c.pad ? ` padded to ${c.pad.length} with ${String(c.pad.value)}` : ''}`;
  all.forEach((columns, k) => {
    const extra = columns.find((x) => !first.some((c) => c.name === x.name));
    if (extra !== undefined) throw sourceError(`entries[${k}].source has a column "${extra.name}" that entries[0].source has not; mixed sources must have the same columns`);
  });
  return first.map((c0) =>
    all.map((columns, k) => {
      const c = columns.find((x) => x.name === c0.name);
      if (c === undefined) throw sourceError(`entries[${k}].source has no column "${c0.name}", which entries[0].source has; mixed sources must have the same columns`);
      if (describeColumn(c) !== describeColumn(c0)) {
        throw sourceError(`entries[${k}].source: column "${c.name}" is ${describeColumn(c)} but entries[0].source's is ${describeColumn(c0)}; mixed sources' columns must agree`);
      }
      return c;
    }),
  );
}
