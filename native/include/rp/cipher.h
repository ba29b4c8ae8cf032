// The ciphers behind every order and key: Threefry-2x32-20 (Random123) and the
// keyed Feistel permutation's rounds. One definition for every backend: when
// nvcc compiles this header the functions are __host__ __device__, so a GPU
// kernel and the CPU code compute the same bits and cannot drift apart.
// Plain functions of integers only: no exceptions, no standard library.
#pragma once
#include <cstdint>

#include "rp/host_device.h"

namespace rp {
namespace cipher {

RP_HOST_DEVICE inline uint32_t rotl32(uint32_t x, int r) {
  return (x << r) | (x >> (32 - r));  // r is never 0 or 32 here
}

// One Threefry round: mix, rotate by r, xor.
RP_HOST_DEVICE inline void mix(uint32_t& x0, uint32_t& x1, int r) {
  x0 += x1;
  x1 = rotl32(x1, r);
  x1 ^= x0;
}

// Four rounds with the Random123 2x32 rotation schedule {13, 15, 26, 6,
// 17, 29, 16, 24}: its first half (odd = false) or second half.
RP_HOST_DEVICE inline void four_rounds(uint32_t& x0, uint32_t& x1, bool odd) {
  mix(x0, x1, odd ? 17 : 13);
  mix(x0, x1, odd ? 29 : 15);
  mix(x0, x1, odd ? 16 : 26);
  mix(x0, x1, odd ? 24 : 6);
}

// One block of Threefry-2x32-20: (y0, y1) = hash of counter (c0, c1) under key (k0, k1).
RP_HOST_DEVICE inline void threefry2x32(uint32_t k0, uint32_t k1, uint32_t c0, uint32_t c1,
                                        uint32_t& y0, uint32_t& y1) {
  // Threefish's parity constant makes the extended key schedule never all-zero.
  const uint32_t k2 = 0x1BD11BDAu ^ k0 ^ k1;
  uint32_t x0 = c0 + k0;
  uint32_t x1 = c1 + k1;
  // 20 rounds = 5 groups of 4; after group s (1..5) inject key s.
  four_rounds(x0, x1, false); x0 += k1; x1 += k2 + 1;
  four_rounds(x0, x1, true);  x0 += k2; x1 += k0 + 2;
  four_rounds(x0, x1, false); x0 += k0; x1 += k1 + 3;
  four_rounds(x0, x1, true);  x0 += k1; x1 += k2 + 4;
  four_rounds(x0, x1, false); x0 += k2; x1 += k0 + 5;
  y0 = x0;
  y1 = x1;
}

// Feistel rounds per pass over the domain.
constexpr int kFeistelRounds = 8;

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
RP_HOST_DEVICE inline int domain_bits(uint64_t n) {
  if (n == 1) return 0;
  int b = kMinDomainBits;
  while ((uint64_t{1} << b) < n) ++b;
  return b;
}

// The round function's output is cut to the top `hi_bits` of a 32-bit word,
// so what it needs is for every input bit to reach the top bits: multiply
// (low bits spread upward), xor-shift (high bits fold back down), multiply
// again. That is murmur3's fmix32 less the steps that only serve the low
// output bits, and keeps one round at about 10 simple ops.
RP_HOST_DEVICE inline uint32_t round_fn(uint32_t lo, uint32_t rk) {
  uint32_t h = (lo ^ rk) * 0x85ebca6bu;
  h ^= h >> 15;
  h *= 0xc2b2ae35u;
  return h;
}

// Field geometry of a domain of 2^bits, hoisted out of per-index loops.
struct Geometry {
  int hi_bits;     // width of the field F masks, the new low field
  int lo_bits;     // width of the field F reads, moved to the top
  int out_shift;   // 32 - hi_bits: takes F's top hi_bits bits
  uint32_t lo_mask;
};

// The geometry of a domain of 2^bits (bits >= 1), split at ceil(bits / 2).
RP_HOST_DEVICE inline Geometry make_geometry(int bits) {
  const int hi_bits = (bits + 1) / 2;
  return Geometry{hi_bits, bits - hi_bits, 32 - hi_bits, (uint32_t{1} << (bits - hi_bits)) - 1};
}

// One Feistel round: (hi | lo) -> (lo | hi ^ F(lo)). Invertible for any field
// widths (lo gives F back), so repeating the same formula, even though the
// fields shift meaning between rounds, stays a bijection. Widths are at most
// 16 and hi_bits >= 1 here, so every shift is in [1, 31].
RP_HOST_DEVICE inline uint32_t feistel_round(uint32_t x, uint32_t rk, const Geometry& g) {
  const uint32_t hi = x >> g.lo_bits;
  const uint32_t lo = x & g.lo_mask;
  return (lo << g.hi_bits) | (hi ^ (round_fn(lo, rk) >> g.out_shift));
}

// One pass of all rounds over the 2^bits domain (bits >= 1).
RP_HOST_DEVICE inline uint32_t feistel_encrypt(uint32_t x, const uint32_t* rk, const Geometry& g) {
  for (int r = 0; r < kFeistelRounds; ++r) x = feistel_round(x, rk[r], g);
  return x;
}

// Position i (< n) of the order: encrypt, cycle-walking back into [0, n).
// The cycle through i must re-enter [0, n), and following it from inside
// [0, n) to the next point inside keeps a bijection.
RP_HOST_DEVICE inline uint32_t permutation_index(uint32_t i, uint64_t n, int bits,
                                                 const uint32_t* rk) {
  if (bits == 0) return 0;
  const Geometry g = make_geometry(bits);
  uint32_t x = i;
  do {
    x = feistel_encrypt(x, rk, g);
  } while (x >= n);
  return x;
}

}  // namespace cipher
}  // namespace rp
