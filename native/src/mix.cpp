#include "rp/mix.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <stdexcept>
#include <string>
#include <utility>

#include "rp/epoch_keys.h"
#include "rp/permutation.h"

namespace rp {

Mix::Mix(std::vector<uint64_t> rows, const std::vector<double>& weights, uint64_t seed)
    : rows_(std::move(rows)), seed_(seed) {
  const size_t k = rows_.size();
  if (k == 0 || k > kMaxSources || weights.size() != k) {
    throw std::invalid_argument("a mix needs 1 to " + std::to_string(kMaxSources) +
                                " sources, one weight each");
  }
  uint64_t total = 0;
  for (size_t s = 0; s < k; ++s) {
    if (rows_[s] == 0) throw std::invalid_argument("source " + std::to_string(s) + " has no rows");
    if (!(weights[s] > 0) || !std::isfinite(weights[s])) {
      throw std::invalid_argument("source " + std::to_string(s) + "'s weight must be positive and finite");
    }
    base_.push_back(total);
    total += rows_[s];
  }
  if (total > kMaxLength) throw std::invalid_argument("the sources hold more than 2^32 rows together");

  // Huffman's merge: the two lightest (ties: the one made first) become a node.
  using Item = std::pair<double, int64_t>;  // weight, order made (for ties)
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue;
  std::vector<int32_t> handle;  // by order made: a node (>= 0) or a source (< 0)
  for (size_t s = 0; s < k; ++s) {
    handle.push_back(-static_cast<int32_t>(s) - 1);
    queue.push({weights[s], static_cast<int64_t>(s)});
  }
  std::vector<Node> made;  // in the order made; the root is the last
  while (queue.size() > 1) {
    const Item a = queue.top();
    queue.pop();
    const Item b = queue.top();
    queue.pop();
    // The heavier goes left (a tie keeps the one made later left: deterministic).
    const Item& l = a.first > b.first ? a : b;
    const Item& r = a.first > b.first ? b : a;
    const double sum = l.first + r.first;
    Node n;
    const double q = std::ldexp(l.first / sum, 32);
    n.share = static_cast<uint64_t>(std::min(std::max(std::nearbyint(q), 1.0), std::ldexp(1.0, 32) - 1));
    n.left = handle[static_cast<size_t>(l.second)];
    n.right = handle[static_cast<size_t>(r.second)];
    made.push_back(n);
    handle.push_back(static_cast<int32_t>(made.size() - 1));
    queue.push({sum, static_cast<int64_t>(handle.size() - 1)});
  }
  // Root first: renumber so nodes_[0] is the root.
  const size_t m = made.size();
  nodes_.resize(m);
  auto renumber = [m](int32_t h) { return h >= 0 ? static_cast<int32_t>(m - 1 - static_cast<size_t>(h)) : h; };
  for (size_t i = 0; i < m; ++i) {
    Node n = made[i];
    n.left = renumber(n.left);
    n.right = renumber(n.right);
    nodes_[m - 1 - i] = n;
  }
  // Paths, and each source's window bound: 1 + f_d + f_d f_(d-1) + ... (f: shares along the path, leaf up).
  paths_.assign(k, {});
  std::vector<std::pair<int32_t, std::vector<std::pair<int32_t, bool>>>> stack;
  if (m == 0) {
    window_bound_ = 0;  // one source: every record is its own
    return;
  }
  stack.push_back({0, {}});
  while (!stack.empty()) {
    auto [node, path] = std::move(stack.back());
    stack.pop_back();
    for (const bool left : {true, false}) {
      auto p = path;
      p.push_back({node, left});
      const int32_t child = left ? nodes_[static_cast<size_t>(node)].left : nodes_[static_cast<size_t>(node)].right;
      if (child >= 0) {
        stack.push_back({child, std::move(p)});
      } else {
        paths_[static_cast<size_t>(-child - 1)] = std::move(p);
      }
    }
  }
  for (const auto& path : paths_) {
    double bound = 0;
    double product = 1;
    for (size_t d = path.size(); d-- > 0;) {
      bound += product;  // this level's rounding (< 1), scaled by the shares below it
      const double q = std::ldexp(static_cast<double>(nodes_[static_cast<size_t>(path[d].first)].share), -32);
      product *= path[d].second ? q : 1 - q;
    }
    window_bound_ = std::max(window_bound_, bound);
  }
}

uint64_t Mix::count(size_t k, uint64_t i) const {
  uint64_t x = i;
  for (const auto& [node, left] : paths_[k]) {
    const uint64_t l = left_count(nodes_[static_cast<size_t>(node)], x);
    x = left ? l : x - l;
  }
  return x;
}

size_t Mix::source_of(uint64_t i, uint64_t* nth) const {
  if (nodes_.empty()) {
    *nth = i;
    return 0;
  }
  int32_t node = 0;
  uint64_t x = i;
  for (;;) {
    const Node& n = nodes_[static_cast<size_t>(node)];
    const uint64_t l = left_count(n, x);
    const bool left = left_count(n, x + 1) > l;
    const int32_t child = left ? n.left : n.right;
    x = left ? l : x - l;
    if (child < 0) {
      *nth = x;
      return static_cast<size_t>(-child - 1);
    }
    node = child;
  }
}

uint64_t Mix::row(uint64_t i) const {
  uint64_t nth;
  const size_t k = source_of(i, &nth);
  const uint64_t n = rows_[k];
  if (nth < n) return base_[k] + nth;
  const Permutation order(repeat_key(seed_, k, nth / n), n);
  return base_[k] + order(nth % n);
}

void Mix::rows(const uint32_t* idx, size_t count, uint32_t* out) const {
  // Per source, the order of the repeat last used (records of one repeat often come together).
  std::vector<uint8_t> have;
  std::vector<uint64_t> repeat_of;
  std::vector<Permutation> order_of;
  for (size_t j = 0; j < count; ++j) {
    uint64_t nth;
    const size_t k = source_of(idx[j], &nth);
    const uint64_t n = rows_[k];
    if (nth < n) {
      out[j] = static_cast<uint32_t>(base_[k] + nth);
      continue;
    }
    const uint64_t r = nth / n;
    if (order_of.empty()) {
      order_of.assign(rows_.size(), Permutation(Key{}, 1));
      have.assign(rows_.size(), 0);
      repeat_of.assign(rows_.size(), 0);
    }
    if (have[k] == 0 || repeat_of[k] != r) {
      order_of[k] = Permutation(repeat_key(seed_, k, r), n);
      repeat_of[k] = r;
      have[k] = 1;
    }
    out[j] = static_cast<uint32_t>(base_[k] + order_of[k](nth % n));
  }
}

namespace {

// The smallest i in [0, kMaxLength] with pred(i), for a pred false then true (kMaxLength if never).
template <typename P>
uint64_t first_true(P pred) {
  uint64_t lo = 0;
  uint64_t hi = Mix::kMaxLength;
  if (!pred(hi)) return hi;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (pred(mid)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

}  // namespace

uint64_t Mix::length_until_first() const {
  // The first i at which some source would need a row past its last, i.e. count(k, i) > rows[k].
  uint64_t best = kMaxLength;
  for (size_t k = 0; k < rows_.size(); ++k) {
    const uint64_t over = first_true([&](uint64_t i) { return count(k, i) > rows_[k]; });
    best = std::min(best, over == kMaxLength && count(k, kMaxLength) <= rows_[k] ? kMaxLength : over - 1);
  }
  return best;
}

uint64_t Mix::length_until_all() const {
  uint64_t best = 0;
  for (size_t k = 0; k < rows_.size(); ++k) {
    best = std::max(best, first_true([&](uint64_t i) { return count(k, i) >= rows_[k]; }));
  }
  return best;
}

}  // namespace rp
