// The write protocol (DESIGN.md §4, FORMAT.md §6): unique temp file (O_EXCL)
// in the same directory, write, fsync, rename over the final name, fsync the
// directory. It runs in the C++ core as one call on a worker thread, so a save
// costs one trip to the thread pool instead of one per system call.
import { join } from 'node:path';
import { native } from '../native.js';
import { tempFileName } from './step-directory.js';
import { systemError } from './system-error.js';

/** Writes bytes to dir/name durably and atomically; returns the final path. */
export async function writeFileDurable(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  try {
    await native().writeFileDurable(dir, name, tempFileName(name), bytes);
  } catch (err) {
    throw systemError(err);
  }
  return join(dir, name);
}

/** fsync of a directory, so entries created, renamed or removed in it survive power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    await native().syncDirectory(dir);
  } catch (err) {
    throw systemError(err);
  }
}
