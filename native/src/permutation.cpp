// Keyed shuffle without an O(n) table: an unbalanced Feistel network over the
// smallest power-of-two domain holding n, plus cycle-walking (re-encrypting
// until the value lands below n). Since the domain is < 2n, the expected walk
// is under 2 passes, and any index's image costs O(1) with no shared state.
#include "rp/permutation.h"

#include <stdexcept>
#include <string>

#include "rp/thread_pool.h"

namespace rp {
namespace {

// Round function: murmur3's fmix32 finaliser over the half-word and round key.
// Only the low hi_bits of the result are used, so it has to fold the high
// bits of the product back down, which fmix32's xor-shifts do.
inline uint32_t round_fn(uint32_t lo, uint32_t rk) {
  uint32_t h = lo ^ rk;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

// Smallest b with 2^b >= n, for n in [1, 2^32]. Sizing from n - 1 or from
// floor(log2 n) would make n = 2^k + 1 map into a too-small domain.
int domain_bits(uint64_t n) {
  int b = 0;
  while ((uint64_t{1} << b) < n) ++b;
  return b;
}

}  // namespace

Permutation::Permutation(Key key, uint64_t n) : n_(n) {
  if (n == 0 || n > kMaxSize) {
    throw std::invalid_argument("Permutation size " + std::to_string(n) +
                                " is outside [1, 2^32]");
  }
  bits_ = domain_bits(n);
  hi_bits_ = (bits_ + 1) / 2;
  // Round keys are the first kRounds words of the key's bit stream.
  random_bits(key, round_keys_, kRounds);
}

// One pass over [0, 2^bits). Each round maps (hi | lo) to (lo | hi ^ F(lo)):
// the old low field moves to the top and the old high field, masked by F,
// fills the bottom. That is invertible for any field widths (lo gives F back),
// so the same formula every round stays a bijection even though the widths
// of the fields swap meaning. Widths are at most 16, so no shift reaches 32.
uint32_t Permutation::encrypt(uint32_t x) const {
  const int hi_bits = hi_bits_;
  const int lo_bits = bits_ - hi_bits_;
  const uint32_t hi_mask = (uint32_t{1} << hi_bits) - 1;
  const uint32_t lo_mask = (uint32_t{1} << lo_bits) - 1;
  for (int r = 0; r < kRounds; ++r) {
    const uint32_t hi = x >> lo_bits;
    const uint32_t lo = x & lo_mask;
    x = (lo << hi_bits) | ((hi ^ round_fn(lo, round_keys_[r])) & hi_mask);
  }
  return x;
}

uint32_t Permutation::operator()(uint64_t i) const {
  if (i >= n_) {
    throw std::out_of_range("Permutation index " + std::to_string(i) +
                            " is out of range for size " + std::to_string(n_));
  }
  // Cycle-walk: the cycle through i in the domain must re-enter [0, n), and
  // following it from inside [0, n) to the next point inside keeps a bijection.
  uint32_t x = static_cast<uint32_t>(i);
  do {
    x = encrypt(x);
  } while (x >= n_);
  return x;
}

void Permutation::fill(uint64_t start, uint32_t* out, size_t count) const {
  if (start > n_ || count > n_ - start) {
    throw std::out_of_range("Permutation fill [" + std::to_string(start) +
                            ", +" + std::to_string(count) +
                            ") is out of range for size " +
                            std::to_string(n_));
  }
  const uint64_t n = n_;
  for (size_t j = 0; j < count; ++j) {
    uint32_t x = static_cast<uint32_t>(start + j);
    do {
      x = encrypt(x);
    } while (x >= n);
    out[j] = x;
  }
}

void Permutation::materialize(uint32_t* out, ThreadPool& pool) const {
  // 64 Ki indices a chunk: a few hundred microseconds of work, far above the
  // cost of handing a chunk to a worker.
  pool.parallel_for(static_cast<size_t>(n_), size_t{1} << 16,
                    [this, out](size_t begin, size_t end) {
                      fill(begin, out + begin, end - begin);
                    });
}

}  // namespace rp
