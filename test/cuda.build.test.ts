// The CUDA addon as built here: where nvcc exists (these machines and CI) the
// package build makes build/Release/cuda/resumable_pipeline_cuda.node, with
// machine code for sm_75..sm_90 and compute_90 PTX, and cudart linked in; the
// main addon never links CUDA.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { cudaTargets, REQUIRED_CUDA_TARGETS } from '../scripts/cuda-targets.mjs';

const ROOT = join(__dirname, '..');
const MAIN = join(ROOT, 'build', 'Release', 'resumable_pipeline.node');
const CUDA = join(ROOT, 'build', 'Release', 'cuda', 'resumable_pipeline_cuda.node');

function which(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
}

/** cuobjdump on PATH or next to nvcc's real binary (nvcc --dryrun's TOP), else undefined. */
function cuobjdump(): string | undefined {
  if (which('cuobjdump')) return 'cuobjdump';
  if (!which('nvcc')) return undefined;
  const dry = spawnSync('sh', ['-c', 'echo > /tmp/rp-probe.cu && nvcc --dryrun /tmp/rp-probe.cu 2>&1'], { encoding: 'utf8' }).stdout;
  const top = /TOP=(\S+)/.exec(dry)?.[1];
  const path = top === undefined ? undefined : join(top, 'bin', 'cuobjdump');
  return path !== undefined && existsSync(path) ? path : undefined;
}

/** The shared libraries a file needs, as ldd lists them. */
function ldd(file: string): string {
  const r = spawnSync('ldd', [file], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const nvcc = which('nvcc');
const built = existsSync(CUDA);

describe('the CUDA addon build', () => {
  it('is built where nvcc is on PATH', () => {
    if (!nvcc) {
      console.log('skipped: no nvcc on PATH, so the package builds without the CUDA addon (README, "CUDA")');
      return;
    }
    expect(built, `${CUDA} is missing although nvcc is on PATH`).toBe(true);
  });

  it('carries sm_75, sm_80, sm_86, sm_89, sm_90 machine code and compute_90 PTX (its fat binary)', () => {
    if (!built) return console.log('skipped: the CUDA addon is not built here');
    expect(cudaTargets(CUDA)).toEqual(REQUIRED_CUDA_TARGETS);
    expect(cudaTargets(MAIN)).toEqual({ elf: [], ptx: [] });
  });

  it('cuobjdump --list-elf / --list-ptx show the same targets', () => {
    if (!built) return console.log('skipped: the CUDA addon is not built here');
    const tool = cuobjdump();
    if (tool === undefined) {
      return console.log('skipped: no cuobjdump (the CUDA toolkit here has none; the fat-binary check above read the same entries)');
    }
    const elf = spawnSync(tool, ['--list-elf', CUDA], { encoding: 'utf8' }).stdout;
    const ptx = spawnSync(tool, ['--list-ptx', CUDA], { encoding: 'utf8' }).stdout;
    for (const sm of REQUIRED_CUDA_TARGETS.elf as string[]) expect(elf).toContain(`.${sm}.cubin`);
    expect(ptx).toContain('.sm_90.ptx');
  });

  it('the main addon links no CUDA library; the CUDA addon links cudart statically and finds libcuda at run time', () => {
    if (!which('ldd')) return console.log('skipped: no ldd');
    expect(ldd(MAIN)).not.toMatch(/libcuda|libcudart/);
    if (!built) return console.log('the CUDA addon is not built here: only the main addon was checked');
    expect(ldd(CUDA)).not.toMatch(/libcuda|libcudart/);
  });
});
