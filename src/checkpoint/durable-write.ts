// The write protocol (DESIGN.md §4): unique temp file (O_EXCL) in the same
// directory, write, fsync, rename over the final name, fsync the directory.
// On any error the temp file is removed and nothing else is touched.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** fsync of a directory, so entries created, renamed or removed in it survive power loss. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes bytes to dir/name durably and atomically; returns the final path. */
export async function writeFileDurable(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const temp = join(dir, `.${name}.${randomBytes(8).toString('hex')}.tmp`);
  const target = join(dir, name);
  try {
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(bytes);
      // A failed fsync is never retried: the kernel may already have dropped the dirty pages.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  try {
    await syncDirectory(dir);
  } catch (err) {
    // The rename may not be durable, so the save failed: it must not stay as the newest step.
    await rm(target, { force: true }).catch(() => undefined);
    throw err;
  }
  return target;
}
