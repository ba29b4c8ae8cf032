// gather_rows: exact bytes for odd and common row sizes, serial and pooled
// paths, and the validate-before-copy contract.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"
#include "test_data.h"
#include "rp/gather.h"
#include "rp/huge_pages.h"
#include "rp/thread_pool.h"

namespace {

std::vector<uint8_t> make_src(size_t rows, size_t row_bytes) {
  return rp_test::pseudo_random_bytes(rows * row_bytes, 12345);
}

std::vector<uint32_t> make_indices(size_t count, size_t rows, uint32_t seed) {
  return rp_test::pseudo_random_indices(count, rows, seed);
}

// Gathers and compares against a byte-by-byte reference; also checks the
// guard bytes past the end of dst are untouched.
// dst_offset and src_offset shift the buffers off their allocator alignment.
bool gather_matches(size_t rows, size_t row_bytes, size_t count,
                    rp::ThreadPool* pool, size_t dst_offset = 0,
                    size_t src_offset = 0) {
  auto src_buf = make_src(rows * row_bytes + src_offset, 1);
  const uint8_t* src = src_buf.data() + src_offset;
  auto idx = make_indices(count, rows, static_cast<uint32_t>(row_bytes + count));
  const size_t guard = 16;
  std::vector<uint8_t> dst_buf(dst_offset + count * row_bytes + guard, 0xEE);
  uint8_t* dst = dst_buf.data() + dst_offset;
  rp::gather_rows(src, rows, row_bytes, idx.data(), count, dst, pool);
  for (size_t j = 0; j < count; ++j) {
    if (std::memcmp(dst + j * row_bytes, src + size_t{idx[j]} * row_bytes,
                    row_bytes) != 0) {
      return false;
    }
  }
  for (size_t g = 0; g < dst_offset; ++g) {
    if (dst_buf[g] != 0xEE) return false;
  }
  for (size_t g = 0; g < guard; ++g) {
    if (dst[count * row_bytes + g] != 0xEE) return false;
  }
  return true;
}

}  // namespace

TEST(row_sizes_serial) {
  for (size_t rb : {1, 2, 3, 4, 5, 7, 8, 12, 16, 17, 32, 64, 100, 128, 256,
                    512, 1000, 1024, 2048, 4096, 4099}) {
    for (size_t count : {0, 1, 2, 9, 33}) {
      CHECK_MSG(gather_matches(97, rb, count, nullptr),
                "row_bytes = " + std::to_string(rb) +
                    ", count = " + std::to_string(count));
    }
  }
}

TEST(row_sizes_pooled_small_batch) {
  // Below the parallel threshold even with a pool.
  rp::ThreadPool pool(3);
  for (size_t rb : {1, 3, 4, 64, 1024, 4096}) {
    CHECK(gather_matches(50, rb, 40, &pool));
  }
}

TEST(big_batch_parallel) {
  rp::ThreadPool pool(4);
  // 2 MiB to 8 MiB batches: over the parallel threshold (1 MiB).
  CHECK(gather_matches(5000, 1024, 2048, &pool));
  CHECK(gather_matches(3000, 4096, 2048, &pool));
  CHECK(gather_matches(100000, 4, 400000, &pool));
  CHECK(gather_matches(100000, 3, 700000, &pool));
  CHECK(gather_matches(1000, 1000, 3000, &rp::ThreadPool::shared()));
}

TEST(specialised_widths_around_prefetch_distance) {
  // Each compile-time row width (and neighbours that take the generic copy),
  // with batches shorter than, equal to and just past the prefetch distance
  // (32 rows for rows up to 256 B, fewer for longer ones), so the prefetch
  // that stops short of the end of the index list is exercised; misaligned
  // sources and destinations; serial and on a pool, where small batches stay
  // on the calling thread and big ones are split.
  rp::ThreadPool pool(3);
  for (rp::ThreadPool* p : {static_cast<rp::ThreadPool*>(nullptr), &pool}) {
    for (size_t rb : {8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024, 2048, 4096}) {
      for (size_t count : {1, 3, 4, 5, 7, 8, 9, 31, 32, 33, 63, 64, 65, 200}) {
        const std::string what = "row_bytes = " + std::to_string(rb) + ", count = " + std::to_string(count);
        CHECK_MSG(gather_matches(500, rb, count, p), what);
        CHECK_MSG(gather_matches(500, rb, count, p, 3, 5), what + ", dst + 3, src + 5");
        CHECK_MSG(gather_matches(500, rb, count, p, 8, 1), what + ", dst + 8, src + 1");
      }
    }
    // Big batches of small rows (over 1 MiB: split across the pool, streamed
    // where rows are a multiple of 16), and their misaligned forms.
    for (size_t rb : {8, 16, 32, 64, 128}) {
      const size_t count = (size_t{3} << 20) / rb + 17;
      const std::string what = "row_bytes = " + std::to_string(rb) + ", big batch";
      CHECK_MSG(gather_matches(100003, rb, count, p), what);
      CHECK_MSG(gather_matches(100003, rb, count, p, 4, 7), what + ", misaligned");
    }
  }
}

TEST(big_batch_streaming_paths) {
  // Batches >= 1 MiB take the streaming-store path when dst is 16-byte
  // aligned and rows are a multiple of 16 bytes; check that path and each
  // reason to fall back, serial and pooled.
  rp::ThreadPool pool(3);
  for (rp::ThreadPool* p : {static_cast<rp::ThreadPool*>(nullptr), &pool}) {
    CHECK(gather_matches(4000, 1024, 1500, p));        // stream, fixed size
    CHECK(gather_matches(4000, 48, 40000, p));         // stream, generic size
    CHECK(gather_matches(4000, 1024, 1500, p, 16, 3)); // aligned dst, odd src
    CHECK(gather_matches(4000, 1024, 1500, p, 1));     // unaligned dst
    CHECK(gather_matches(4000, 1000, 1500, p));        // row not 16-multiple
    CHECK(gather_matches(4000, 20000, 64, p, 32));     // big generic rows
  }
}

