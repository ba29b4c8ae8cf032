// The real StepStore: a directory on a POSIX filesystem. Every filesystem call
// of the checkpoint code is here. The write protocol (FORMAT.md §6: unique
// temp file with O_EXCL in the same directory, write, fsync, rename over the
// final name, fsync the directory, then retention's unlinks) runs in the C++
// core as one call on a worker thread, not one thread-pool trip per system
// call; the writer lock (§8) is an exclusive flock from the addon on a lock
// file, which the kernel releases when the process dies.
import { constants, mkdirSync } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { native } from '../native.js';
import { tempFileName } from './step-directory.js';
import type { PruneFailure, StepStore, StepStoreLock, StoredFile } from './step-store.js';
import { systemError } from './system-error.js';

export const LOCK_FILE = '.resumable-pipeline.lock';

export class PosixStepStore implements StepStore {
  readonly directory: string;

  constructor(directory: string) {
    this.directory = resolve(directory);
  }

  create(): void {
    mkdirSync(this.directory, { recursive: true });
  }

  list(): Promise<string[]> {
    return readdir(this.directory);
  }

  async read(name: string): Promise<StoredFile | undefined> {
    try {
      // O_NONBLOCK and a regular-file check first: a FIFO in a step file's
      // place would otherwise block the read forever.
      const handle = await open(join(this.directory, name), constants.O_RDONLY | constants.O_NONBLOCK);
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

  async put(name: string, bytes: Uint8Array, prune: readonly string[] = []): Promise<PruneFailure[]> {
    try {
      return await native().writeFileDurable(this.directory, name, tempFileName(name), bytes, [...prune]);
    } catch (err) {
      throw systemError(err);
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
