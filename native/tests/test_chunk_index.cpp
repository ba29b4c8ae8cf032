// ChunkIndex against a binary-search oracle over every row: uniform chunks,
// a short last chunk, one chunk, uneven and empty chunks, tiny chunks beside
// huge ones; and gather_rows_chunked against a plain gather of the same rows.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "rp/chunk_index.h"
#include "rp/gather.h"
#include "rp/thread_pool.h"

namespace {

std::vector<uint64_t> starts(const std::vector<uint64_t>& sizes) {
  std::vector<uint64_t> first{0};
  for (uint64_t n : sizes) first.push_back(first.back() + n);
  return first;
}

size_t oracle(const std::vector<uint64_t>& first, uint64_t r) {
  return static_cast<size_t>(std::upper_bound(first.begin(), first.end(), r) - first.begin()) - 1;
}

// Every row's chunk equals the oracle's; returns whether the index took the uniform path.
bool matches(const std::vector<uint64_t>& sizes, bool* uniform) {
  const auto first = starts(sizes);
  const rp::ChunkIndex index(first.data(), sizes.size());
  *uniform = index.uniform();
  for (uint64_t r = 0; r < first.back(); ++r) {
    if (index.chunk(r) != oracle(first, r)) return false;
  }
  return true;
}

}  // namespace

TEST(uniform_chunks_divide) {
  bool uniform = false;
  CHECK(matches({7, 7, 7, 7}, &uniform));
  CHECK(uniform);
  CHECK(matches({1, 1, 1}, &uniform));
  CHECK(uniform);
  CHECK(matches({16384, 16384, 16384}, &uniform));
  CHECK(uniform);
}

TEST(last_chunk_short) {
  bool uniform = false;
  CHECK(matches({1000, 1000, 1000, 1}, &uniform));
  CHECK(uniform);
  CHECK(matches({1000, 1000, 999}, &uniform));
  CHECK(uniform);
}

TEST(one_chunk) {
  bool uniform = false;
  CHECK(matches({12345}, &uniform));
  CHECK(uniform);
  CHECK(matches({1}, &uniform));
}

TEST(uneven_chunks_use_buckets) {
  bool uniform = true;
  CHECK(matches({5, 9, 1, 300, 2, 2, 77}, &uniform));
  CHECK(!uniform);
  CHECK(matches({10, 20, 10}, &uniform));  // the last longer than the first
  CHECK(!uniform);
  CHECK(matches({3, 0, 0, 4, 0, 5}, &uniform));  // empty chunks are skipped
  CHECK(!uniform);
  CHECK(matches({0, 8, 8}, &uniform));
  CHECK(!uniform);
  // Many tiny chunks beside a huge one: buckets span many chunks (searched).
  std::vector<uint64_t> sizes(3000, 1);
  sizes.push_back(200000);
  sizes.push_back(3);
  CHECK(matches(sizes, &uniform));
  // Random sizes.
  uint64_t s = 99;
  std::vector<uint64_t> random;
  for (int k = 0; k < 500; ++k) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    random.push_back((s >> 40) % 700);
  }
  CHECK(matches(random, &uniform));
}

TEST(large_uniform_rows_divide_exactly) {
  // Rows near 2^32: the multiply-high division is exact for 32-bit operands.
  for (uint64_t u : {uint64_t{65537}, (uint64_t{1} << 20) + 7, uint64_t{1} << 31, (uint64_t{1} << 32) / 3 + 1}) {
    const uint64_t chunks = ((uint64_t{1} << 32) - 1) / u;
    std::vector<uint64_t> first{0};
    for (uint64_t k = 0; k < chunks; ++k) first.push_back(first.back() + u);
    const rp::ChunkIndex index(first.data(), first.size() - 1);
    CHECK(index.uniform());
    for (size_t k = 0; k + 1 < first.size(); ++k) {
      CHECK_EQ(index.chunk(first[k]), k);
      CHECK_EQ(index.chunk(first[k + 1] - 1), k);
    }
  }
}

