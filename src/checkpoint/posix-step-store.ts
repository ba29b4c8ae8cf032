// The real StepStore: a directory on a POSIX filesystem. Every filesystem call
// of the checkpoint code is here. The write protocol (FORMAT.md §6: unique
// temp file with O_EXCL in the same directory, write, fsync, rename over the
// final name, fsync the directory, then retention's unlinks) runs in the C++
// core as one call on a worker thread, not one thread-pool trip per system
// call; the writer lock (§8) is an exclusive flock from the addon on a lock
// file, which the kernel releases when the process dies.
// Reads of small files and listings of small directories use synchronous
// calls: each thread-pool trip costs tens of µs, several times the read itself
// (see BENCHMARKS.md, Checkpoint); larger work still goes to the thread pool.
import { closeSync, constants, fstatSync, mkdirSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { native } from '../native.js';
import { tempFileName } from './step-directory.js';
import type { PruneFailure, PutOptions, StepStore, StepStoreLock, StoredFile } from './step-store.js';
import { systemError } from './system-error.js';

export const LOCK_FILE = '.resumable-pipeline.lock';

/** Files up to this size are read with synchronous calls (a pipeline's state is a few hundred bytes). */
const SYNC_READ_MAX = 64 * 1024;
/** Directories up to this size (a few thousand names) are listed synchronously, larger ones on the thread pool. */
const SYNC_LIST_MAX_BYTES = 128 * 1024;

export class PosixStepStore implements StepStore {
  readonly directory: string;

  constructor(directory: string) {
    this.directory = resolve(directory);
  }

  create(): void {
    mkdirSync(this.directory, { recursive: true });
  }

  list(): Promise<string[]> {
    // A directory's size grows with its entries on every common filesystem
    // (ext4: 4 KiB blocks of ~100-200 names): a small one is listed at once.
    if (statSync(this.directory).size <= SYNC_LIST_MAX_BYTES) return Promise.resolve(readdirSync(this.directory));
    return readdir(this.directory);
  }

  async read(name: string): Promise<StoredFile | undefined> {
    const path = join(this.directory, name);
    let fd: number;
    try {
      // O_NONBLOCK and a regular-file check first: a FIFO in a step file's
      // place would otherwise block the read forever.
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const info = fstatSync(fd);
      if (!info.isFile()) return { bytes: undefined, size: info.size, mtimeMs: info.mtimeMs };
      if (info.size <= SYNC_READ_MAX) {
        // A step file never changes in place (a save renames a new file over
        // it), so the size just read is the content's.
        const bytes = Buffer.allocUnsafe(info.size);
        let done = 0;
        while (done < bytes.length) {
          const n = readSync(fd, bytes, done, bytes.length - done, done);
          if (n === 0) break; // truncated by hand meanwhile: what is there, which the CRC will judge
          done += n;
        }
        const content: Uint8Array = done === bytes.length ? bytes : bytes.subarray(0, done);
        return { bytes: content, size: content.length, mtimeMs: info.mtimeMs };
      }
    } finally {
      closeSync(fd);
    }
    return this.readLarge(path);
  }

  /** A large file, read on the thread pool. */
  private async readLarge(path: string): Promise<StoredFile | undefined> {
    try {
      const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        const info = await handle.stat();
        if (!info.isFile()) return { bytes: undefined, size: info.size, mtimeMs: info.mtimeMs };
        const bytes: Uint8Array = await handle.readFile();
        return { bytes, size: bytes.length, mtimeMs: info.mtimeMs };
      } finally {
        await handle.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async put(name: string, bytes: Uint8Array, prune: readonly string[] = [], options: PutOptions = {}): Promise<PruneFailure[]> {
    // With onDurable, the put reports durability before it prunes: an unlink of
    // an fsynced file can wait on the filesystem's journal for milliseconds,
    // which the save need not wait for. Without it, one trip does both.
    const { onDurable } = options;
    const later = onDurable !== undefined && prune.length > 0 ? [...prune] : [];
    let failed: PruneFailure[];
    try {
      failed = await native().writeFileDurable(this.directory, name, tempFileName(name), bytes, later.length > 0 ? [] : [...prune]);
    } catch (err) {
      throw systemError(err);
    }
    if (later.length === 0 || onDurable === undefined) return failed;
    onDurable();
    try {
      return await native().removeFiles(this.directory, later);
    } catch (err) {
      // The file is durable and reported so: this is only a failure to prune.
      return later.map((n) => ({ name: n, reason: (err as Error).message }));
    }
  }

  remove(name: string): Promise<void> {
    return rm(join(this.directory, name), { force: true });
  }

  setAside(name: string, asideName: string): Promise<void> {
    return rename(join(this.directory, name), join(this.directory, asideName));
  }

  async syncDirectory(): Promise<void> {
    try {
      await native().syncDirectory(this.directory);
    } catch (err) {
      throw systemError(err);
    }
  }

  async lock(): Promise<StepStoreLock | null> {
    let fd: number;
    try {
      fd = native().lockFile(join(this.directory, LOCK_FILE));
    } catch (err) {
      throw systemError(err); // with a Node-style code, so callers can branch on EROFS or EACCES
    }
    if (fd < 0) return null;
    let held: number | undefined = fd;
    return {
      release(): void {
        if (held !== undefined) native().unlockFile(held);
        held = undefined;
      },
    };
  }
}
