// Launchers of the CUDA kernels (kernels.cu), callable from plain C++: the
// binding (binding/cuda/) includes this without CUDA's headers. Each launches
// asynchronously on `stream` (a cudaStream_t; null = the default stream) with
// the shape rp::grid::shape_for gives, and returns the cudaError_t of the
// launch as an int (0 = cudaSuccess).
#pragma once
#include <cstdint>

#include "rp/gather_kernel.h"
#include "rp/permutation_kernel.h"

namespace rp {
namespace cuda {

int launch_permutation(const PermutationKernelArgs& args, uint32_t* out, void* stream);
int launch_fixed_gather(const FixedGatherArgs& args, void* stream);
int launch_ragged_gather(const RaggedGatherArgs& args, void* stream);

}  // namespace cuda
}  // namespace rp
