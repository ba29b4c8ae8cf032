// One writer per directory: an exclusive flock (from the addon) on a lock file.
// The kernel releases it when the process dies, so crashes never leave it held.
import { join } from 'node:path';
import { native } from '../native.js';
import { CheckpointLockedError } from '../errors.js';
import { systemError } from './system-error.js';

export const LOCK_FILE = '.resumable-pipeline.lock';

export class DirectoryLock {
  private constructor(private fd: number | undefined) {}

  /** Takes the lock, or throws CheckpointLockedError at once if another writer holds it. */
  static acquire(dir: string): DirectoryLock {
    const path = join(dir, LOCK_FILE);
    let fd: number;
    try {
      fd = native().lockFile(path);
    } catch (err) {
      throw systemError(err); // with a Node-style code, so callers can branch on EROFS or EACCES
    }
    if (fd < 0) throw new CheckpointLockedError(dir);
    return new DirectoryLock(fd);
  }

  release(): void {
    if (this.fd !== undefined) native().unlockFile(this.fd);
    this.fd = undefined;
  }
}
