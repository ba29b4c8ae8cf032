// One writer per directory: an exclusive flock (from the addon) on a lock file.
// The kernel releases it when the process dies, so crashes never leave it held.
import { constants } from 'node:os';
import { join } from 'node:path';
import { native } from '../native.js';
import { CheckpointLockedError } from '../errors.js';

export const LOCK_FILE = '.resumable-pipeline.lock';

/** The errno name (EROFS, EACCES, ...) of a numeric errno, for errors from the addon. */
function errnoName(errno: unknown): string | undefined {
  return Object.entries(constants.errno).find(([, value]) => value === errno)?.[0];
}

export class DirectoryLock {
  private constructor(private fd: number | undefined) {}

  /** Takes the lock, or throws CheckpointLockedError at once if another writer holds it. */
  static acquire(dir: string): DirectoryLock {
    const path = join(dir, LOCK_FILE);
    let fd: number;
    try {
      fd = native().lockFile(path);
    } catch (err) {
      // Give system errors a Node-style code, so callers can branch on EROFS or EACCES.
      const errno = (err as { errno?: unknown }).errno;
      const code = errnoName(errno);
      throw Object.assign(new Error(`${code ?? 'error'}: cannot lock ${path} (${(err as Error).message})`), { code, errno });
    }
    if (fd < 0) throw new CheckpointLockedError(dir);
    return new DirectoryLock(fd);
  }

  release(): void {
    if (this.fd !== undefined) native().unlockFile(this.fd);
    this.fd = undefined;
  }
}
