// A StepStore in memory, for fault tests without a disk. It models what a
// crash keeps: `visible` is the directory as readers see it now, `durable` is
// what survives a crash (the directory as of its last sync; a put syncs it
// after its rename, as PosixStepStore does). Any operation, and each stage of
// a put, can be made to fail once (failNext) or to crash the "process" there
// (crashNext): the store falls back to what was durable (or, in 'keep' mode,
// keeps everything that had happened), drops the lock, and the operation
// never settles, as for a writer that died.
import type { PruneFailure, StepStore, StepStoreLock, StoredFile } from '../../src/index.js';
import { tempFileName } from '../../src/checkpoint/step-directory.js';

/** Where a failure or crash can be injected; put's stages run in this order. */
export type StoreOp =
  | 'create'
  | 'list'
  | 'read'
  | 'lock'
  | 'remove'
  | 'setAside'
  | 'syncDirectory'
  /** put, before anything is created. */
  | 'put'
  /** put, with the temp file created and half written. */
  | 'put:write'
  /** put, with the temp file fully written, before its fsync completes. */
  | 'put:fsync'
  /** put, before the rename over the final name. */
  | 'put:rename'
  /** put, after the rename, before the directory sync completes. */
  | 'put:syncDirectory'
  /** put, once durable: before each unlink of a pruned name (a failure is reported, not thrown). */
  | 'put:prune';

/** 'lose': everything not yet durable is gone; 'keep': everything done so far reached the disk. */
export type CrashMode = 'lose' | 'keep';

type Entry = { kind: 'file'; bytes: Uint8Array; mtimeMs: number } | { kind: 'fifo'; mtimeMs: number };

/** One operation (or put stage) as it started: the name it concerns and what was durable at that moment. */
export interface StoreEvent {
  op: StoreOp;
  name: string | undefined;
  durable: string[];
}

export function errnoError(code: string, message = `${code}: injected failure`): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

export class MemoryStepStore implements StepStore {
  private visible = new Map<string, Entry>();
  private durable = new Map<string, Entry>();
  private failures: Array<{ op: StoreOp; error: Error }> = [];
  private crashes: Array<{ op: StoreOp; mode: CrashMode }> = [];
  private lockHolder: object | null = null;
  private clock = 1_700_000_000_000;
  /** Every operation and put stage, in order. */
  readonly events: StoreEvent[] = [];
  /** How many times the store has crashed. */
  crashCount = 0;
  private crashWaiters: Array<() => void> = [];

  /** The next `op` (or put stage) throws error instead of doing its work (ENOSPC by default). */
  failNext(op: StoreOp, error: Error = errnoError('ENOSPC', 'ENOSPC: no space left on device')): this {
    this.failures.push({ op, error });
    return this;
  }

  /** The next `op` (or put stage) crashes the writer there. */
  crashNext(op: StoreOp, mode: CrashMode = 'lose'): this {
    this.crashes.push({ op, mode });
    return this;
  }

  /** A crash now, between operations. */
  crash(mode: CrashMode = 'lose'): void {
    if (mode === 'lose') this.visible = new Map(this.durable);
    else this.durable = new Map(this.visible);
    this.lockHolder = null;
    this.crashCount += 1;
    for (const wake of this.crashWaiters.splice(0)) wake();
  }

  /** Resolves once the store has crashed (from crashNext). */
  crashed(): Promise<void> {
    return this.crashCount > 0 ? Promise.resolve() : new Promise((resolve) => this.crashWaiters.push(resolve));
  }

  /** Puts a file in place durably, bypassing the protocol (a file copied in by hand, or damage). */
  plant(name: string, bytes: Uint8Array): void {
    const entry: Entry = { kind: 'file', bytes: bytes.slice(), mtimeMs: this.tick() };
    this.visible.set(name, entry);
    this.durable.set(name, entry);
  }

  /** Puts a FIFO in place (readers must not block on it). */
  plantFifo(name: string): void {
    const entry: Entry = { kind: 'fifo', mtimeMs: this.tick() };
    this.visible.set(name, entry);
    this.durable.set(name, entry);
  }

  /** The names readers see, sorted. */
  names(): string[] {
    return [...this.visible.keys()].sort();
  }

  /** The names that would survive a crash now, sorted. */
  durableNames(): string[] {
    return [...this.durable.keys()].sort();
  }

