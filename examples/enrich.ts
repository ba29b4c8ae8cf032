// An async map that calls an HTTP service: each batch's records are sent to a
// local server (127.0.0.1, a random port, 5 ms a request) with up to 16
// batches in flight, delivered in order. A resume from a saved state, with
// another concurrency, gives the same stream as an uninterrupted run; the
// requests that were in flight when the state was taken are sent again.
//
//   npm run demo:enrich
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataLoader, type State } from '../src/index.js';

interface Enriched {
  indices: number[];
  labels: string[];
}

async function main(): Promise<void> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const { text } = JSON.parse(body) as { text: string };
      // The service's answer: a label from the text (after 5 ms of "work").
      setTimeout(() => res.end(JSON.stringify({ label: `${text.length}:${text.split(' ')[0]!.toUpperCase()}` })), 5);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/label`;

  const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
  const records = { length: 400, get: (i: number) => ({ id: i, text: `${words[i % 6]} record ${i} ${'x'.repeat(i % 13)}` }) };

  /** The map: one request per record of the batch (batchSize 2), awaited together. */
  const enrich = async (batch: { id: number; text: string }[] & { indices: Uint32Array }): Promise<Enriched> => {
    const labels = await Promise.all(
      batch.map(async (r) => {
        const res = await fetch(url, { method: 'POST', body: JSON.stringify({ text: r.text }) });
        return ((await res.json()) as { label: string }).label;
      }),
    );
    return { indices: Array.from(batch.indices), labels };
  };
  const options = { batchSize: 2, seed: 3, map: enrich };

  // One batch's requests at a time, then 16 batches in flight.
  let start = performance.now();
  const sequential: Enriched[] = [];
  for await (const b of new DataLoader(records, { ...options, concurrency: 1 })) sequential.push(b);
  const oneAtATime = performance.now() - start;
  start = performance.now();
  const loader = new DataLoader(records, { ...options, concurrency: 16 });
  const resumedRun: Enriched[] = [];
  let state: State | undefined;
  for await (const b of loader) {
    resumedRun.push(b);
    if (resumedRun.length === 120) {
      state = loader.getState(); // 16 batches' maps are in flight now; they are not in the state
      break;
    }
  }
  const concurrent = performance.now() - start;
  console.log(`concurrency 1: ${(oneAtATime / 200).toFixed(2)} ms a batch; concurrency 16: ${(concurrent / 120).toFixed(2)} ms a batch`);
  loader.close();

  // Resume from the state, with another concurrency.
  const resumed = new DataLoader(records, { ...options, concurrency: 4 });
  resumed.setState(state!);
  for await (const b of resumed) resumedRun.push(b);
  const same = JSON.stringify(resumedRun) === JSON.stringify(sequential);
  console.log(`Resumed at batch 120 with concurrency 4: ${resumedRun.length} batches, ${same ? 'equal to' : 'DIFFERENT from'} the uninterrupted run`);
  console.log(`Requests: ${requests} for ${2 * records.length} records (two full runs), ${requests - 2 * records.length} sent again: the maps in flight when the state was taken`);
  console.log(`First: ${JSON.stringify(resumedRun[0])}`);
  server.close();
  if (!same) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
