// Keyed shuffle without an O(n) table: an unbalanced Feistel network over the
// smallest power-of-two domain holding n (but at least 64, see
// kMinDomainBits), plus cycle-walking (re-encrypting until the value lands
// below n). Since the domain is < 2n for n > 32, the expected walk is under 2
// passes, and any index's image costs O(1) with no shared state.
#include "rp/permutation.h"

#include <stdexcept>
#include <string>

#include "rp/thread_pool.h"

namespace rp {
namespace {

// The round function's output is cut to the top `hi_bits` of a 32-bit word,
// so what it needs is for every input bit to reach the top bits: multiply
// (low bits spread upward), xor-shift (high bits fold back down), multiply
// again. That is murmur3's fmix32 less the steps that only serve the low
// output bits, and keeps one round at about 10 simple ops.
inline uint32_t round_fn(uint32_t lo, uint32_t rk) {
  uint32_t h = (lo ^ rk) * 0x85ebca6bu;
  h ^= h >> 15;
  h *= 0xc2b2ae35u;
  return h;
}

// Field geometry for one Permutation, hoisted out of the per-index loops.
struct Geometry {
  int hi_bits;     // width of the field F masks, the new low field
  int lo_bits;     // width of the field F reads, moved to the top
  int out_shift;   // 32 - hi_bits: takes F's top hi_bits bits
  uint32_t lo_mask;
};

// The field widths of a domain of 2^bits (bits >= 1) split at hi_bits.
Geometry make_geometry(int bits, int hi_bits) {
  return Geometry{hi_bits, bits - hi_bits, 32 - hi_bits, (uint32_t{1} << (bits - hi_bits)) - 1};
}

// One Feistel round: (hi | lo) -> (lo | hi ^ F(lo)). Invertible for any field
// widths (lo gives F back), so repeating the same formula, even though the
// fields shift meaning between rounds, stays a bijection. Widths are at most
// 16 and hi_bits >= 1 here, so every shift is in [1, 31].
inline uint32_t feistel_round(uint32_t x, uint32_t rk, const Geometry& g) {
  const uint32_t hi = x >> g.lo_bits;
  const uint32_t lo = x & g.lo_mask;
  return (lo << g.hi_bits) | (hi ^ (round_fn(lo, rk) >> g.out_shift));
}

// Smallest domain used for n >= 2. With a low field of 1 bit (domains of 8 or
// fewer) every round function is affine over GF(2), so the whole cipher is
// affine and, e.g., where positions 0 and 1 land jointly is far from uniform
// (n = 5 or 6: chi-square in the thousands on 19/29 dof over 200k keys, even
// with truly random round functions); a 16-element domain still shows bias.
// From 64 on the 8 rounds measure clean, and cycle-walking a tiny n through
// 64 values costs nothing that matters.
constexpr int kMinDomainBits = 6;

// Smallest b >= kMinDomainBits with 2^b >= n, for n in [2, 2^32]; 0 for n = 1
// (the only permutation). Sizing from n - 1 or from floor(log2 n) would make
// n = 2^k + 1 map into a too-small domain.
int domain_bits(uint64_t n) {
  if (n == 1) return 0;
  int b = kMinDomainBits;
  while ((uint64_t{1} << b) < n) ++b;
  return b;
}

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
  bits_ = domain_bits(n);
  hi_bits_ = (bits_ + 1) / 2;
  // Round keys are the first kRounds words of the key's bit stream.
  random_bits(key, round_keys_, kRounds);
}

// One pass over [0, 2^bits). For n = 1 (bits 0) the domain is {0}.
uint32_t Permutation::encrypt(uint32_t x) const {
  if (bits_ == 0) return 0;
  const Geometry g = make_geometry(bits_, hi_bits_);
  for (int r = 0; r < kRounds; ++r) x = feistel_round(x, round_keys_[r], g);
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
  if (bits_ == 0) {
    for (size_t j = 0; j < count; ++j) out[j] = 0;
    return;
  }
  const Geometry g = make_geometry(bits_, hi_bits_);
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
