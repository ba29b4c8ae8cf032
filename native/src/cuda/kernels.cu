// The CUDA kernels: each is one call of its thread function (the grid-stride
// loop over the per-item work) in
// native/include/rp/ (permutation_kernel.h, gather_kernel.h), which the host
// tests run for every (block, thread) of the same launch shapes (native/tests/test_grid_runner.cpp).
#include <cuda_runtime.h>

#include "kernels.h"
#include "rp/grid_stride.h"

namespace rp {
namespace cuda {
namespace {

__global__ void permutation_kernel(PermutationKernelArgs args, uint32_t* out) {
  permutation_thread(args, ArraySink{out}, blockIdx.x, threadIdx.x, blockDim.x, gridDim.x);
}

__global__ void fixed_gather_kernel(FixedGatherArgs args) {
  fixed_gather_thread(args, blockIdx.x, threadIdx.x, blockDim.x, gridDim.x);
}

__global__ void ragged_gather_kernel(RaggedGatherArgs args) {
  ragged_gather_thread(args, blockIdx.x, threadIdx.x, blockDim.x, gridDim.x);
}

}  // namespace

int launch_permutation(const PermutationKernelArgs& args, uint32_t* out, void* stream) {
  const grid::Shape s = permutation_shape(args.n);
  permutation_kernel<<<s.grid, s.block, 0, static_cast<cudaStream_t>(stream)>>>(args, out);
  return static_cast<int>(cudaGetLastError());
}

int launch_fixed_gather(const FixedGatherArgs& args, void* stream) {
  if (fixed_gather_items(args) == 0) return 0;
  const grid::Shape s = fixed_gather_shape(args);
  fixed_gather_kernel<<<s.grid, s.block, 0, static_cast<cudaStream_t>(stream)>>>(args);
  return static_cast<int>(cudaGetLastError());
}

int launch_ragged_gather(const RaggedGatherArgs& args, void* stream) {
  if (args.rows == 0) return 0;
  const grid::Shape s = ragged_gather_shape(args.rows);
  ragged_gather_kernel<<<s.grid, s.block, 0, static_cast<cudaStream_t>(stream)>>>(args);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace cuda
}  // namespace rp
