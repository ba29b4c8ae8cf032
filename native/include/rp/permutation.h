// A keyed bijection on [0, n) with O(1) memory: a Feistel cipher over the
// smallest power-of-two domain >= max(n, 64), with cycle-walking back into
// [0, n). The floor of 64 exists because Feistel rounds over <= 8 elements are
// affine over GF(2) and visibly biased. Prefer fill() for ranges: it runs
// blocks of indices side by side (one index is a dependent chain of rounds).
// Round keys come from random_bits(key, kRounds): give it a key of its own.
// The rounds themselves are rp::cipher's, shared with any device backend.
#pragma once
#include <cstddef>
#include <cstdint>

#include "rp/cipher.h"
#include "rp/random.h"

namespace rp {

class ThreadPool;

class Permutation {
 public:
  static constexpr uint64_t kMaxSize = uint64_t{1} << 32;
  static constexpr int kRounds = cipher::kFeistelRounds;

  // n in [1, kMaxSize]; throws std::invalid_argument otherwise.
  Permutation(Key key, uint64_t n);

  uint64_t size() const { return n_; }
  // The cipher's parameters, for a device backend that runs the same rounds.
  int bits() const { return bits_; }
  const uint32_t* round_keys() const { return round_keys_; }

  // The image of position i (i < n; throws std::out_of_range otherwise).
  uint32_t operator()(uint64_t i) const;

  // out[j] = (*this)(start + j) for j < count; start + count <= n.
  void fill(uint64_t start, uint32_t* out, size_t count) const;

  // The whole order, out[i] = (*this)(i) for i < n, on the pool.
  void materialize(uint32_t* out, ThreadPool& pool) const;

 private:
  uint64_t n_;
  int bits_;        // domain is [0, 2^bits_)
  uint32_t round_keys_[kRounds];
};

}  // namespace rp
