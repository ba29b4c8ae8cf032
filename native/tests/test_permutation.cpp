// Permutation: bijection on [0, n) for every small n and around every power
// of two (where domain sizing bugs live), key sensitivity, agreement of the
// three access paths, rough uniformity, and argument checking.
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"
#include "rp/permutation.h"
#include "rp/thread_pool.h"

using rp::Key;
using rp::Permutation;

namespace {

// True when perm.fill over [0, n) hits every value in [0, n) exactly once.
bool is_bijection(const Permutation& perm, std::vector<uint32_t>& buf,
                  std::vector<uint8_t>& seen) {
  const size_t n = static_cast<size_t>(perm.size());
  buf.resize(n);
  perm.fill(0, buf.data(), n);
  seen.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (buf[i] >= n || seen[buf[i]]) return false;
    seen[buf[i]] = 1;
  }
  return true;
}

}  // namespace

TEST(bijection_small_n) {
  std::vector<uint32_t> buf;
  std::vector<uint8_t> seen;
  int bad = 0;
  for (uint64_t n = 1; n <= 3000; ++n) {
    Permutation p(Key{static_cast<uint32_t>(n), 0x9e3779b9u}, n);
    const bool ok = is_bijection(p, buf, seen);
    if (!ok && ++bad <= 5) CHECK_MSG(ok, "n = " + std::to_string(n));
  }
  CHECK_EQ(bad, 0);
}

TEST(bijection_around_powers_of_two) {
  std::vector<uint32_t> buf;
  std::vector<uint8_t> seen;
  std::vector<uint64_t> sizes = {65537, 262145};
  for (int k = 0; k <= 22; ++k) {
    const uint64_t p = uint64_t{1} << k;
    if (p > 1) sizes.push_back(p - 1);
    sizes.push_back(p);
    sizes.push_back(p + 1);
  }
  for (uint64_t n : sizes) {
    Permutation p(rp::key_from_seed(n * 7919), n);
    const bool ok = is_bijection(p, buf, seen);
    CHECK_MSG(ok, "n = " + std::to_string(n));
  }
}

TEST(keys_change_the_order) {
  for (uint64_t n : {10ull, 11ull, 100ull, 1000ull, 65536ull, 100000ull}) {
    Permutation a(Key{0, 1}, n), b(Key{0, 2}, n), c(Key{1, 1}, n);
    std::vector<uint32_t> va(n), vb(n), vc(n);
    a.fill(0, va.data(), n);
    b.fill(0, vb.data(), n);
    c.fill(0, vc.data(), n);
    CHECK(va != vb);
    CHECK(va != vc);
    // Not the identity either.
    size_t fixed = 0;
    for (size_t i = 0; i < n; ++i) fixed += va[i] == i;
    CHECK(fixed < n / 2);
  }
}

TEST(keys_change_the_order_every_small_n) {
  std::vector<uint32_t> a, b;
  int same = 0;
  for (uint64_t n = 10; n <= 3000; ++n) {
    a.resize(n);
    b.resize(n);
    Permutation(rp::key_from_seed(n), n).fill(0, a.data(), n);
    Permutation(rp::key_from_seed(n + 1), n).fill(0, b.data(), n);
    if (a == b && ++same <= 5) CHECK_MSG(a != b, "n = " + std::to_string(n));
  }
  CHECK_EQ(same, 0);
}

TEST(same_key_same_order) {
  Permutation a(Key{3, 4}, 12345), b(Key{3, 4}, 12345);
  for (uint64_t i = 0; i < 12345; i += 97) CHECK_EQ(a(i), b(i));
}

TEST(fill_materialize_and_call_agree) {
  rp::ThreadPool pool(4);
  for (uint64_t n : {1ull, 2ull, 3ull, 1000ull, 65537ull, 300001ull}) {
    Permutation p(Key{11, 12}, n);
    std::vector<uint32_t> whole(n), part(n, 0xffffffffu);
    p.materialize(whole.data(), pool);
    // fill over uneven sub-ranges.
    for (uint64_t start = 0; start < n;) {
      const uint64_t len = std::min<uint64_t>(n - start, 1 + start % 1237);
      p.fill(start, part.data() + start, len);
      start += len;
    }
    CHECK(whole == part);
    bool same = true;
    for (uint64_t i = 0; i < n; i += 1 + n / 500) same = same && p(i) == whole[i];
    CHECK(same);
    CHECK_EQ(p(n - 1), whole[n - 1]);
  }
  // The shared pool too.
  Permutation p(Key{5, 6}, 200000);
  std::vector<uint32_t> a(200000), b(200000);
  p.materialize(a.data(), rp::ThreadPool::shared());
  p.fill(0, b.data(), b.size());
  CHECK(a == b);
}

