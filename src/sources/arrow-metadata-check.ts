// Bounds for Arrow metadata before apache-arrow decodes it. The flatbuffers
// reader does not check bounds (a read past the end gives zeros), and
// apache-arrow decodes vectors eagerly: one corrupt length in a footer can make
// it build billions of objects and exhaust the heap, which no catch can stop.
// So every vector is checked to fit the bytes that hold it, and the fields
// are counted (a corrupt offset can make the field tree share or loop back).
import type { Schema as FbSchema } from 'apache-arrow/fb/schema';
import { arrowModules, type FbField } from './arrow-modules.js';

/** Deeper field nesting than any real schema; a loop in a corrupt one ends here. */
const MAX_FIELD_DEPTH = 64;

interface Budget {
  readonly bytes: number;
  /** Field tables still allowed: each takes bytes of its own in a real schema. */
  fields: number;
}

/** Throws an Error naming the first vector that cannot fit. */
function fits(count: number, elementBytes: number, budget: Budget, what: string): number {
  if (!Number.isSafeInteger(count) || count < 0 || count * elementBytes > budget.bytes) {
    throw new Error(`${what} claims ${count} entries, more than ${budget.bytes} bytes of metadata can hold`);
  }
  return count;
}

function checkField(field: FbField | null, depth: number, budget: Budget): void {
  if (field === null) return;
  if (depth > MAX_FIELD_DEPTH) throw new Error(`fields nest deeper than ${MAX_FIELD_DEPTH} levels`);
  if (--budget.fields < 0) throw new Error(`the schema claims more fields than ${budget.bytes} bytes of metadata can hold`);
  fits(field.customMetadataLength(), 4, budget, 'a field\'s custom metadata');
  const children = fits(field.childrenLength(), 4, budget, 'a field\'s children');
  for (let i = 0; i < children; i++) checkField(field.children(i), depth + 1, budget);
}

function checkSchema(schema: FbSchema | null, budget: Budget): void {
  if (schema === null) return;
  fits(schema.customMetadataLength(), 4, budget, 'the schema\'s custom metadata');
  fits(schema.featuresLength(), 8, budget, 'the schema\'s features');
  const fields = fits(schema.fieldsLength(), 4, budget, 'the schema\'s fields');
  for (let i = 0; i < fields; i++) checkField(schema.fields(i), 1, budget);
}

/** Checks a file footer's flatbuffer before Footer.decode. */
export function checkFooterBytes(bytes: Uint8Array): void {
  const { ByteBuffer, FbFooter } = arrowModules();
  const budget: Budget = { bytes: bytes.length, fields: Math.ceil(bytes.length / 4) };
  const footer = FbFooter.getRootAsFooter(new ByteBuffer(bytes));
  fits(footer.recordBatchesLength(), 24, budget, 'the footer\'s record batch blocks');
  fits(footer.dictionariesLength(), 24, budget, 'the footer\'s dictionary blocks');
  fits(footer.customMetadataLength(), 4, budget, 'the footer\'s custom metadata');
  checkSchema(footer.schema(), budget);
}

/** Checks a message's flatbuffer before Message.decode; returns its header type. */
export function checkMessageBytes(bytes: Uint8Array): number {
  return checkMessage(bytes).type;
}

/** Checks a message's flatbuffer (a record batch's or a schema's vectors); returns its header type and body length. */
export function checkMessage(bytes: Uint8Array): { type: number; bodyLength: bigint } {
  const { ByteBuffer, FbMessage, FbMessageHeader, FbRecordBatch, FbSchema } = arrowModules();
  const budget: Budget = { bytes: bytes.length, fields: Math.ceil(bytes.length / 4) };
  const message = FbMessage.getRootAsMessage(new ByteBuffer(bytes));
  fits(message.customMetadataLength(), 4, budget, 'the message\'s custom metadata');
  const type = message.headerType();
  if (type === FbMessageHeader.RecordBatch) {
    const batch = message.header(new FbRecordBatch()) as InstanceType<typeof FbRecordBatch> | null;
    if (batch !== null) {
      fits(batch.nodesLength(), 16, budget, 'the record batch\'s field nodes');
      fits(batch.buffersLength(), 16, budget, 'the record batch\'s buffers');
      fits(batch.variadicBufferCountsLength(), 8, budget, 'the record batch\'s variadic buffer counts');
    }
  } else if (type === FbMessageHeader.Schema) {
    checkSchema(message.header(new FbSchema()) as FbSchema | null, budget);
  }
  return { type, bodyLength: message.bodyLength() };
}
