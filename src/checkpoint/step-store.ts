// The storage a PipelineCheckpoint writes to and reads from: one flat
// directory of named files. PosixStepStore is the real one (FORMAT.md §6, §8);
// the checkpoint code never touches a filesystem except through this.
// Names are plain file names inside the directory (step_7.msgpack, ...);
// which names mean what is step-directory.ts's business, not the store's.

/** A file as read: its bytes if it is a regular file, and what it looks like on disk. */
export interface StoredFile {
  /**
   * The whole content, or undefined if the name is not a regular file (a
   * FIFO, a directory, a device): such a file is never read, so a reader
   * cannot block on it, and it counts as corrupt.
   */
  bytes: Uint8Array | undefined;
  /** Bytes on disk (the length of `bytes` for a regular file). */
  size: number;
  /** Last modification, ms since the epoch. */
  mtimeMs: number;
}

/** A name that a durable put could not prune, and why (retention never fails the put). */
export interface PruneFailure {
  name: string;
  reason: string;
}

/** The directory's writer lock, held until release() (or until the process dies). */
export interface StepStoreLock {
  release(): void | Promise<void>;
}

/** How a put treats an existing file under its name. */
export interface PutOptions {
  /**
   * The caller means to replace a file there (a rewind, or the same step saved
   * again). Without it a store that can refuses to overwrite (S3StepStore's
   * If-None-Match: *); PosixStepStore's rename replaces either way, its lock
   * keeping other writers out.
   */
  replace?: boolean;
  /**
   * Called once the new file is durable, before retention's removals (a save
   * resolves then). A store that prunes in the same call as the write need
   * not call it: the put's own end says the same.
   */
  onDurable?: () => void;
}

export interface StepStore {
  /**
   * Makes the directory exist (synchronously: a PipelineCheckpoint calls it
   * from its constructor). Readers (inspectDirectory) never call it.
   */
  create(): void;

  /** Every name in the directory, in no particular order. */
  list(): Promise<string[]>;

  /** One file, or undefined if there is no such name. Other I/O errors reject. */
  read(name: string): Promise<StoredFile | undefined>;

  /**
   * Writes bytes under name durably and atomically: a unique temp file in the
   * directory, written, fsynced, renamed over name, then the directory
   * fsynced. Resolves only once that is durable; on any failure nothing is
   * left under name (not even a file renamed before the directory sync
   * failed) and earlier files are untouched, except that name's previous
   * content is gone if the failure came after the rename. Then, in the same
   * call and only after the new file is durable, removes the `prune` names
   * (a missing one counts as removed; their removal becomes durable with the
   * directory's next sync) and resolves with those it could not remove.
   */
  put(name: string, bytes: Uint8Array, prune?: readonly string[], options?: PutOptions): Promise<PruneFailure[]>;

  /** Removes name; no error if it is already gone. Not durable until syncDirectory(). */
  remove(name: string): Promise<void>;

  /** Renames a (corrupt) file aside to asideName, replacing any file there. Not durable until syncDirectory(). */
  setAside(name: string, asideName: string): Promise<void>;

  /** Makes every create, rename and removal in the directory so far durable. */
  syncDirectory(): Promise<void>;

  /**
   * Takes the directory's exclusive writer lock without waiting: null at once
   * if another writer (another process, or another PipelineCheckpoint in this
   * one) holds it. A crashed holder never leaves it held.
   */
  lock(): Promise<StepStoreLock | null>;
}
