// Which chunk of a chunked column (an Arrow file's record batches, a mix's
// sources) holds a row. Built once per column; each lookup is O(1):
//  - uniform chunks (every chunk but the last holds u rows, the last 1..u):
//    a division, done as a multiply-high by a precomputed reciprocal;
//  - uneven chunks: a table of buckets of 2^shift rows, each naming the chunk
//    that holds its first row; a row then moves forward over the (few) chunk
//    boundaries inside its bucket (a binary search where a bucket spans
//    many tiny chunks). The table has at most 4 entries per chunk
//    (at least 1024), so its buckets are no longer than a quarter of the
//    average chunk.
// A per-row binary search over the chunk starts cost ArrowSource ~15 % of
// NpySource's gather rate (BENCHMARKS.md); these do not.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rp {

class ChunkIndex {
 public:
  ChunkIndex() = default;
  // first: count + 1 row starts, first[0] = 0, never decreasing (empty chunks
  // allowed); chunk k holds rows [first[k], first[k + 1]). Copied.
  // Throws std::invalid_argument otherwise.
  ChunkIndex(const uint64_t* first, size_t count);

  size_t chunks() const { return count_; }
  uint64_t rows() const { return first_.empty() ? 0 : first_.back(); }
  uint64_t first(size_t k) const { return first_[k]; }
  bool uniform() const { return uniform_ != 0; }

  // The chunk holding row r and r's row inside it (r < rows(); not checked).
  size_t locate(uint64_t r, uint64_t* local) const {
    if (uniform_ != 0) {
      const uint64_t k = divide(r);
      *local = r - k * uniform_;
      return static_cast<size_t>(k);
    }
    const size_t k = chunk(r);
    *local = r - first_[k];
    return k;
  }

  // The chunk holding row r (r < rows(); not checked): the k with
  // first[k] <= r < first[k + 1].
  size_t chunk(uint64_t r) const {
    if (uniform_ != 0) return static_cast<size_t>(divide(r));
    const size_t b = static_cast<size_t>(r >> shift_);
    size_t k = buckets_[b];
    const size_t last = buckets_[b + 1];  // the chunk of the bucket's last row, or the next's first
    if (last - k > kScan) return search(r, k, last);
    while (first_[k + 1] <= r) ++k;
    return k;
  }

 private:
  // A bucket spanning more chunk boundaries than this (tiny chunks beside
  // huge ones) is searched, not scanned.
  static constexpr size_t kScan = 8;
  size_t search(uint64_t r, size_t lo, size_t hi) const;

  uint64_t divide(uint64_t r) const {
    // Rows are < 2^32 (the core's record limit): Lemire's fastdiv for 32-bit
    // operands, exact for every r, u < 2^32.
    if (uniform_ == 1) return r;
    return static_cast<uint64_t>((static_cast<unsigned __int128>(reciprocal_) * r) >> 64);
  }

  std::vector<uint64_t> first_;
  size_t count_ = 0;
  uint64_t uniform_ = 0;     // rows per chunk when uniform, else 0
  uint64_t reciprocal_ = 0;  // 2^64 / uniform_ + 1
  int shift_ = 0;
  std::vector<uint32_t> buckets_;
};

}  // namespace rp
