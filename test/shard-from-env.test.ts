// shardFromEnv: the launchers' variables, their precedence, and the errors
// for inconsistent values; DataLoader's shard: 'env'; PipelineCheckpoint's primary.
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ArraySource, DataLoader, PipelineCheckpoint, shardFromEnv } from '../src/index.js';
import { tempDir } from './helpers/temp-dir.js';

describe('shardFromEnv', () => {
  it.each([
    [{ RP_SHARD_INDEX: '2', RP_SHARD_COUNT: '5' }, { shardIndex: 2, shardCount: 5, source: 'RP_SHARD_INDEX' }],
    [{ RANK: '3', WORLD_SIZE: '8', LOCAL_RANK: '3' }, { shardIndex: 3, shardCount: 8, source: 'torchrun' }],
    [{ SLURM_PROCID: '0', SLURM_NTASKS: '4' }, { shardIndex: 0, shardCount: 4, source: 'slurm' }],
    [{ OMPI_COMM_WORLD_RANK: '6', OMPI_COMM_WORLD_SIZE: '7' }, { shardIndex: 6, shardCount: 7, source: 'openmpi' }],
    [{ JOB_COMPLETION_INDEX: '1', RP_SHARD_COUNT: '3' }, { shardIndex: 1, shardCount: 3, source: 'kubernetes' }],
    [{}, { shardIndex: 0, shardCount: 1, source: 'default' }],
    [{ RANK: '', WORLD_SIZE: '' }, { shardIndex: 0, shardCount: 1, source: 'default' }],
  ])('%j -> %j', (env, expected) => {
    expect(shardFromEnv(env)).toEqual(expected);
  });

  it('takes the first launcher in order of precedence', () => {
    const all = {
      RP_SHARD_INDEX: '1', RP_SHARD_COUNT: '2', RANK: '2', WORLD_SIZE: '3', SLURM_PROCID: '3', SLURM_NTASKS: '4',
      OMPI_COMM_WORLD_RANK: '4', OMPI_COMM_WORLD_SIZE: '5', JOB_COMPLETION_INDEX: '0',
    };
    expect(shardFromEnv(all)).toEqual({ shardIndex: 1, shardCount: 2, source: 'RP_SHARD_INDEX' });
    const { RP_SHARD_INDEX: _a, RP_SHARD_COUNT: _b, ...noRp } = all;
    expect(shardFromEnv(noRp).source).toBe('torchrun');
    const { RANK: _c, WORLD_SIZE: _d, ...noTorch } = noRp;
    expect(shardFromEnv(noTorch).source).toBe('slurm');
    const { SLURM_PROCID: _e, SLURM_NTASKS: _f, ...noSlurm } = noTorch;
    expect(shardFromEnv(noSlurm).source).toBe('openmpi');
  });

  it.each([
    [{ RANK: '4', WORLD_SIZE: '4' }, 'RANK=4 must be below WORLD_SIZE=4 (torchrun)'],
    [{ RANK: '1' }, 'WORLD_SIZE is not set, but RANK is (torchrun)'],
    [{ SLURM_NTASKS: '2' }, 'SLURM_PROCID is not set, but SLURM_NTASKS is (slurm)'],
    [{ RP_SHARD_INDEX: '0' }, 'RP_SHARD_COUNT is not set, but RP_SHARD_INDEX is'],
    [{ RP_SHARD_COUNT: '3' }, 'RP_SHARD_INDEX is not set, but RP_SHARD_COUNT is'],
    [{ JOB_COMPLETION_INDEX: '2' }, 'RP_SHARD_COUNT is not set, but JOB_COMPLETION_INDEX is (kubernetes)'],
    [{ RANK: '1.5', WORLD_SIZE: '4' }, 'RANK must be an integer >= 0 (torchrun), got "1.5"'],
    [{ OMPI_COMM_WORLD_RANK: '0', OMPI_COMM_WORLD_SIZE: '0' }, 'OMPI_COMM_WORLD_SIZE must be an integer >= 1'],
    [{ SLURM_PROCID: '-1', SLURM_NTASKS: '2' }, 'SLURM_PROCID must be an integer >= 0'],
    [{ RP_SHARD_INDEX: 'x', RP_SHARD_COUNT: '2' }, 'RP_SHARD_INDEX must be an integer'],
    [{ JOB_COMPLETION_INDEX: '3', RP_SHARD_COUNT: '3' }, 'JOB_COMPLETION_INDEX=3 must be below RP_SHARD_COUNT=3 (kubernetes)'],
  ])('%j throws RP_INVALID_ARGUMENT naming the variable', (env, message) => {
    expect(() => shardFromEnv(env)).toThrow(expect.objectContaining({ code: 'RP_INVALID_ARGUMENT', message: expect.stringContaining(message) }));
  });

  it('reads process.env by default', () => {
    vi.stubEnv('RP_SHARD_INDEX', '1');
    vi.stubEnv('RP_SHARD_COUNT', '2');
    try {
      expect(shardFromEnv()).toEqual({ shardIndex: 1, shardCount: 2, source: 'RP_SHARD_INDEX' });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe("DataLoader shard: 'env'", () => {
  const source = () => new ArraySource({ y: { data: Int32Array.from({ length: 20 }, (_, i) => i), shape: [20] } });
  afterEach(() => vi.unstubAllEnvs());

  it('is shardIndex and shardCount from the environment', () => {
    vi.stubEnv('RANK', '1');
    vi.stubEnv('WORLD_SIZE', '2');
    const fromEnv = [...new DataLoader(source(), { batchSize: 3, seed: 5, shard: 'env' })].map((b) => Array.from(b.indices));
    const explicit = [...new DataLoader(source(), { batchSize: 3, seed: 5, shardIndex: 1, shardCount: 2 })].map((b) => Array.from(b.indices));
    expect(fromEnv).toEqual(explicit);
    const other = [...new DataLoader(source(), { batchSize: 3, seed: 5, shardIndex: 0, shardCount: 2 })].map((b) => Array.from(b.indices));
    expect(fromEnv).not.toEqual(other);
  });

  it('is one shard without a launcher, and refuses bad values and mixing', () => {
    for (const name of ['RP_SHARD_INDEX', 'RP_SHARD_COUNT', 'RANK', 'WORLD_SIZE', 'SLURM_PROCID', 'SLURM_NTASKS', 'OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', 'JOB_COMPLETION_INDEX']) {
      vi.stubEnv(name, undefined);
    }
    expect([...new DataLoader(source(), { batchSize: 20, shard: 'env' })][0]!.indices.length).toBe(20);
    expect(() => new DataLoader(source(), { batchSize: 2, shard: 'env', shardIndex: 0 })).toThrow(expect.objectContaining({ code: 'RP_INVALID_ARGUMENT' }));
    expect(() => new DataLoader(source(), { batchSize: 2, shard: 'auto' as never })).toThrow(/options\.shard must be 'env'/);
    vi.stubEnv('SLURM_PROCID', '2');
    vi.stubEnv('SLURM_NTASKS', '2');
    expect(() => new DataLoader(source(), { batchSize: 2, shard: 'env' })).toThrow(expect.objectContaining({ code: 'RP_INVALID_ARGUMENT', message: expect.stringContaining('SLURM_PROCID=2') }));
  });
});

describe('PipelineCheckpoint primary: false', () => {
  it('reads and restores, and its save() and delete() write nothing and take no lock', async () => {
    const dir = tempDir();
    const writer = new PipelineCheckpoint(dir);
    let value = 0;
    const pipeline = { getState: () => value, setState: (s: unknown) => void (value = s as number) };
    value = 1;
    await writer.save(pipeline, { step: 1 });

    const follower = new PipelineCheckpoint(dir, { primary: false });
    expect(follower.primary).toBe(false);
    value = 2;
    // The primary still holds the lock: a writer would be refused, the follower is not.
    await expect(follower.save(pipeline, { step: 2 })).resolves.toBe(`${dir}/step_2.msgpack`);
    await expect(follower.delete(1)).resolves.toBeUndefined();
    expect(readdirSync(dir).filter((f) => f.startsWith('step_'))).toEqual(['step_1.msgpack']);
    expect(await follower.restoreLatest(pipeline)).toBe(1);
    expect(value).toBe(1);
    // Bad options are refused as the primary refuses them; nothing is captured (getState is not called).
    const getState = vi.fn(() => 3);
    await expect(follower.save({ getState, setState() {} }, { step: -1 })).rejects.toMatchObject({ code: 'RP_INVALID_ARGUMENT' });
    await follower.save({ getState, setState() {} }, { step: 3 });
    expect(getState).not.toHaveBeenCalled();
    await follower.close();
    await writer.close();
    expect(() => new PipelineCheckpoint(dir, { primary: 'yes' as never })).toThrow(/options\.primary/);
  });
});