// Large source, big batch, line-aligned dst and rows: the address-ordered
// path (rows copied out of batch order into their own places), over more than
// one slab of rows, with duplicates and the first and last rows included.
bool ordered_gather_matches(size_t src_bytes, size_t row_bytes, size_t count,
                            rp::ThreadPool* pool) {
  const size_t rows = src_bytes / row_bytes;
  auto* src = static_cast<uint8_t*>(rp::allocate_huge_pages(src_bytes));
  auto* dst = static_cast<uint8_t*>(rp::allocate_huge_pages(count * row_bytes));
  uint64_t s = 99;
  for (size_t i = 0; i < src_bytes; i += 8) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    std::memcpy(src + i, &s, 8);
  }
  auto idx = make_indices(count, rows, static_cast<uint32_t>(count));
  idx[1] = 0;
  idx[2] = static_cast<uint32_t>(rows - 1);
  idx[count - 1] = idx[0];
  rp::gather_rows(src, rows, row_bytes, idx.data(), count, dst, pool);
  bool ok = true;
  for (size_t j = 0; j < count && ok; ++j) {
    ok = std::memcmp(dst + j * row_bytes, src + size_t{idx[j]} * row_bytes,
                     row_bytes) == 0;
  }
  rp::free_huge_pages(src, src_bytes);
  rp::free_huge_pages(dst, count * row_bytes);
  return ok;
}

TEST(large_source_address_order) {
  rp::ThreadPool pool(3);
  for (rp::ThreadPool* p : {static_cast<rp::ThreadPool*>(nullptr), &pool}) {
    CHECK(ordered_gather_matches(size_t{64} << 20, 256, 70000, p));
    CHECK(ordered_gather_matches(size_t{64} << 20, 4096, 3000, p));
    CHECK(ordered_gather_matches(size_t{96} << 20, 320, 20000, p));
    CHECK(ordered_gather_matches(size_t{64} << 20, 64, 70000, p));  // in order
  }
}

TEST(duplicate_and_boundary_indices) {
  const size_t rows = 10, rb = 8;
  auto src = make_src(rows, rb);
  std::vector<uint32_t> idx = {9, 0, 9, 9, 0, 5};
  std::vector<uint8_t> dst(idx.size() * rb);
  rp::gather_rows(src.data(), rows, rb, idx.data(), idx.size(), dst.data(),
                  nullptr);
  for (size_t j = 0; j < idx.size(); ++j) {
    CHECK(std::memcmp(dst.data() + j * rb, src.data() + idx[j] * rb, rb) == 0);
  }
}

TEST(out_of_range_throws_and_leaves_dst) {
  rp::ThreadPool pool(2);
  for (rp::ThreadPool* p : {static_cast<rp::ThreadPool*>(nullptr), &pool}) {
    const size_t rows = 1000, rb = 1024, count = 1000;
    auto src = make_src(rows, rb);
    auto idx = make_indices(count, rows, 7);
    idx[17] = 9999;
    idx[500] = 1000;  // later offender; the message names the first
    std::vector<uint8_t> dst(count * rb, 0xCD);
    std::string msg;
    try {
      rp::gather_rows(src.data(), rows, rb, idx.data(), count, dst.data(), p);
    } catch (const std::out_of_range& e) {
      msg = e.what();
    }
    CHECK_EQ(msg, std::string("indices[17] = 9999 is out of range for 1000 rows"));
    bool untouched = true;
    for (uint8_t b : dst) untouched = untouched && b == 0xCD;
    CHECK(untouched);
  }
  // Exactly src_rows is out of range; zero rows rejects everything.
  uint8_t src[4] = {1, 2, 3, 4}, dst[4] = {};
  uint32_t idx = 4;
  CHECK_THROWS(std::out_of_range,
               rp::gather_rows(src, 4, 1, &idx, 1, dst, nullptr));
  idx = 0;
  CHECK_THROWS(std::out_of_range,
               rp::gather_rows(src, 0, 1, &idx, 1, dst, nullptr));
  idx = 3;
  rp::gather_rows(src, 4, 1, &idx, 1, dst, nullptr);
  CHECK_EQ(dst[0], 4);
}

TEST(dst_overlapping_indices_throws) {
  // The indices are read again while dst is written, so dst must not be
  // able to rewrite them (a checked index would become a wild read).
  std::vector<uint8_t> src(16 * 4, 1);
  std::vector<uint32_t> both(9, 0);
  CHECK_THROWS(std::invalid_argument,
               rp::gather_rows(src.data(), 16, 4, both.data(), 8,
                               reinterpret_cast<uint8_t*>(both.data() + 1), nullptr));
  CHECK_THROWS(std::invalid_argument,
               rp::gather_rows(src.data(), 16, 4, both.data() + 1, 8,
                               reinterpret_cast<uint8_t*>(both.data()), nullptr));
  // Adjacent but not overlapping is fine.
  std::vector<uint32_t> side(16, 0);
  rp::gather_rows(src.data(), 16, 4, side.data(), 8,
                  reinterpret_cast<uint8_t*>(side.data() + 8), nullptr);
  CHECK_EQ(side[8], uint32_t{0x01010101});
}

RP_TEST_MAIN()
