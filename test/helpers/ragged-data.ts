// A deterministic ragged dataset: rows of random length from a seed (no
// test-runner imports, so child processes can build the same data).
export interface RaggedData {
  values: Uint8Array;
  offsets: Int32Array;
  /** Row i, as the source holds it. */
  row(i: number): Uint8Array;
}

/** n rows of 0..maxLength bytes; offsets start at `first` (a sliced Arrow array). */
export function raggedData(n: number, maxLength: number, seed: number, first = 0): RaggedData {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  const offsets = new Int32Array(n + 1);
  offsets[0] = first;
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + (next() % (maxLength + 1));
  const values = new Uint8Array(offsets[n]! + 3);
  for (let i = 0; i < values.length; i++) values[i] = next() & 255;
  return { values, offsets, row: (i) => values.subarray(offsets[i]!, offsets[i + 1]!) };
}

