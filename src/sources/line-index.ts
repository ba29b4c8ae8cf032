// The records of a JSON Lines (or any line-oriented) file, found by the core in
// one memchr scan of the mapping (rp::index_lines): part of the public source
// contract, so a third-party line-based source can use it too.
import { argumentTypeError } from '../error-codes.js';
import { native } from '../native.js';
import { describe } from '../validate.js';
import { MappedFile } from './mapped-file.js';

export interface LineIndex {
  /** Records: lines that are not blank (a blank line holds only spaces, tabs and "\r"). */
  readonly length: number;
  /**
   * n + 1 byte offsets, Arrow's ragged layout over the file's bytes: record i is
   * [offsets[i], offsets[i + 1]), i.e. its line, its line ending and any blank
   * lines after it. offsets[0] skips leading blank lines; offsets[n] is the file size.
   */
  readonly offsets: BigInt64Array;
  /** With `{ ends: true }`: where record i's own bytes end, before its "\n" or "\r\n" (so [offsets[i], ends[i]) is the line). */
  readonly ends: BigInt64Array | undefined;
}

/** Indexes the lines of a mapped file; `ends` also finds where each line's own bytes end. */
export function indexLines(file: MappedFile, options: { ends?: boolean } = {}): LineIndex {
  if (!(file instanceof MappedFile)) throw argumentTypeError(`file must be a MappedFile (MappedFile.open), got ${describe(file)}`);
  if (typeof options !== 'object' || options === null) throw argumentTypeError(`options must be an object, got ${describe(options)}`);
  const ends = options.ends ?? false;
  if (typeof ends !== 'boolean') throw argumentTypeError(`options.ends must be a boolean, got ${describe(ends)}`);
  const index = native().indexLines(file.native, ends);
  return Object.freeze({ length: index.offsets.length - 1, offsets: index.offsets, ends: index.ends });
}

/** The 1-based number of the line holding byte `offset` of the file, blank lines counted (one scan up to it). */
export function lineNumberAt(file: MappedFile, offset: number): number {
  if (!(file instanceof MappedFile)) throw argumentTypeError(`file must be a MappedFile (MappedFile.open), got ${describe(file)}`);
  return native().lineNumberAt(file.native, offset);
}
