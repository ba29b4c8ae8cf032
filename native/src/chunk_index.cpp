#include "rp/chunk_index.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace rp {

ChunkIndex::ChunkIndex(const uint64_t* first, size_t count) : first_(first, first + count + 1), count_(count) {
  if (count == 0 || first_[0] != 0 || !std::is_sorted(first_.begin(), first_.end())) {
    throw std::invalid_argument("a chunked column needs k >= 1 chunks and k + 1 sorted first rows from 0");
  }
  const uint64_t rows = first_.back();
  if (rows > (uint64_t{1} << 32)) {
    throw std::invalid_argument("a chunked column holds " + std::to_string(rows) + " rows, over the 2^32 limit");
  }
  // Uniform: every chunk but the last holds u >= 1 rows, the last 1..u.
  const uint64_t u = first_[1];
  bool uniform = u >= 1 && u < (uint64_t{1} << 32);
  for (size_t k = 1; uniform && k < count; ++k) {
    const uint64_t n = first_[k + 1] - first_[k];
    uniform = k + 1 < count ? n == u : (n >= 1 && n <= u);
  }
  if (uniform) {
    uniform_ = u;
    reciprocal_ = u == 1 ? 0 : UINT64_MAX / u + 1;
    return;
  }
  // Buckets of 2^shift rows, at most max(1024, 4 × chunks) of them.
  const uint64_t most = std::max<uint64_t>(1024, uint64_t{4} * count);
  shift_ = 0;
  while (((rows + (uint64_t{1} << shift_) - 1) >> shift_) > most) ++shift_;
  const size_t nb = static_cast<size_t>(((rows + (uint64_t{1} << shift_) - 1) >> shift_) + 1);
  buckets_.resize(nb);
  size_t k = 0;
  for (size_t b = 0; b < nb; ++b) {
    const uint64_t r = std::min<uint64_t>(uint64_t{b} << shift_, rows == 0 ? 0 : rows - 1);
    while (k + 1 < count && first_[k + 1] <= r) ++k;
    buckets_[b] = static_cast<uint32_t>(k);
  }
}

size_t ChunkIndex::search(uint64_t r, size_t lo, size_t hi) const {
  // The last k in [lo, hi] with first[k] <= r.
  return static_cast<size_t>(std::upper_bound(first_.begin() + static_cast<std::ptrdiff_t>(lo) + 1,
                                              first_.begin() + static_cast<std::ptrdiff_t>(hi) + 1, r) -
                             first_.begin()) - 1;
}

}  // namespace rp
