// Ragged token rows for the packing tests and bench.
/** Rows of long-tailed lengths (0 .. ~4 × length) whose tokens are unique: row r's token k is r * 10000 + k. */
export function tokenRows(rows: number, seed: number): { values: Int32Array; offsets: Int32Array } {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const lengths = Array.from({ length: rows }, () => Math.floor(-Math.log(1 - rand()) * 9 * (rand() < 0.1 ? 6 : 1)));
  const offsets = Int32Array.from([0, ...lengths.map(((sum) => (l: number) => (sum += l))(0))]);
  const values = new Int32Array(offsets[rows]!);
  lengths.forEach((l, r) => {
    for (let k = 0; k < l; k++) values[offsets[r]! + k] = r * 10000 + k;
  });
  return { values, offsets };
}

