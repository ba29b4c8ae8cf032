// PosixStepStore's own paths: the synchronous and thread-pool reads and
// listings give the same answers, and a put with onDurable reports
// durability before retention's removals.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PosixStepStore } from '../../src/checkpoint/posix-step-store.js';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));
function store(): PosixStepStore {
  root = mkdtempSync(join(tmpdir(), 'rp-posix-store-'));
  const s = new PosixStepStore(join(root, 'steps'));
  s.create();
  return s;
}

describe('PosixStepStore', () => {
  it('reads small and large files whole, and a missing one as undefined', async () => {
    const s = store();
    const small = new Uint8Array(300).map((_, i) => i & 0xff);
    const large = new Uint8Array(200 * 1024).map((_, i) => (i * 7) & 0xff); // over the synchronous read's limit
    writeFileSync(join(s.directory, 'small'), small);
    writeFileSync(join(s.directory, 'large'), large);
    writeFileSync(join(s.directory, 'empty'), new Uint8Array(0));
    expect(Buffer.from((await s.read('small'))!.bytes!).equals(Buffer.from(small))).toBe(true);
    expect(Buffer.from((await s.read('large'))!.bytes!).equals(Buffer.from(large))).toBe(true);
    expect((await s.read('empty'))!.bytes!.length).toBe(0);
    expect(await s.read('absent')).toBeUndefined();
  });

  it('lists small and large directories completely', async () => {
    const s = store();
    writeFileSync(join(s.directory, 'a'), '');
    expect(await s.list()).toEqual(['a']);
    // Enough long names that the directory outgrows the synchronous listing on common filesystems.
    const names = Array.from({ length: 6000 }, (_, i) => `step_${i}.msgpack.with-a-long-enough-name-${i}`);
    for (const name of names) writeFileSync(join(s.directory, name), '');
    expect((await s.list()).sort()).toEqual([...names, 'a'].sort());
  });

  it('a put with onDurable reports durability before it prunes, and prunes after', async () => {
    const s = store();
    writeFileSync(join(s.directory, 'old'), 'old');
    let seen: { fresh: boolean; old: boolean } | undefined;
    const failed = await s.put('fresh', new Uint8Array([1, 2, 3]), ['old', 'gone-already'], {
      onDurable: () => {
        seen = { fresh: existsSync(join(s.directory, 'fresh')), old: existsSync(join(s.directory, 'old')) };
      },
    });
    expect(seen).toEqual({ fresh: true, old: true });
    expect(failed).toEqual([]);
    expect(readdirSync(s.directory).sort()).toEqual(['fresh']);
    expect([...readFileSync(join(s.directory, 'fresh'))]).toEqual([1, 2, 3]);
  });

  it('a prune it cannot do is reported, after the put is durable', async () => {
    const s = store();
    mkdirSync(join(s.directory, 'adir'));
    writeFileSync(join(s.directory, 'adir', 'x'), '');
    let durable = false;
    const failed = await s.put('fresh', new Uint8Array([4]), ['adir'], { onDurable: () => void (durable = true) });
    expect(durable).toBe(true);
    expect(failed.map((f) => f.name)).toEqual(['adir']);
    expect(failed[0]!.reason).toMatch(/directory/i);
  });
});
