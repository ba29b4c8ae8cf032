// The write protocol (FORMAT.md §6): unique temp file (O_EXCL)
// in the same directory, write, fsync, rename over the final name, fsync the
// directory. The whole protocol runs in the C++ core as one call on a worker
// thread, not one thread-pool trip per system call.
import { native } from '../native.js';
import { tempFileName } from './step-directory.js';
import { systemError } from './system-error.js';

/**
 * Writes bytes to dir/name durably and atomically; once that is durable,
 * unlinks the `prune` names in the same worker-thread job (retention: their
 * removal becomes durable with the directory's next write). Resolves with
 * the prune names that could not be removed.
 */
export async function writeFileDurable(
  dir: string,
  name: string,
  bytes: Uint8Array,
  prune: readonly string[] = [],
): Promise<{ name: string; reason: string }[]> {
  try {
    return await native().writeFileDurable(dir, name, tempFileName(name), bytes, [...prune]);
  } catch (err) {
    throw systemError(err);
  }
}

/** fsync of a directory, so entries created, renamed or removed in it survive power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    await native().syncDirectory(dir);
  } catch (err) {
    throw systemError(err);
  }
}
