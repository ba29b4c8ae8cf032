// The rows of one ragged column of a batch iterator, read token by token,
// with a cursor that is O(1) state: the inner iterator's state before the
// batch the next token is in, the row in that batch and the token in that
// row. Seeking sets the inner state and takes that batch again, which a
// resumable iterator (a DataLoader) gives back byte for byte.
import { argumentTypeError } from '../error-codes.js';
import type { CheckpointableIterator } from '../iterator/checkpointable-iterator.js';
import type { State } from '../iterator/state.js';
import type { TypedArray } from '../typed-arrays.js';
import { describe } from '../validate.js';

/** Where the next token is. */
export interface RowCursor {
  readonly inner: State;
  readonly row: number;
  readonly offset: number;
}

export class RowStream {
  /** The current batch's column (set once a batch was read). */
  values: TypedArray | undefined;
  offsets: Int32Array | undefined;
  rows = 0;
  private before: State | undefined;
  row = 0;
  offset = 0;
  /** The inner iterator has ended: no token is left. */
  done = false;

  constructor(
    private readonly inner: CheckpointableIterator<unknown>,
    private readonly column: string,
  ) {}

  /** The values array of the current batch (the tokens' type), once a batch was read. */
  get tokenType(): TypedArray | undefined {
    return this.values;
  }

  /** Positions the stream at its first token (call once before reading). */
  start(): void {
    this.fetch();
    this.settle();
  }

  cursor(): RowCursor {
    return { inner: this.before!, row: this.row, offset: this.offset };
  }

  seek(cursor: RowCursor): void {
    this.inner.setState(cursor.inner);
    this.done = false;
    this.fetch();
    if (!this.done && (cursor.row > this.rows || (cursor.row === this.rows && cursor.offset !== 0))) {
      throw argumentTypeError(`state.row ${cursor.row} is past the ${this.rows} rows of the batch the state names`);
    }
    this.row = cursor.row;
    this.offset = cursor.offset;
    if (!this.done && this.row < this.rows && this.offset > this.rowLength()) {
      throw argumentTypeError(`state.offset ${cursor.offset} is past the end of row ${cursor.row} (${this.rowLength()} tokens)`);
    }
    this.settle();
  }

  /** Moves to token `offset` of row `row` of the current batch (what a packing kernel reached). */
  moveTo(row: number, offset: number): void {
    this.row = row;
    this.offset = offset;
    this.settle();
  }

  private rowLength(): number {
    return this.offsets![this.row + 1]! - this.offsets![this.row]!;
  }

  /** Moves past finished and empty rows, fetching batches as needed. */
  private settle(): void {
    while (!this.done) {
      if (this.row < this.rows) {
        if (this.offset < this.rowLength()) return;
        this.row++;
        this.offset = 0;
        continue;
      }
      this.fetch();
    }
  }

  private fetch(): void {
    this.before = this.inner.getState();
    const r = this.inner.next();
    this.row = 0;
    this.offset = 0;
    if (r.done === true) {
      this.done = true;
      this.rows = 0;
      return;
    }
    const column = (r.value as Record<string, unknown> | null)?.[this.column] as { values?: unknown; offsets?: unknown } | undefined;
    if (typeof column !== 'object' || column === null || !ArrayBuffer.isView(column.values) || !(column.offsets instanceof Int32Array)) {
      throw argumentTypeError(`options.column: the batches' "${this.column}" must be a ragged column ({ values, offsets }), got ${describe(column)}`);
    }
    this.values = column.values as TypedArray;
    this.offsets = column.offsets;
    this.rows = column.offsets.length - 1;
  }
}
