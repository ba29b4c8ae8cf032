// Map results as text, for byte-for-byte comparisons across processes:
// typed arrays as their kind and elements.
export function serializeResult(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (ArrayBuffer.isView(v) ? { [v.constructor.name]: Array.from(v as unknown as ArrayLike<number>) } : v));
}
