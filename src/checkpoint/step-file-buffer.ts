// Where a step file's bytes are encoded. save() copies the state (model
// weights of tens of MB) into them synchronously, so their memory must be
// cheap to touch: fresh 4 KiB pages cost a page fault each, which for 64 MiB
// took longer than writing the file; huge-page memory takes one per 2 MiB.
import { native } from '../native.js';

/** Step files this large or larger are encoded into huge-page memory. */
export const HUGE_STEP_FILE_BYTES = 4 * 1024 * 1024;

/** A zeroed buffer of exactly `size` bytes for encodeStepFile. */
export function stepFileBuffer(size: number): Uint8Array {
  if (size < HUGE_STEP_FILE_BYTES) return new Uint8Array(size);
  return new Uint8Array(native().hugePageBuffer(size), 0, size);
}
