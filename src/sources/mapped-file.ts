// A file mapped read-only into memory, and typed ranges of it that columns
// read in place (part of the public source contract, see source.ts). The
// mapping is shared: a DataLoader reading a region holds its own share, so
// the file stays mapped while any loader or any view uses it, whatever
// happens to this object. A region of any size costs no JavaScript memory:
// Node 20 cannot view more than 4 GiB at once, and needs not.
import { SourceOpenError } from '../errors.js';
import { argumentRangeError, argumentTypeError } from '../error-codes.js';
import { type HugePageAdvice, native, type NativeMappedFile } from '../native.js';
import { DTYPES, type Dtype } from '../typed-arrays.js';
import { describe } from '../validate.js';

export class MappedFile {
  readonly path: string;
  /** The file's size in bytes. */
  readonly byteLength: number;
  /** @internal */
  readonly native: NativeMappedFile;

  private constructor(path: string, file: NativeMappedFile) {
    this.path = path;
    this.native = file;
    this.byteLength = file.byteLength;
    Object.freeze(this);
  }

  /**
   * Maps the regular file at `path` read-only. Throws SourceOpenError
   * (RP_SOURCE_OPEN_FAILED) naming the path when it cannot be opened or mapped. Do
   * not modify or truncate the file while it is mapped.
   */
  static open(path: string): MappedFile {
    if (typeof path !== 'string' || path === '') throw argumentTypeError(`path must be a non-empty string, got ${describe(path)}`);
    let file: NativeMappedFile;
    try {
      file = new (native().MappedFile)(path);
    } catch (cause) {
      throw new SourceOpenError(path, `cannot open ${path}: ${(cause as Error).message}`, { cause });
    }
    return new MappedFile(path, file);
  }

  /**
   * A zero-copy view of bytes [offset, offset + length) (at most 4 GiB), e.g.
   * to parse a header or footer. Copy-on-write: writing to it changes only
   * this process's copy, never the file.
   */
  bytes(offset: number, length: number): Uint8Array<ArrayBuffer> {
    this.checkRange(offset, length, 'length');
    return new Uint8Array(this.native.slice(offset, length));
  }

  /**
   * `length` elements of `dtype` from byte `offset` on, which a column reads
   * in place (Column.fixed, Column.ragged). Any size; no view is made.
   * `offset` must be a multiple of the element size.
   */
  region(offset: number, length: number, dtype: Dtype): FileRegion {
    const type = typeof dtype === 'string' && Object.hasOwn(DTYPES, dtype) ? DTYPES[dtype] : undefined;
    if (type === undefined) throw argumentTypeError(`dtype must be one of ${Object.keys(DTYPES).join(', ')}, got ${describe(dtype)}`);
    const size = type.BYTES_PER_ELEMENT;
    if (!Number.isSafeInteger(length) || length < 0) throw argumentRangeError(`length must be a non-negative integer, got ${describe(length)}`);
    this.checkRange(offset, length * size, `length (${length} × ${size} bytes)`);
    if (offset % size !== 0) {
      throw argumentRangeError(`offset ${offset} of ${this.path} is not aligned to its ${size}-byte ${dtype} elements`);
    }
    return new FileRegion(this, offset, length, dtype);
  }

  /** MADV_HUGEPAGE on the mapping where the kernel allows it for files (never a collapse). */
  adviseHugePages(): HugePageAdvice {
    return this.native.adviseHugePages();
  }

  private checkRange(offset: number, bytes: number, what: string): void {
    if (!Number.isSafeInteger(offset) || offset < 0) throw argumentRangeError(`offset must be a non-negative integer, got ${describe(offset)}`);
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw argumentRangeError(`${what} must be a non-negative integer, got ${describe(bytes)}`);
    if (offset > this.byteLength || bytes > this.byteLength - offset) {
      throw argumentRangeError(`bytes [${offset}, ${offset + bytes}) are past the end of ${this.path} (${this.byteLength} bytes)`);
    }
  }
}

/** A typed range of a MappedFile (MappedFile.region()): what a column reads in place of a TypedArray. */
export class FileRegion {
  /** @internal */
  constructor(
    readonly file: MappedFile,
    /** Where the first element starts in the file. */
    readonly byteOffset: number,
    /** Elements (not bytes). */
    readonly length: number,
    readonly dtype: Dtype,
  ) {
    Object.freeze(this);
  }

  get byteLength(): number {
    return this.length * DTYPES[this.dtype].BYTES_PER_ELEMENT;
  }
}
