// The launch shape of the CUDA kernels and the grid-stride loop each thread
// runs: thread t of block b handles work items first, first + stride, ...
// below the work count, so any grid covers any amount of work (a grid smaller
// than the work loops; the last pass is the tail, where only the threads whose
// item is still below the count work). The kernels (native/src/cuda/) and the
// host grid runner (native/tests/test_grid_runner.cpp) share these functions.
#pragma once
#include <cstdint>

#include "rp/host_device.h"

namespace rp {
namespace grid {

// Threads per block, and a cap on blocks (a grid-stride loop needs no more
// than a few waves of blocks per multiprocessor).
constexpr uint32_t kBlock = 256;
constexpr uint32_t kMaxGrid = 65535;

struct Shape {
  uint32_t grid;   // blocks
  uint32_t block;  // threads per block
};

// The first item thread `thread` of block `block` handles.
RP_HOST_DEVICE inline uint64_t first_item(uint32_t block, uint32_t thread, uint32_t block_dim) {
  return uint64_t{block} * block_dim + thread;
}

// Items one pass of the whole grid covers.
RP_HOST_DEVICE inline uint64_t stride(uint32_t grid_dim, uint32_t block_dim) {
  return uint64_t{grid_dim} * block_dim;
}

// A shape for `work` items: blocks of `block` threads, enough blocks for one
// item per thread, but at most max_grid (then threads loop). Never 0 blocks.
inline Shape shape_for(uint64_t work, uint32_t block = kBlock, uint32_t max_grid = kMaxGrid) {
  uint64_t blocks = (work + block - 1) / block;
  if (blocks == 0) blocks = 1;
  if (blocks > max_grid) blocks = max_grid;
  return Shape{static_cast<uint32_t>(blocks), block};
}

}  // namespace grid
}  // namespace rp
