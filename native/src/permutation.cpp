// Keyed shuffle without an O(n) table: an unbalanced Feistel network over the
// smallest power-of-two domain holding n (but at least 64, see
// kMinDomainBits), plus cycle-walking (re-encrypting until the value lands
// below n). Since the domain is < 2n for n > 32, the expected walk is under 2
// passes, and any index's image costs O(1) with no shared state.
#include "rp/permutation.h"

#include <stdexcept>
#include <string>

#include "rp/cipher.h"
#include "rp/thread_pool.h"

namespace rp {
namespace {

using cipher::feistel_round;
using cipher::Geometry;

// Indices handled per block in fill(): all get one pass in a branch-free loop
// (independent lanes the CPU can overlap or vectorise), then those that landed
// >= n are compacted and walked again, instead of a data-dependent branch per
// index.
constexpr size_t kBlock = 256;

// Lanes encrypted side by side. One lane's 8 rounds are a dependent chain
// (about 17 cycles a round with the two multiplies), so a loop over single
// vectors waits on latency; a tile of several vectors, round by round, keeps
// the multiplier busy instead (about 1.4x on the bench machine). kBlock and
// the walk's padded lengths are multiples of kTile's vector width.
constexpr size_t kTile = 32;
// Walk lists are padded to this many lanes so they never end in scalar code.
constexpr size_t kLanes = 8;

// xs[j] = one pass over xs[j], for j < len. Plain loops with no branches,
// which compilers vectorise; instantiated twice below, for baseline x86-64
// (SSE2, where 32-bit lane multiplies are emulated) and for AVX2.
#if defined(__GNUC__) || defined(__clang__)
#define RP_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define RP_ALWAYS_INLINE inline
#endif

RP_ALWAYS_INLINE void encrypt_block_impl(uint32_t* xs, size_t len,
                                         const uint32_t* rk,
                                         const Geometry& g) {
  size_t j = 0;
  for (; j + kTile <= len; j += kTile) {
    uint32_t* t = xs + j;
    for (int r = 0; r < Permutation::kRounds; ++r) {
      for (size_t k = 0; k < kTile; ++k) t[k] = feistel_round(t[k], rk[r], g);
    }
  }
  for (; j < len; ++j) {
    uint32_t x = xs[j];
    for (int r = 0; r < Permutation::kRounds; ++r) {
      x = feistel_round(x, rk[r], g);
    }
    xs[j] = x;
  }
}

using BlockFn = void (*)(uint32_t*, size_t, const uint32_t*, const Geometry&);

void encrypt_block_generic(uint32_t* xs, size_t len, const uint32_t* rk,
                           const Geometry& g) {
  encrypt_block_impl(xs, len, rk, g);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2"))) void encrypt_block_avx2(uint32_t* xs,
                                                        size_t len,
                                                        const uint32_t* rk,
                                                        const Geometry& g) {
  encrypt_block_impl(xs, len, rk, g);
}
#endif

BlockFn pick_block_fn() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return encrypt_block_avx2;
#endif
  return encrypt_block_generic;
}

// Chosen once; both variants compute identical values.
void encrypt_block(uint32_t* xs, size_t len, const uint32_t* rk,
                   const Geometry& g) {
  static const BlockFn fn = pick_block_fn();
  fn(xs, len, rk, g);
}

}  // namespace

Permutation::Permutation(Key key, uint64_t n) : n_(n) {
  if (n == 0 || n > kMaxSize) {
    throw std::invalid_argument("Permutation size " + std::to_string(n) +
                                " is outside [1, 2^32]");
  }
  bits_ = cipher::domain_bits(n);
  // Round keys are the first kRounds words of the key's bit stream.
  random_bits(key, round_keys_, kRounds);
}

uint32_t Permutation::operator()(uint64_t i) const {
  if (i >= n_) {
    throw std::out_of_range("Permutation index " + std::to_string(i) +
                            " is out of range for size " + std::to_string(n_));
  }
  return cipher::permutation_index(static_cast<uint32_t>(i), n_, bits_, round_keys_);
}

void Permutation::fill(uint64_t start, uint32_t* out, size_t count) const {
  if (start > n_ || count > n_ - start) {
    throw std::out_of_range("Permutation fill [" + std::to_string(start) +
                            ", +" + std::to_string(count) +
                            ") is out of range for size " +
                            std::to_string(n_));
  }
  if (bits_ == 0) {
    for (size_t j = 0; j < count; ++j) out[j] = 0;
    return;
  }
  const Geometry g = cipher::make_geometry(bits_);
  uint32_t rk[kRounds];
  for (int r = 0; r < kRounds; ++r) rk[r] = round_keys_[r];
  const uint64_t n = n_;
  // Domain values that may be too big: only possible when n < 2^bits.
  const bool walks = n < (uint64_t{1} << bits_);

  // Per block: one vectorised pass over all indices, then the values that
  // landed >= n are packed (position, value) and walked again, a packed,
  // vectorised pass at a time, until none is left. About half the lanes walk
  // when n is just over a power of two, so the walk must be as fast as the
  // first pass.
  uint32_t pos[kBlock];
  uint32_t val[kBlock] = {};  // lanes past m are padding: encrypted, ignored
  for (size_t base = 0; base < count; base += kBlock) {
    const size_t len = count - base < kBlock ? count - base : kBlock;
    uint32_t* o = out + base;
    const uint32_t first = static_cast<uint32_t>(start + base);
    for (size_t j = 0; j < len; ++j) o[j] = first + static_cast<uint32_t>(j);
    encrypt_block(o, len, rk, g);
    if (!walks) continue;
    size_t m = 0;
    for (size_t j = 0; j < len; ++j) {  // branch-free packing
      pos[m] = static_cast<uint32_t>(j);
      val[m] = o[j];
      m += o[j] >= n;
    }
    while (m > 0) {
      encrypt_block(val, (m + kLanes - 1) / kLanes * kLanes, rk, g);
      size_t keep = 0;
      for (size_t k = 0; k < m; ++k) {
        o[pos[k]] = val[k];
        pos[keep] = pos[k];
        val[keep] = val[k];
        keep += val[k] >= n;
      }
      m = keep;
    }
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
