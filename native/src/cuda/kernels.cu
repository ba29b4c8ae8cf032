// The CUDA kernels: thin grid-stride loops over the per-item functions in
// native/include/rp/ (permutation_kernel.h, gather_kernel.h), which the host
// tests run over the same launch shapes (native/tests/test_grid_runner.cpp).
#include <cuda_runtime.h>

#include "kernels.h"
#include "rp/grid_stride.h"

namespace rp {
namespace cuda {
namespace {

__global__ void permutation_kernel(PermutationKernelArgs args, uint32_t* out) {
  const uint64_t stride = grid::stride(gridDim.x, blockDim.x);
  for (uint64_t i = grid::first_item(blockIdx.x, threadIdx.x, blockDim.x); i < args.n; i += stride) {
    permutation_item(args, i, out);
  }
}

__global__ void fixed_gather_kernel(FixedGatherArgs args) {
  const uint64_t items = fixed_gather_items(args);
  const uint64_t stride = grid::stride(gridDim.x, blockDim.x);
  for (uint64_t i = grid::first_item(blockIdx.x, threadIdx.x, blockDim.x); i < items; i += stride) {
    fixed_gather_item(args, i);
  }
}

// Block-stride over rows, thread-stride within a row.
__global__ void ragged_gather_kernel(RaggedGatherArgs args) {
  for (uint64_t row = blockIdx.x; row < args.rows; row += gridDim.x) {
    ragged_gather_row(args, row, threadIdx.x, blockDim.x);
  }
}

}  // namespace

int launch_permutation(const PermutationKernelArgs& args, uint32_t* out, void* stream) {
  const grid::Shape s = grid::shape_for(args.n);
  permutation_kernel<<<s.grid, s.block, 0, static_cast<cudaStream_t>(stream)>>>(args, out);
  return static_cast<int>(cudaGetLastError());
}

int launch_fixed_gather(const FixedGatherArgs& args, void* stream) {
  const uint64_t items = fixed_gather_items(args);
  if (items == 0) return 0;
  const grid::Shape s = grid::shape_for(items);
  fixed_gather_kernel<<<s.grid, s.block, 0, static_cast<cudaStream_t>(stream)>>>(args);
  return static_cast<int>(cudaGetLastError());
}

int launch_ragged_gather(const RaggedGatherArgs& args, void* stream) {
  if (args.rows == 0) return 0;
  const grid::Shape s = grid::shape_for(args.rows * grid::kBlock);  // one block per row
  ragged_gather_kernel<<<s.grid, s.block, 0, static_cast<cudaStream_t>(stream)>>>(args);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace cuda
}  // namespace rp
