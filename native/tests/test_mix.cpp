// rp::Mix: every record belongs to exactly one source (count() and
// source_of() agree, record by record, against a brute-force walk), window
// proportions stay within window_bound() of W × weight over every window,
// lengths for 'first' and 'all', and repeats in a fresh keyed order.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "rp/mix.h"

namespace {

struct Case {
  std::vector<uint64_t> rows;
  std::vector<double> weights;
};

std::vector<Case> cases() {
  return {
      {{100, 100}, {1, 1}},
      {{1000, 1000}, {0.7, 0.3}},
      {{500, 300, 200}, {0.7, 0.2, 0.1}},
      {{50, 60, 70, 80, 90}, {5, 1, 1, 3, 0.25}},
      {{1000, 10, 333}, {1, 1, 1}},
      {{7, 7, 7, 7, 7, 7}, {0.01, 0.01, 0.98, 0.3, 0.3, 0.001}},
      {{10000}, {2}},
  };
}

// The source of each record, from count() alone: the one whose count grows.
std::vector<size_t> oracle(const rp::Mix& mix, uint64_t length) {
  std::vector<size_t> out;
  std::vector<uint64_t> before(mix.sources(), 0);
  for (uint64_t i = 0; i < length; ++i) {
    size_t grew = SIZE_MAX;
    int grown = 0;
    for (size_t k = 0; k < mix.sources(); ++k) {
      const uint64_t c = mix.count(k, i + 1);
      if (c != before[k]) {
        ++grown;
        grew = k;
        if (c != before[k] + 1) return {};
        before[k] = c;
      }
    }
    if (grown != 1) return {};
    out.push_back(grew);
  }
  return out;
}

}  // namespace

TEST(every_record_has_one_source_and_its_count) {
  for (const Case& c : cases()) {
    const rp::Mix mix(c.rows, c.weights, 7);
    const uint64_t length = 5000;
    const auto want = oracle(mix, length);
    CHECK_EQ(want.size(), length);
    std::vector<uint64_t> seen(mix.sources(), 0);
    for (uint64_t i = 0; i < length && want.size() == length; ++i) {
      uint64_t nth = 0;
      const size_t k = mix.source_of(i, &nth);
      CHECK_EQ(k, want[i]);
      CHECK_EQ(nth, seen[k]);
      ++seen[k];
    }
  }
}

TEST(window_proportions_within_the_bound) {
  for (const Case& c : cases()) {
    const rp::Mix mix(c.rows, c.weights, 7);
    double sum = 0;
    for (double w : c.weights) sum += w;
    const uint64_t length = 4000;
    std::vector<std::vector<uint64_t>> prefix(mix.sources(), std::vector<uint64_t>(length + 1, 0));
    for (uint64_t i = 0; i < length; ++i) {
      uint64_t nth;
      const size_t k = mix.source_of(i, &nth);
      for (size_t s = 0; s < mix.sources(); ++s) prefix[s][i + 1] = prefix[s][i] + (s == k ? 1 : 0);
    }
    double worst = 0;
    for (uint64_t w : {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{7}, uint64_t{10}, uint64_t{64}, uint64_t{999}}) {
      for (uint64_t a = 0; a + w <= length; ++a) {
        for (size_t s = 0; s < mix.sources(); ++s) {
          const double dev = std::fabs(double(prefix[s][a + w] - prefix[s][a]) - double(w) * c.weights[s] / sum);
          worst = std::max(worst, dev);
        }
      }
    }
    std::printf("sources %zu: worst window deviation %.3f, bound %.3f\n", mix.sources(), worst, mix.window_bound());
    CHECK(worst <= mix.window_bound() + 1e-6);
    if (mix.sources() == 2) CHECK(worst < 1);
  }
}

TEST(lengths_first_and_all) {
  for (const Case& c : cases()) {
    const rp::Mix mix(c.rows, c.weights, 1);
    const uint64_t first = mix.length_until_first();
    const uint64_t all = mix.length_until_all();
    CHECK(first <= all);
    bool fits = true;
    bool one_full = false;
    for (size_t k = 0; k < mix.sources(); ++k) {
      fits = fits && mix.count(k, first) <= c.rows[k];
      one_full = one_full || mix.count(k, first + 1) > c.rows[k];
      CHECK(mix.count(k, all) >= c.rows[k]);
    }
    CHECK(fits);
    CHECK(one_full);
    bool one_short = false;
    for (size_t k = 0; k < mix.sources(); ++k) one_short = one_short || mix.count(k, all - 1) < c.rows[k];
    CHECK(one_short);
  }
}

TEST(repeats_are_fresh_orders_of_every_row) {
  const rp::Mix mix({5, 40}, {1, 1}, 3);
  // Source 0 (5 rows) runs out fast: over 'all', its records are repeats 0..7.
  const uint64_t length = mix.length_until_all();
  std::vector<std::vector<uint64_t>> by_repeat;
  for (uint64_t i = 0; i < length; ++i) {
    uint64_t nth;
    if (mix.source_of(i, &nth) != 0) continue;
    if (by_repeat.size() <= nth / 5) by_repeat.resize(nth / 5 + 1);
    by_repeat[nth / 5].push_back(mix.row(i));
  }
  CHECK(by_repeat.size() >= 7);
  CHECK((by_repeat[0] == std::vector<uint64_t>{0, 1, 2, 3, 4}));
  std::set<std::vector<uint64_t>> orders;
  for (size_t r = 0; r + 1 < by_repeat.size(); ++r) {
    auto sorted = by_repeat[r];
    std::sort(sorted.begin(), sorted.end());
    CHECK((sorted == std::vector<uint64_t>{0, 1, 2, 3, 4}));
    orders.insert(by_repeat[r]);
  }
  CHECK(orders.size() >= 4);  // not one order repeated
  // rows() equals row(), and source 1's rows start at base(1) = 5.
  std::vector<uint32_t> idx(length);
  for (uint64_t i = 0; i < length; ++i) idx[i] = static_cast<uint32_t>(length - 1 - i);
  std::vector<uint32_t> out(length);
  mix.rows(idx.data(), idx.size(), out.data());
  for (uint64_t i = 0; i < length; ++i) CHECK_EQ(uint64_t{out[i]}, mix.row(idx[i]));
  CHECK_EQ(mix.base(1), uint64_t{5});
}

TEST(bad_input_throws) {
  auto throws = [](std::vector<uint64_t> rows, std::vector<double> weights) {
    try {
      rp::Mix(rows, weights, 0);
    } catch (const std::invalid_argument&) {
      return true;
    }
    return false;
  };
  CHECK(throws({}, {}));
  CHECK(throws({1, 2}, {1}));
  CHECK(throws({0, 2}, {1, 1}));
  CHECK(throws({1, 2}, {1, 0}));
  CHECK(throws({1, 2}, {1, -1}));
  CHECK(throws({1, 2}, {1, NAN}));
  CHECK(throws({uint64_t{1} << 32, 1}, {1, 1}));
}

RP_TEST_MAIN()
