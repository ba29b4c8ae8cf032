// Large arrays that calls return (random.permutation, gather without out) come
// from reused memory: a result held across garbage collections keeps its
// bytes, dropped results are reused so memory stays bounded, and the bytes are
// the same as with a caller's own `out`.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gather, random } from '../src/index.js';

const root = join(__dirname, '..');

function child(script: string, flags: string[] = []): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--expose-gc', ...flags, '--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const prelude = `
  const { random, gather } = require(${JSON.stringify(join(root, 'src/index.ts'))});
  const { native } = require(${JSON.stringify(join(root, 'src/native.ts'))});
  const same = (a, b) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
  const n = 1 << 22;  // 16 MiB results
`;

describe('pooled results', () => {
  it('equal the results written into a caller-owned out, for both pooled and small sizes', () => {
    for (const n of [1000, 1 << 20, (1 << 20) + 3]) {
      const key = random.key(n);
      const out = new Uint32Array(n);
      random.permutation(key, n, out);
      const fresh = random.permutation(key, n);
      expect(fresh.length).toBe(n);
      expect(Buffer.compare(Buffer.from(fresh.buffer, fresh.byteOffset, fresh.byteLength), Buffer.from(out.buffer))).toBe(0);
      const source = new Float64Array(4 * 1024).map((_, i) => i * 0.5);
      const indices = fresh.map((v) => v % 1024).subarray(0, Math.min(n, 70_000));
      const rows = gather(source, 4, indices);
      const expected = new Float64Array(indices.length * 4);
      gather(source, 4, indices, expected);
      expect(rows).toBeInstanceOf(Float64Array);
      expect(rows).toEqual(expected);
    }
  });

  it('a result held across garbage collections keeps its bytes while later results reuse memory', () => {
    const r = child(`${prelude}
      const held = random.permutation(random.key(1), n);
      const copy = held.slice();
      const heldRows = gather(held, 1, held.subarray(0, n / 2));
      const rowsCopy = heldRows.slice();
      let ok = true;
      for (let k = 0; k < 200; k++) {
        const p = random.permutation(random.key(k + 2), n);
        gather(p, 1, p.subarray(0, n / 2));
        if (k % 20 === 0) { gc(); ok = ok && same(held, copy) && same(heldRows, rowsCopy); }
      }
      process.stdout.write(JSON.stringify({ ok, intact: same(held, copy) && same(heldRows, rowsCopy) }));`);
    expect(r).toEqual({ ok: true, intact: true });
  });

  it('500 dropped 16 MiB results in a sync loop grow RSS by far less than they add up to', () => {
    const r = child(`${prelude}
      for (let k = 0; k < 5; k++) random.permutation(random.key(k), n);
      gc(); const start = process.memoryUsage().rss;
      for (let k = 0; k < 500; k++) random.permutation(random.key(k), n);
      const growth = process.memoryUsage().rss - start;
      process.stdout.write(JSON.stringify({ growth, blocks: native().resultBlocks() }));`);
    console.log(`500 × 16 MiB permutations: RSS +${(Number(r.growth) / 2 ** 20).toFixed(0)} MiB, ${r.blocks} pool blocks made`);
    // 500 results add up to 8000 MiB; memory is reused, not made per result.
    expect(r.growth).toBeLessThan(512 * 2 ** 20);
    expect(r.blocks).toBeLessThan(250);
  });

  it('pins pooled results: transfer() throws RP_BUFFER_PINNED and the bytes stay', () => {
    const r = child(`${prelude}
      const p = random.permutation(random.key(3), n);
      const before = p.slice();
      let code = typeof ArrayBuffer.prototype.transfer === 'function' ? 'none' : 'no transfer() to test';
      try { p.buffer.transfer(); } catch (e) { code = e.code ?? code; }
      process.stdout.write(JSON.stringify({ code, same: same(p, before) }));`, ['--harmony-rab-gsab-transfer']);
    expect(r).toEqual({ code: 'RP_BUFFER_PINNED', same: true });
  });
});
