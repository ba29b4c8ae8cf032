// Tokenizes a JSON Lines corpus on worker threads, is killed with SIGKILL
// mid-run, resumes with another worker count, and checks that its output
// equals an uninterrupted run byte for byte.
//
//   npm run demo:tokenize
//
// The tokenizer (js-tiktoken, cl100k_base) runs in examples/tokenize-map.mjs,
// the loader's `map` module, on `workers` threads; batches come in order. A
// step saves the loader's state and how many output bytes it covers, so a
// resumed run cuts the output back to that length and goes on: the batches
// that were in flight at the kill are tokenized again.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DataLoader, JsonlSource, PipelineCheckpoint } from '../src/index.js';
import { writeCorpus } from './corpus.js';

const MAP = join(__dirname, 'tokenize-map.mjs');
const SAVE_EVERY = 4; // batches

interface Tokens {
  indices: Uint32Array;
  offsets: Int32Array;
  tokens: Uint32Array;
}

/** One resumable run: `tsx examples/tokenize.ts run <corpus> <dir> <workers>`. */
async function run(corpus: string, dir: string, workers: number): Promise<void> {
  const source = JsonlSource.open(corpus, { parse: false }); // raw line bytes: the workers parse them
  const loader = new DataLoader<typeof source, Tokens>(source, { batchSize: 64, seed: 7, map: MAP, workers });
  const out = join(dir, 'tokens.bin');
  let bytes = 0;
  const output = { getState: () => ({ bytes }), setState: (s: unknown) => void (bytes = (s as { bytes: number }).bytes) };
  const checkpoint = new PipelineCheckpoint(join(dir, 'steps'), { keep: 2 });
  let step = (await checkpoint.restoreLatest({ loader, output })) ?? 0;
  if (step > 0) console.log(`  resumed at step ${step} with workers: ${workers} (${bytes} output bytes kept)`);
  if (!existsSync(out)) writeFileSync(out, '');
  truncateSync(out, bytes); // what was written after the last step is written again
  for await (const { indices, offsets, tokens } of loader) {
    const frame = Buffer.concat([new Uint8Array(Uint32Array.of(indices.length).buffer), bytesOf(indices), bytesOf(offsets), bytesOf(tokens)]);
    appendFileSync(out, frame);
    bytes += frame.length;
    if (++step % SAVE_EVERY === 0) await checkpoint.save({ loader, output }, { step });
    console.log(`batch ${step}`);
  }
  await checkpoint.close();
  loader.close();
  console.log('done');
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Runs this file as `run ...` in a child; resolves with its exit, or kills it (SIGKILL) once it prints `batch <killAt>`. */
function child(args: string[], killAt?: number): Promise<{ code: number | null; signal: string | null; batches: number }> {
  const proc = spawn(process.execPath, [...process.execArgv, __filename, 'run', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let batches = 0;
  createInterface({ input: proc.stdout }).on('line', (line) => {
    if (line.startsWith('  ')) console.log(line);
    const m = /^batch (\d+)$/.exec(line);
    if (m !== null) batches = Number(m[1]);
    if (killAt !== undefined && batches === killAt) proc.kill('SIGKILL');
  });
  return new Promise((resolve) => proc.on('close', (code, signal) => resolve({ code, signal, batches })));
}

async function demo(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rp-tokenize-'));
  try {
    const corpus = join(dir, 'corpus.jsonl');
    writeCorpus(corpus, 3000);
    console.log(`Corpus: ${corpus} (3000 records, ${readFileSync(corpus).length} bytes); map: js-tiktoken cl100k_base on worker threads`);

    const reference = join(dir, 'reference');
    const whole = await child([corpus, reference, '2']);
    if (whole.code !== 0) throw new Error(`the uninterrupted run failed (${whole.code})`);
    console.log(`Uninterrupted run (workers: 2): ${whole.batches} batches`);

    const resumed = join(dir, 'resumed');
    const killAt = 10 + Math.floor(Math.random() * 20);
    const killed = await child([corpus, resumed, '2'], killAt);
    if (killed.signal !== 'SIGKILL') throw new Error(`the run to kill ended by itself (${killed.code})`);
    console.log(`Killed the tokenizing process (workers: 2) with SIGKILL after batch ${killed.batches}`);
    const rest = await child([corpus, resumed, '1']);
    if (rest.code !== 0) throw new Error(`the resumed run failed (${rest.code})`);
    console.log(`Resumed with workers: 1 and finished at batch ${rest.batches}`);

    const a = readFileSync(join(reference, 'tokens.bin'));
    const b = readFileSync(join(resumed, 'tokens.bin'));
    const tokens = countTokens(a);
    const same = Buffer.compare(a, b) === 0;
    const hash = createHash('sha256').update(b).digest('hex').slice(0, 16);
    console.log(`Output: ${b.length} bytes, ${tokens} tokens, sha256 ${hash}…`);
    console.log(same ? 'Resumed output equals the uninterrupted run byte for byte' : 'MISMATCH: the resumed output differs from the uninterrupted run');
    if (!same) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Tokens in a tokens.bin (frames: rows, indices, offsets, tokens). */
function countTokens(file: Buffer): number {
  let at = 0;
  let total = 0;
  while (at < file.length) {
    const rows = file.readUInt32LE(at);
    const count = file.readInt32LE(at + 4 + 4 * rows + 4 * rows);
    total += count;
    at += 4 + 4 * rows + 4 * (rows + 1) + 4 * count;
  }
  return total;
}

const [mode, ...args] = process.argv.slice(2);
(mode === 'run' ? run(args[0]!, args[1]!, Number(args[2])) : demo()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
