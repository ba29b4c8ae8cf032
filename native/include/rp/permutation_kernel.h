// The device permutation's per-item work: item i of the order writes
// out[i] = the record at position i, the cipher's cycle-walk included, exactly
// as rp::Permutation computes it on the CPU (the same cipher::permutation_index).
// PermutationKernelArgs is passed to the kernel by value (no device memory for
// the round keys).
#pragma once
#include <cstdint>

#include "rp/cipher.h"
#include "rp/host_device.h"

namespace rp {

struct PermutationKernelArgs {
  uint64_t n;  // [1, 2^32]
  int bits;    // cipher::domain_bits(n)
  uint32_t round_keys[cipher::kFeistelRounds];
};

// out[i] for one i < n (the caller's loop keeps i below n).
RP_HOST_DEVICE inline void permutation_item(const PermutationKernelArgs& a, uint64_t i, uint32_t* out) {
  out[i] = cipher::permutation_index(static_cast<uint32_t>(i), a.n, a.bits, a.round_keys);
}

}  // namespace rp
