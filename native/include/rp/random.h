// Counter-based randomness: Threefry-2x32 with 20 rounds (Random123), with the
// key/split/fold_in/bits construction used by JAX, so no RNG state needs saving.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace rp {

struct Key {
  uint32_t k0 = 0;
  uint32_t k1 = 0;
  bool operator==(const Key& o) const { return k0 == o.k0 && k1 == o.k1; }
};

// One block of Threefry-2x32-20: hashes the counter (c0, c1) under key.
std::array<uint32_t, 2> threefry2x32(Key key, uint32_t c0, uint32_t c1);

// JAX's threefry_seed: (seed >> 32, seed & 0xffffffff).
Key key_from_seed(uint64_t seed);

// JAX's split: hashes iota(2*num) and returns num keys in out[0..num).
// Counters are 32-bit: num < 2^31 (JAX changes construction beyond that).
void split(Key key, size_t num, Key* out);

// JAX's fold_in: a new key from key and a 32-bit datum.
Key fold_in(Key key, uint32_t data);

// JAX's random_bits for 32-bit words: count words from iota(count), count < 2^32.
void random_bits(Key key, uint32_t* out, size_t count);

}  // namespace rp
