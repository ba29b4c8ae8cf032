// Threefry KATs (Random123's kat_vectors) and the JAX construction, checked
// against an independent, allocation-happy transcription of jax._src.prng.
#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "check.h"
#include "rp/random.h"

using rp::Key;

namespace {

// jax threefry_2x32(key, count): halves, pairwise hash, concat, truncate.
std::vector<uint32_t> ref_threefry(Key key, std::vector<uint32_t> count) {
  const size_t L = count.size();
  if (L % 2) count.push_back(0);
  const size_t h = count.size() / 2;
  std::vector<uint32_t> y0(h), y1(h);
  for (size_t i = 0; i < h; ++i) {
    auto y = rp::threefry2x32(key, count[i], count[h + i]);
    y0[i] = y[0];
    y1[i] = y[1];
  }
  std::vector<uint32_t> out = y0;
  out.insert(out.end(), y1.begin(), y1.end());
  out.resize(L);
  return out;
}

std::vector<uint32_t> iota(size_t n) {
  std::vector<uint32_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint32_t>(i);
  return v;
}

}  // namespace

TEST(known_answers) {
  auto a = rp::threefry2x32(Key{0, 0}, 0, 0);
  CHECK_EQ(a[0], 0x6b200159u);
  CHECK_EQ(a[1], 0x99ba4efeu);
  auto b = rp::threefry2x32(Key{0xffffffffu, 0xffffffffu}, 0xffffffffu,
                            0xffffffffu);
  CHECK_EQ(b[0], 0x1cb996fcu);
  CHECK_EQ(b[1], 0xbb002be7u);
  auto c = rp::threefry2x32(Key{0x13198a2eu, 0x03707344u}, 0x243f6a88u,
                            0x85a308d3u);
  CHECK_EQ(c[0], 0xc4923a9cu);
  CHECK_EQ(c[1], 0x483df7a0u);
}

TEST(key_from_seed) {
  CHECK(rp::key_from_seed(0) == (Key{0, 0}));
  CHECK(rp::key_from_seed(42) == (Key{0, 42}));
  Key k = rp::key_from_seed(0x0123456789abcdefull);
  CHECK_EQ(k.k0, 0x01234567u);
  CHECK_EQ(k.k1, 0x89abcdefu);
}

TEST(split_matches_jax) {
  // jax.random.split(jax.random.PRNGKey(0)) with the default threefry impl.
  Key out[2];
  rp::split(Key{0, 0}, 2, out);
  CHECK_EQ(out[0].k0, 4146024105u);
  CHECK_EQ(out[0].k1, 967050713u);
  CHECK_EQ(out[1].k0, 2718843009u);
  CHECK_EQ(out[1].k1, 1272950319u);
}

TEST(split_against_reference) {
  const Key keys[] = {Key{0, 0}, Key{0, 42}, Key{0xdeadbeefu, 0x12345678u}};
  for (Key key : keys) {
    for (size_t num = 0; num <= 17; ++num) {
      std::vector<Key> got(num + 1, Key{0xAAAAAAAAu, 0xAAAAAAAAu});
      rp::split(key, num, got.data());
      std::vector<uint32_t> flat = ref_threefry(key, iota(2 * num));
      for (size_t j = 0; j < num; ++j) {
        CHECK_EQ(got[j].k0, flat[2 * j]);
        CHECK_EQ(got[j].k1, flat[2 * j + 1]);
      }
      CHECK(got[num] == (Key{0xAAAAAAAAu, 0xAAAAAAAAu}));  // no overrun
      std::set<std::pair<uint32_t, uint32_t>> distinct;
      for (size_t j = 0; j < num; ++j) distinct.insert({got[j].k0, got[j].k1});
      CHECK_EQ(distinct.size(), num);
      for (size_t j = 0; j < num; ++j) CHECK(!(got[j] == key));
    }
  }
}

TEST(fold_in_against_reference) {
  const Key key{0x01020304u, 0xa0b0c0d0u};
  std::set<std::pair<uint32_t, uint32_t>> seen;
  for (uint32_t d : {0u, 1u, 2u, 7u, 1000u, 0xffffffffu}) {
    Key k = rp::fold_in(key, d);
    std::vector<uint32_t> r = ref_threefry(key, {0u, d});
    CHECK_EQ(k.k0, r[0]);
    CHECK_EQ(k.k1, r[1]);
    seen.insert({k.k0, k.k1});
  }
  CHECK_EQ(seen.size(), size_t{6});
}

TEST(random_bits_against_reference) {
  const Key keys[] = {Key{0, 0}, Key{7, 9}};
  for (Key key : keys) {
    std::vector<size_t> counts;
    for (size_t c = 0; c <= 41; ++c) counts.push_back(c);
    counts.push_back(1000);
    counts.push_back(1001);
    for (size_t count : counts) {
      std::vector<uint32_t> got(count + 1, 0x55555555u);
      rp::random_bits(key, got.data(), count);
      std::vector<uint32_t> want = ref_threefry(key, iota(count));
      bool same = true;
      for (size_t i = 0; i < count; ++i) same = same && got[i] == want[i];
      CHECK(same);
      CHECK_EQ(got[count], 0x55555555u);  // no overrun
    }
  }
}

TEST(random_bits_not_prefix_consistent) {
  // The halves construction means bits(k, 5) is NOT bits(k, 8)[:5]; this pins
  // that JAX behaviour so nobody "fixes" it into something incompatible.
  uint32_t five[5], eight[8];
  rp::random_bits(Key{1, 2}, five, 5);
  rp::random_bits(Key{1, 2}, eight, 8);
  CHECK(five[1] != eight[1]);
  // bits(k, 2) is the single pair (0, 1).
  uint32_t two[2];
  rp::random_bits(Key{1, 2}, two, 2);
  auto y = rp::threefry2x32(Key{1, 2}, 0, 1);
  CHECK_EQ(two[0], y[0]);
  CHECK_EQ(two[1], y[1]);
}

RP_TEST_MAIN()
