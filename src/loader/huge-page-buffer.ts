// Memory for a large in-memory source that batches are gathered from at random.
import { native } from '../native.js';

/**
 * A zeroed ArrayBuffer of byteLength bytes, for a source that `gather` reads
 * rows from at random. On Linux its memory is aligned to 2 MiB and advised for
 * transparent huge pages, so random rows cost far fewer TLB misses (see
 * BENCHMARKS.md); elsewhere, or where the runtime forbids external buffers, it
 * is an ordinary ArrayBuffer. It is freed when garbage-collected.
 */
export function hugePageBuffer(byteLength: number): ArrayBuffer {
  return native().hugePageBuffer(byteLength);
}