TEST(first_position_roughly_uniform) {
  // Over many keys, where position 0 goes should be close to uniform.
  const uint64_t n = 8;
  const int keys = 20000;
  int counts[8] = {};
  for (int k = 0; k < keys; ++k) {
    Permutation p(rp::key_from_seed(static_cast<uint64_t>(k)), n);
    ++counts[p(0)];
  }
  const double expected = double(keys) / n;
  for (int b = 0; b < 8; ++b) {
    CHECK(counts[b] > expected * 0.9);
    CHECK(counts[b] < expected * 1.1);
  }
  // And a non-power-of-two size, exercising cycle-walking.
  const uint64_t m = 5;
  int c5[5] = {};
  for (int k = 0; k < keys; ++k) {
    Permutation p(rp::key_from_seed(static_cast<uint64_t>(k) << 20), m);
    ++c5[p(3)];
  }
  for (int b = 0; b < 5; ++b) {
    CHECK(c5[b] > keys / 5.0 * 0.9);
    CHECK(c5[b] < keys / 5.0 * 1.1);
  }
}

TEST(pairs_roughly_uniform_for_tiny_n) {
  // Where positions 0 and 1 land jointly, over many keys, for tiny n: a
  // Feistel network over a domain of 8 or 16 fails this badly (every round is
  // affine when the low field is one bit), which is why the domain has a floor.
  const int keys = 20000;
  for (uint64_t n : {2ull, 3ull, 5ull, 6ull, 7ull, 9ull, 12ull}) {
    std::vector<double> c(n * n, 0.0);
    for (int k = 0; k < keys; ++k) {
      Permutation p(rp::key_from_seed(static_cast<uint64_t>(k) * 0x9E3779B97F4A7C15ull), n);
      c[p(0) * n + p(1)] += 1;
    }
    const double e = double(keys) / double(n * (n - 1));
    double chi2 = 0;
    for (uint64_t a = 0; a < n; ++a) {
      for (uint64_t b = 0; b < n; ++b) {
        if (a == b) {
          CHECK_EQ(c[a * n + b], 0.0);
          continue;
        }
        chi2 += (c[a * n + b] - e) * (c[a * n + b] - e) / e;
      }
    }
    const double dof = double(n * (n - 1) - 1);
    // ~6 standard deviations above the mean of a chi-square with dof degrees.
    const double limit = dof + 6.0 * std::sqrt(2.0 * dof) + 10.0;
    CHECK_MSG(chi2 < limit, "n = " + std::to_string(n) + ", chi2 = " +
                                std::to_string(chi2) + " on " +
                                std::to_string(dof) + " dof");
  }
}

TEST(argument_checks) {
  CHECK_THROWS(std::invalid_argument, Permutation(Key{}, 0));
  CHECK_THROWS(std::invalid_argument,
               Permutation(Key{}, Permutation::kMaxSize + 1));
  Permutation p(Key{}, 10);
  CHECK_THROWS(std::out_of_range, p(10));
  CHECK_THROWS(std::out_of_range, p(~uint64_t{0}));
  uint32_t buf[4];
  CHECK_THROWS(std::out_of_range, p.fill(8, buf, 3));
  CHECK_THROWS(std::out_of_range, p.fill(11, buf, 0));
  CHECK_THROWS(std::out_of_range, p.fill(~uint64_t{0}, buf, 2));
  p.fill(10, buf, 0);  // empty range at the end is fine
  p.fill(7, buf, 3);
  CHECK_EQ(buf[0], p(7));
  Permutation one(Key{1, 2}, 1);
  CHECK_EQ(one(0), 0u);
}

TEST(max_size_domain) {
  const uint64_t n = Permutation::kMaxSize;
  Permutation p(Key{0xabcdef01u, 0x23456789u}, n);
  CHECK_EQ(p.size(), n);
  const uint64_t samples[] = {0, 1, 2, 12345, n / 2, n - 2, n - 1};
  uint32_t prev = 0;
  bool distinct = true;
  for (size_t s = 0; s < sizeof(samples) / sizeof(samples[0]); ++s) {
    uint32_t v = p(samples[s]);
    CHECK(uint64_t{v} < n);
    if (s > 0) distinct = distinct && v != prev;
    prev = v;
  }
  CHECK(distinct);
  uint32_t tail[2];
  p.fill(n - 2, tail, 2);
  CHECK_EQ(tail[0], p(n - 2));
  CHECK_EQ(tail[1], p(n - 1));
  // 2^31 + 1 needs a 32-bit domain; sample images stay below n.
  const uint64_t m = (uint64_t{1} << 31) + 1;
  Permutation q(Key{9, 9}, m);
  for (uint64_t i : {uint64_t{0}, m / 3, m - 1}) CHECK(uint64_t{q(i)} < m);
}

RP_TEST_MAIN()
