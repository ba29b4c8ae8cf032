// Deterministic pseudo-random test data shared by the C++ tests.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rp_test {

// n bytes from a 32-bit LCG started at `state`.
inline std::vector<uint8_t> pseudo_random_bytes(size_t n, uint32_t state) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) {
    state = state * 1103515245u + 12345u;
    b = static_cast<uint8_t>(state >> 24);
  }
  return v;
}

// count indices below rows from a 64-bit LCG started at `state`.
inline std::vector<uint32_t> pseudo_random_indices(size_t count, size_t rows, uint64_t state) {
  std::vector<uint32_t> idx(count);
  for (auto& i : idx) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    i = static_cast<uint32_t>((state >> 33) % rows);
  }
  return idx;
}

}  // namespace rp_test