  /** A file's bytes as readers see them (undefined if missing or not a regular file). */
  bytes(name: string): Uint8Array | undefined {
    const entry = this.visible.get(name);
    return entry?.kind === 'file' ? entry.bytes : undefined;
  }

  /** Whether some writer holds the lock. */
  get locked(): boolean {
    return this.lockHolder !== null;
  }

  create(): void {
    const failure = this.takeFailure('create');
    if (failure !== undefined) throw failure;
  }

  async list(): Promise<string[]> {
    await this.stage('list', undefined);
    return [...this.visible.keys()];
  }

  async read(name: string): Promise<StoredFile | undefined> {
    await this.stage('read', name);
    const entry = this.visible.get(name);
    if (entry === undefined) return undefined;
    if (entry.kind === 'fifo') return { bytes: undefined, size: 0, mtimeMs: entry.mtimeMs };
    return { bytes: entry.bytes.slice(), size: entry.bytes.length, mtimeMs: entry.mtimeMs };
  }

  async put(name: string, bytes: Uint8Array, prune: readonly string[] = []): Promise<PruneFailure[]> {
    const data = bytes.slice();
    await this.stage('put', name);
    const temp = tempFileName(name);
    if (this.visible.has(temp)) throw errnoError('EEXIST');
    this.visible.set(temp, { kind: 'file', bytes: data.subarray(0, data.length >> 1), mtimeMs: this.tick() });
    const dropTemp = () => this.visible.delete(temp);
    await this.stage('put:write', temp, dropTemp);
    this.visible.set(temp, { kind: 'file', bytes: data, mtimeMs: this.tick() });
    await this.stage('put:fsync', temp, dropTemp);
    await this.stage('put:rename', name, dropTemp);
    const entry = this.visible.get(temp)!;
    this.visible.delete(temp);
    this.visible.set(name, entry);
    // The rename may not be durable: like the native protocol, a failed sync removes the new file again.
    await this.stage('put:syncDirectory', name, () => this.visible.delete(name));
    this.durable = new Map(this.visible);
    const failed: PruneFailure[] = [];
    for (const old of prune) {
      try {
        await this.stage('put:prune', old);
      } catch (err) {
        failed.push({ name: old, reason: (err as Error).message });
        continue;
      }
      this.visible.delete(old);
    }
    return failed;
  }

  async remove(name: string): Promise<void> {
    await this.stage('remove', name);
    this.visible.delete(name);
  }

  async setAside(name: string, asideName: string): Promise<void> {
    await this.stage('setAside', name);
    const entry = this.visible.get(name);
    if (entry === undefined) throw errnoError('ENOENT', `ENOENT: no such file or directory, rename '${name}' -> '${asideName}'`);
    this.visible.delete(name);
    this.visible.set(asideName, entry);
  }

  async syncDirectory(): Promise<void> {
    await this.stage('syncDirectory', undefined);
    this.durable = new Map(this.visible);
  }

  async lock(): Promise<StepStoreLock | null> {
    await this.stage('lock', undefined);
    if (this.lockHolder !== null) return null;
    const token = {};
    this.lockHolder = token;
    return {
      release: () => {
        if (this.lockHolder === token) this.lockHolder = null;
      },
    };
  }

  private tick(): number {
    this.clock += 1000;
    return this.clock;
  }

  private takeFailure(op: StoreOp): Error | undefined {
    const i = this.failures.findIndex((f) => f.op === op);
    return i === -1 ? undefined : this.failures.splice(i, 1)[0]!.error;
  }

  /**
   * The start of an operation or stage: logged, then (after a turn of the
   * event loop, so operations interleave as real I/O would) an injected crash
   * never returns, and an injected failure undoes the stage's partial work
   * (undo) and throws.
   */
  private async stage(op: StoreOp, name: string | undefined, undo?: () => void): Promise<void> {
    this.events.push({ op, name, durable: this.durableNames() });
    await new Promise<void>((resolve) => setImmediate(resolve));
    const c = this.crashes.findIndex((x) => x.op === op);
    if (c !== -1) {
      this.crash(this.crashes.splice(c, 1)[0]!.mode);
      await new Promise<never>(() => {}); // the writer is dead: nothing of it runs any more
    }
    const failure = this.takeFailure(op);
    if (failure !== undefined) {
      undo?.();
      throw failure;
    }
  }
}
