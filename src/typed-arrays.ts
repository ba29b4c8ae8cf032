// The one list of TypedArray kinds the package handles (Float16Array and
// DataView are not among them). Checkpoints, sources and gather all ask here.

export type TypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array
  | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/**
 * Each kind: its class, its dtype name (ColumnInfo.dtype) and, by its position,
 * its dtype code in step files (FORMAT.md §3). Never reorder.
 */
const KINDS = [
  ['int8', Int8Array], ['uint8', Uint8Array], ['uint8clamped', Uint8ClampedArray],
  ['int16', Int16Array], ['uint16', Uint16Array], ['int32', Int32Array],
  ['uint32', Uint32Array], ['float32', Float32Array], ['float64', Float64Array],
  ['int64', BigInt64Array], ['uint64', BigUint64Array],
] as const;

type Kinds = typeof KINDS;
export type Dtype = Kinds[number][0];
export type TypedArrayConstructor = Kinds[number][1];

/** Element types by dtype name. */
export const DTYPES = Object.fromEntries(KINDS) as { readonly [K in Kinds[number] as K[0]]: K[1] };

/** Classes by dtype code (a step file's ext 1 dtype byte). */
export const CLASS_BY_CODE: readonly TypedArrayConstructor[] = KINDS.map(([, cls]) => cls);

const BY_TAG = new Map<string, { dtype: Dtype; code: number }>(KINDS.map(([dtype, cls], code) => [cls.name, { dtype, code }]));

// The toStringTag getter, so arrays from other realms count and subclasses
// (Buffer) report their base kind.
function entryOf(value: unknown): { dtype: Dtype; code: number } | undefined {
  if (!ArrayBuffer.isView(value)) return undefined;
  const tag = (value as unknown as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  return typeof tag === 'string' ? BY_TAG.get(tag) : undefined;
}

export function isTypedArray(value: unknown): value is TypedArray {
  return entryOf(value) !== undefined;
}

/** The dtype name of a supported TypedArray, else undefined. */
export function dtypeOf(value: unknown): Dtype | undefined {
  return entryOf(value)?.dtype;
}

/** The step-file dtype code of a supported TypedArray, else undefined. */
export function dtypeCodeOf(value: unknown): number | undefined {
  return entryOf(value)?.code;
}
