// The device permutation's per-item work: item i of the order writes
// out[i] = the record at position i, the cipher's cycle-walk included, exactly
// as rp::Permutation computes it on the CPU (the same cipher::permutation_index).
// PermutationKernelArgs is passed to the kernel by value (no device memory for
// the round keys).
#pragma once
#include <cstdint>

#include "rp/cipher.h"
#include "rp/grid_stride.h"
#include "rp/host_device.h"

namespace rp {

struct PermutationKernelArgs {
  uint64_t n;  // [1, 2^32]
  int bits;    // cipher::domain_bits(n)
  uint32_t round_keys[cipher::kFeistelRounds];
};

// The record at position i < n.
RP_HOST_DEVICE inline uint32_t permutation_item(const PermutationKernelArgs& a, uint64_t i) {
  return cipher::permutation_index(static_cast<uint32_t>(i), a.n, a.bits, a.round_keys);
}

// Writes each result to out[i] (the kernel's sink; the host tests use others).
struct ArraySink {
  uint32_t* out;
  RP_HOST_DEVICE void operator()(uint64_t i, uint32_t value) const { out[i] = value; }
};

// Everything thread `thread` of block `block` does in a launch of grid_dim
// blocks of block_dim threads: its grid-stride share of [0, n), ending in the
// tail pass where only threads whose item is below n work. The kernel is this
// call and nothing else.
template <typename Sink>
RP_HOST_DEVICE inline void permutation_thread(const PermutationKernelArgs& a, const Sink& sink, uint32_t block,
                                              uint32_t thread, uint32_t block_dim, uint32_t grid_dim) {
  const uint64_t stride = grid::stride(grid_dim, block_dim);
  for (uint64_t i = grid::first_item(block, thread, block_dim); i < a.n; i += stride) {
    sink(i, permutation_item(a, i));
  }
}

// The launch shape the kernel uses for n.
inline grid::Shape permutation_shape(uint64_t n) { return grid::shape_for(n); }

}  // namespace rp