TEST(bad_starts_throw) {
  const std::vector<uint64_t> unsorted{0, 5, 3};
  bool threw = false;
  try {
    rp::ChunkIndex(unsorted.data(), 2);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
  const std::vector<uint64_t> late{1, 5};
  threw = false;
  try {
    rp::ChunkIndex(late.data(), 1);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

TEST(gather_rows_chunked_equals_plain_gather) {
  rp::ThreadPool pool(2);
  for (const std::vector<uint64_t>& sizes :
       {std::vector<uint64_t>{4096, 4096, 4096, 1000}, std::vector<uint64_t>{13000},
        std::vector<uint64_t>{100, 0, 5000, 7, 3000, 2}}) {
    for (size_t row_bytes : {size_t{4}, size_t{64}, size_t{1024}, size_t{24}}) {
      const auto first = starts(sizes);
      const size_t rows = static_cast<size_t>(first.back());
      std::vector<uint8_t> flat(rows * row_bytes);
      for (size_t b = 0; b < flat.size(); ++b) flat[b] = static_cast<uint8_t>(b * 131 + (b >> 9));
      std::vector<const uint8_t*> chunks;
      for (size_t k = 0; k < sizes.size(); ++k) chunks.push_back(flat.data() + first[k] * row_bytes);
      std::vector<uint32_t> idx(3000);
      uint64_t s = row_bytes;
      for (auto& i : idx) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        i = static_cast<uint32_t>((s >> 33) % rows);
      }
      idx[0] = 0;
      idx[1] = static_cast<uint32_t>(rows - 1);
      std::vector<uint8_t> want(idx.size() * row_bytes);
      std::vector<uint8_t> got(idx.size() * row_bytes);
      rp::gather_rows(flat.data(), rows, row_bytes, idx.data(), idx.size(), want.data(), nullptr);
      rp::gather_rows_chunked(chunks.data(), first.data(), sizes.size(), row_bytes, idx.data(), idx.size(),
                              got.data(), &pool);
      CHECK(want == got);
      const rp::ChunkIndex index(first.data(), sizes.size());
      std::fill(got.begin(), got.end(), 0);
      rp::gather_rows_chunked(chunks.data(), index, row_bytes, idx.data(), idx.size(), got.data(), nullptr);
      CHECK(want == got);
    }
  }
}

TEST(gather_rows_chunked_address_order_from_a_large_source) {
  // 72 MiB of 1 KiB rows in three uneven chunks, 4096 rows into a 64-byte
  // aligned dst: the address-ordered, streaming path.
  const size_t row_bytes = 1024;
  const std::vector<uint64_t> sizes{30000, 40000, 3728};
  const auto first = starts(sizes);
  const size_t rows = static_cast<size_t>(first.back());
  std::vector<uint8_t> flat(rows * row_bytes);
  for (size_t b = 0; b < flat.size(); b += 8) flat[b] = static_cast<uint8_t>((b >> 10) * 7 + (b >> 3));
  std::vector<const uint8_t*> chunks;
  for (size_t k = 0; k < sizes.size(); ++k) chunks.push_back(flat.data() + first[k] * row_bytes);
  std::vector<uint32_t> idx(4096);
  uint64_t s = 5;
  for (auto& i : idx) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    i = static_cast<uint32_t>((s >> 33) % rows);
  }
  const size_t bytes = idx.size() * row_bytes;
  uint8_t* want = static_cast<uint8_t*>(std::aligned_alloc(64, bytes));
  uint8_t* got = static_cast<uint8_t*>(std::aligned_alloc(64, bytes));
  rp::gather_rows(flat.data(), rows, row_bytes, idx.data(), idx.size(), want, nullptr);
  rp::ThreadPool pool(2);
  rp::gather_rows_chunked(chunks.data(), first.data(), sizes.size(), row_bytes, idx.data(), idx.size(), got, &pool);
  CHECK(std::memcmp(want, got, bytes) == 0);
  std::free(want);
  std::free(got);
}

RP_TEST_MAIN()
