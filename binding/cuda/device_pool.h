// Device memory kept for reuse: cudaMalloc costs microseconds to milliseconds
// and cudaFree synchronizes the whole device, so a loader that makes a batch's
// device arrays and frees them (free(), or collection) would stall on every
// batch. Freed blocks are kept by exact size (a loader's batches are mostly
// one size) up to kMaxKept bytes, and handed out again.
#pragma once
#include <cstddef>

namespace rpb {
namespace cuda {

constexpr size_t kMaxKept = size_t{1} << 30;

// A block of `bytes` (> 0): a kept one, else cudaMalloc's. Returns the
// cudaError_t of the allocation (0 = success).
int PoolAllocate(void** ptr, size_t bytes);

// Keeps the block for reuse, or frees it when the pool is full.
void PoolRelease(void* ptr, size_t bytes);

}  // namespace cuda
}  // namespace rpb
