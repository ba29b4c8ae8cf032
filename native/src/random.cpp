// Threefry-2x32-20 (Salmon et al., "Parallel random numbers: as easy as
// 1, 2, 3", Random123) and the JAX key construction on top of it. Everything is
// a pure function of (key, counter), so the pipeline never has RNG state to
// checkpoint: a position in the stream is just a counter.
#include "rp/random.h"

#include "rp/cipher.h"

namespace rp {
namespace {

inline void hash(uint32_t k0, uint32_t k1, uint32_t c0, uint32_t c1, uint32_t& y0, uint32_t& y1) {
  cipher::threefry2x32(k0, k1, c0, c1, y0, y1);
}

// JAX's threefry_2x32(key, iota(L)) written without the iota: the counters are
// split into halves x0 = [0, h) and x1 = [h, 2h) (h = ceil(L/2), the last one
// zero-padded when L is odd), hashed pairwise, and the outputs concatenated
// (y0 ++ y1) then truncated to L. Pair i therefore lands at out[i] and
// out[i + h], so each hash is computed once and nothing count-sized is allocated.
void threefry_iota(Key key, uint32_t* out, size_t count) {
  const size_t h = (count + 1) / 2;
  for (size_t i = 0; i < h; ++i) {
    const size_t j = i + h;
    const bool has_hi = j < count;
    uint32_t y0, y1;
    hash(key.k0, key.k1, static_cast<uint32_t>(i),
         has_hi ? static_cast<uint32_t>(j) : 0u, y0, y1);
    out[i] = y0;
    if (has_hi) out[j] = y1;
  }
}

}  // namespace

std::array<uint32_t, 2> threefry2x32(Key key, uint32_t c0, uint32_t c1) {
  std::array<uint32_t, 2> y;
  hash(key.k0, key.k1, c0, c1, y[0], y[1]);
  return y;
}

Key key_from_seed(uint64_t seed) {
  return Key{static_cast<uint32_t>(seed >> 32), static_cast<uint32_t>(seed)};
}

void split(Key key, size_t num, Key* out) {
  // threefry_2x32(key, iota(2*num)) reshaped to (num, 2). With L = 2*num the
  // halves are [0, num) and [num, 2num): pair i yields flat words i (y0) and
  // i + num (y1), and flat word w is component w % 2 of key w / 2.
  auto put = [out](size_t w, uint32_t v) {
    if (w % 2 == 0) out[w / 2].k0 = v; else out[w / 2].k1 = v;
  };
  for (size_t i = 0; i < num; ++i) {
    uint32_t y0, y1;
    hash(key.k0, key.k1, static_cast<uint32_t>(i),
         static_cast<uint32_t>(i + num), y0, y1);
    put(i, y0);
    put(i + num, y1);
  }
}

Key fold_in(Key key, uint32_t data) {
  // threefry_2x32(key, threefry_seed(data)) = hash of the single pair (0, data).
  uint32_t y0, y1;
  hash(key.k0, key.k1, 0u, data, y0, y1);
  return Key{y0, y1};
}

void random_bits(Key key, uint32_t* out, size_t count) {
  threefry_iota(key, out, count);
}

}  // namespace rp
