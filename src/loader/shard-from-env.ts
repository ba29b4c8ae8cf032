// Which shard this process is, read from the launcher's environment (README,
// "Many machines"). The one place that knows the launchers' variable names.
import { argumentRangeError, argumentTypeError } from '../error-codes.js';

/** Where a shard came from: our own variables, a launcher, or nothing (one shard). */
export type ShardSource = 'RP_SHARD_INDEX' | 'torchrun' | 'slurm' | 'openmpi' | 'kubernetes' | 'default';

export interface ShardFromEnv {
  shardIndex: number;
  shardCount: number;
  source: ShardSource;
}

/** The (index, count) variable pairs, highest precedence first. */
const LAUNCHERS: ReadonlyArray<{ source: ShardSource; index: string; count: string }> = [
  { source: 'RP_SHARD_INDEX', index: 'RP_SHARD_INDEX', count: 'RP_SHARD_COUNT' },
  { source: 'torchrun', index: 'RANK', count: 'WORLD_SIZE' },
  { source: 'slurm', index: 'SLURM_PROCID', count: 'SLURM_NTASKS' },
  { source: 'openmpi', index: 'OMPI_COMM_WORLD_RANK', count: 'OMPI_COMM_WORLD_SIZE' },
  // A Kubernetes Indexed Job sets only the index; the count is the Job's `completions`, passed by the user.
  { source: 'kubernetes', index: 'JOB_COMPLETION_INDEX', count: 'RP_SHARD_COUNT' },
];

type Env = Readonly<Record<string, string | undefined>>;

function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function parse(env: Env, name: string, min: number, source: ShardSource): number {
  const text = read(env, name)!;
  const value = /^\s*[0-9]+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw argumentRangeError(`environment variable ${name} must be an integer >= ${min} (${source}), got ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * This process's shard from the launcher's environment, in order of
 * precedence: RP_SHARD_INDEX/RP_SHARD_COUNT, torchrun (RANK/WORLD_SIZE),
 * SLURM (SLURM_PROCID/SLURM_NTASKS), Open MPI (OMPI_COMM_WORLD_RANK/SIZE), a
 * Kubernetes Indexed Job (JOB_COMPLETION_INDEX with RP_SHARD_COUNT); with none
 * of them, shard 0 of 1. Half a pair, a non-integer or an index >= count
 * throws RP_INVALID_ARGUMENT naming the variable.
 */
export function shardFromEnv(env: Env = process.env): ShardFromEnv {
  if (typeof env !== 'object' || env === null) throw argumentTypeError('env must be an object of environment variables');
  for (const { source, index, count } of LAUNCHERS) {
    const hasIndex = read(env, index) !== undefined;
    // RP_SHARD_COUNT alone belongs to the Kubernetes pair, checked last.
    const hasCount = read(env, count) !== undefined && source !== 'RP_SHARD_INDEX';
    if (!hasIndex && !hasCount) continue;
    if (source === 'kubernetes' && !hasIndex) break; // RP_SHARD_COUNT alone: reported below
    const missing = hasIndex ? count : index;
    if (read(env, missing) === undefined) {
      throw argumentRangeError(`environment variable ${missing} is not set, but ${hasIndex ? index : count} is (${source}): set both or neither`);
    }
    const shardCount = parse(env, count, 1, source);
    const shardIndex = parse(env, index, 0, source);
    if (shardIndex >= shardCount) {
      throw argumentRangeError(`environment variable ${index}=${shardIndex} must be below ${count}=${shardCount} (${source})`);
    }
    return { shardIndex, shardCount, source };
  }
  if (read(env, 'RP_SHARD_COUNT') !== undefined) {
    throw argumentRangeError(
      'environment variable RP_SHARD_INDEX is not set, but RP_SHARD_COUNT is: set RP_SHARD_INDEX too (or run as a Kubernetes Indexed Job, which sets JOB_COMPLETION_INDEX)',
    );
  }
  return { shardIndex: 0, shardCount: 1, source: 'default' };
}
