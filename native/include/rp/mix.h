// A weighted mix of sources as one random-access sequence: record i of the
// mix is record j of source k, computed in O(depth) integer steps with no
// per-record table (depth <= the number of sources, ~log2 of it for even
// weights).
//
// The interleave is a binary tree over the sources (Huffman's merge of the
// two lightest, so light sources sit deep and heavy ones shallow). A node
// with left share q sends position x of its own sequence left exactly when
// floor((x + 1) q + 1/2) > floor(x q + 1/2): the left child's x-th record
// count is floor(x q + 1/2), a Sturmian (rounded) sequence, so over any
// window of W positions the left child gets floor(W q) or ceil(W q). Through
// the tree a source's count over any W consecutive records of the mix is
// within window_bound() of W × its weight: under 1 for two sources, and
// 1 + f_d + f_d f_(d-1) + ... over the shares f along its path for more
// (window_bound() computes the largest: 1.67 for 70/20/10; the worst window
// seen for it is 1.2, and 1.87 for six sources with weights 1000:1 apart).
// Shares are 32-bit fixed point: over 2^32 records the drift from the exact
// weights is under one record per tree level.
//
// Source k's n-th record (n counted from 0 in the mix) is its row n while
// n < rows[k]; then the source repeats, each repeat r >= 1 in a fresh keyed
// order (rp::Permutation under repeat_key(seed, k, r)).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rp {

class Mix {
 public:
  static constexpr size_t kMaxSources = 4096;
  static constexpr uint64_t kMaxLength = uint64_t{1} << 32;  // the core's record limit

  // rows[k] >= 1 and weights[k] > 0 (finite), 1 <= sources <= kMaxSources,
  // sum of rows <= 2^32; throws std::invalid_argument otherwise.
  Mix(std::vector<uint64_t> rows, const std::vector<double>& weights, uint64_t seed);

  size_t sources() const { return rows_.size(); }
  uint64_t rows(size_t k) const { return rows_[k]; }
  // Where source k's rows start in the sources' rows one after another.
  uint64_t base(size_t k) const { return base_[k]; }

  // Records of source k among the mix's first i records (i <= kMaxLength).
  uint64_t count(size_t k, uint64_t i) const;
  // Record i's source, and (in *nth) how many records of that source come before it.
  size_t source_of(uint64_t i, uint64_t* nth) const;
  // Record i's row among the sources' rows one after another: base(k) + its row in source k.
  uint64_t row(uint64_t i) const;
  // out[j] = row(idx[j]) for j < count.
  void rows(const uint32_t* idx, size_t count, uint32_t* out) const;

  // The longest mix in which no source repeats ('first' source exhausted
  // ends it), and the shortest in which every source was read whole ('all').
  // Both at most kMaxLength.
  uint64_t length_until_first() const;
  uint64_t length_until_all() const;

  // The largest deviation from W × weight any source can show over any window
  // of W consecutive records (see above).
  double window_bound() const { return window_bound_; }

 private:
  struct Node {
    uint64_t share = 0;  // the left child's share, in units of 2^-32
    int32_t left = 0;    // >= 0: a node; < 0: source -(x + 1)
    int32_t right = 0;
  };
  // Left-child records among a node's first x: floor(x q + 1/2).
  static uint64_t left_count(const Node& n, uint64_t x) {
    return (x * n.share + (uint64_t{1} << 31)) >> 32;
  }

  std::vector<uint64_t> rows_;
  std::vector<uint64_t> base_;
  uint64_t seed_;
  std::vector<Node> nodes_;  // nodes_[0] is the root (none for one source)
  // Per source, its path from the root: node index and whether it goes left.
  std::vector<std::vector<std::pair<int32_t, bool>>> paths_;
  double window_bound_ = 0;
};

}  // namespace rp
