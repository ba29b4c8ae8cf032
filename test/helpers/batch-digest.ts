// A digest of a batch's data (TypedArray bytes, records as JSON, fields in
// name order), to compare batches across processes.
import { createHash } from 'node:crypto';

export function batchDigest(batch: unknown): string {
  const hash = createHash('sha256');
  const visit = (v: unknown): void => {
    if (ArrayBuffer.isView(v)) hash.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    else if (Array.isArray(v)) hash.update(JSON.stringify(v));
    else if (typeof v === 'object' && v !== null) for (const k of Object.keys(v).sort()) visit((v as Record<string, unknown>)[k]);
  };
  visit(batch);
  return hash.digest('hex');
}
