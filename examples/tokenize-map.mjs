// The map module of examples/tokenize.ts (and the transforms bench): runs on
// worker threads. Its batch is a JSON Lines batch of raw bytes
// (JsonlSource.open(path, { parse: false })): `line.values` holds the lines,
// `line.offsets` where each starts. It parses each line and tokenizes its
// `text` with js-tiktoken (cl100k_base), and returns the tokens of the batch
// as one Uint32Array with row offsets: typed arrays, moved back to the main
// thread without a copy.
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';

const encoder = new Tiktoken(cl100k); // once per worker
const decoder = new TextDecoder();

export default function tokenize(batch) {
  const { values, offsets } = batch.line;
  const rows = offsets.length - 1;
  const parts = [];
  const rowOffsets = new Int32Array(rows + 1);
  for (let j = 0; j < rows; j++) {
    const record = JSON.parse(decoder.decode(values.subarray(offsets[j], offsets[j + 1])));
    const tokens = encoder.encode(record.text);
    parts.push(tokens);
    rowOffsets[j + 1] = rowOffsets[j] + tokens.length;
  }
  const tokens = new Uint32Array(rowOffsets[rows]);
  for (let j = 0; j < rows; j++) tokens.set(parts[j], rowOffsets[j]);
  return { indices: batch.indices, offsets: rowOffsets, tokens };
}
