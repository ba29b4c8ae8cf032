// The host grid runner: runs the CUDA kernels' thread functions
// (permutation_thread, fixed_gather_thread, ragged_gather_thread, the very
// code each __global__ kernel calls) for every (block, thread) of a launch
// shape, on the CPU, and compares the result with the CPU path byte for
// byte: rp::Permutation::fill, rp::gather_rows, rp::plan_ragged + copy_ragged.
// Launch shapes: the kernels' own, blocks of 32 to 1024 threads, and grids
// far smaller than the work (threads loop; the last pass is a partial tail).
// An off-by-one in the index math or the loop bounds fails here, not only on a GPU.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "test_data.h"
#include "rp/gather.h"
#include "rp/gather_kernel.h"
#include "rp/grid_stride.h"
#include "rp/permutation.h"
#include "rp/permutation_kernel.h"
#include "rp/ragged.h"
#include "rp/random.h"

namespace {

using rp::grid::Shape;

// Calls fn(block, thread) for every thread of the shape, as a launch would.
template <typename Fn>
void run_grid(Shape s, Fn fn) {
  for (uint32_t b = 0; b < s.grid; ++b) {
    for (uint32_t t = 0; t < s.block; ++t) fn(b, t);
  }
}

// Shapes to try for `work` items: the kernel's own, then each block size with
// a grid of enough blocks, and with grids smaller than the work.
std::vector<Shape> shapes_for(Shape own, uint64_t work) {
  std::vector<Shape> shapes{own};
  for (uint32_t block : {32u, 64u, 128u, 256u, 512u, 1024u}) {
    shapes.push_back(rp::grid::shape_for(work, block));
    shapes.push_back(Shape{1, block});
    shapes.push_back(Shape{3, block});
    const Shape full = rp::grid::shape_for(work, block);
    if (full.grid > 2) shapes.push_back(Shape{full.grid / 2 + 1, block});  // a grid just over half the work
  }
  return shapes;
}

std::string describe(Shape s) { return "<<<" + std::to_string(s.grid) + ", " + std::to_string(s.block) + ">>>"; }

rp::PermutationKernelArgs args_of(const rp::Permutation& p) {
  rp::PermutationKernelArgs a{};
  a.n = p.size();
  a.bits = p.bits();
  for (int r = 0; r < rp::Permutation::kRounds; ++r) a.round_keys[r] = p.round_keys()[r];
  return a;
}

// One launch of the permutation kernel over [0, n) on the host: the output,
// and every item's write count (each must be written exactly once).
bool permutation_matches(uint64_t n, Shape s, const std::vector<uint32_t>& expected, const rp::Permutation& perm) {
  const rp::PermutationKernelArgs a = args_of(perm);
  std::vector<uint32_t> out(n, 0xdeadbeef);
  std::vector<uint8_t> writes(n, 0);
  struct CountingSink {
    uint32_t* out;
    uint8_t* writes;
    void operator()(uint64_t i, uint32_t v) const {
      rp::ArraySink{out}(i, v);
      ++writes[i];
    }
  } sink{out.data(), writes.data()};
  run_grid(s, [&](uint32_t b, uint32_t t) { rp::permutation_thread(a, sink, b, t, s.block, s.grid); });
  for (uint64_t i = 0; i < n; ++i) {
    if (writes[i] != 1) {
      rp_test::fail(__FILE__, __LINE__, "n=" + std::to_string(n) + " " + describe(s) + ": item " + std::to_string(i) +
                                            " written " + std::to_string(writes[i]) + " times");
      return false;
    }
  }
  if (std::memcmp(out.data(), expected.data(), n * sizeof(uint32_t)) != 0) {
    for (uint64_t i = 0; i < n; ++i) {
      if (out[i] != expected[i]) {
        rp_test::fail(__FILE__, __LINE__, "n=" + std::to_string(n) + " " + describe(s) + ": out[" + std::to_string(i) +
                                              "] = " + std::to_string(out[i]) + ", the CPU path has " +
                                              std::to_string(expected[i]));
        break;
      }
    }
    return false;
  }
  return true;
}

TEST(permutation_small_n_every_shape) {
  for (uint64_t n : {uint64_t{1}, uint64_t{2}, uint64_t{63}, uint64_t{64}, uint64_t{65}, uint64_t{1000}, uint64_t{4097}}) {
    for (uint32_t seed : {0u, 7u}) {
      const rp::Permutation perm(rp::key_from_seed(seed), n);
      std::vector<uint32_t> expected(n);
      perm.fill(0, expected.data(), n);
      for (Shape s : shapes_for(rp::permutation_shape(n), n)) CHECK(permutation_matches(n, s, expected, perm));
    }
  }
}

TEST(permutation_2_pow_20_plus_1) {
  // Just over a power of two: the domain is twice n, so about half the items cycle-walk.
  const uint64_t n = (uint64_t{1} << 20) + 1;
  const rp::Permutation perm(rp::key_from_seed(42), n);
  std::vector<uint32_t> expected(n);
  perm.fill(0, expected.data(), n);
  for (Shape s : {rp::permutation_shape(n), Shape{1, 1024}, Shape{7, 32}, Shape{4097, 256}, Shape{rp::grid::kMaxGrid, 1024}}) {
    CHECK(permutation_matches(n, s, expected, perm));
  }
}

// Under a sanitizer (ASan/TSan builds run this 10x slower), the 10^8 test
// runs every 8th slab of blocks only, and says so.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr uint32_t kSlabStep = 8;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr uint32_t kSlabStep = 8;
#else
constexpr uint32_t kSlabStep = 1;
#endif
#else
constexpr uint32_t kSlabStep = 1;
#endif

// n = 10^8 with the kernel's own shape (65535 blocks of 256: every thread
// loops about 6 times, the last pass a partial tail). Every (block, thread)
// runs, so all 10^8 items are computed; the CPU reference (Permutation::fill)
// is made a slab of blocks at a time, so the test needs tens of MiB, not 800.
TEST(permutation_1e8_kernel_shape_every_item) {
  const uint64_t n = 100000000;
  const rp::Permutation perm(rp::key_from_seed(2026), n);
  const rp::PermutationKernelArgs a = args_of(perm);
  const Shape s = rp::permutation_shape(n);
  CHECK_EQ(s.grid, rp::grid::kMaxGrid);
  const uint64_t stride = rp::grid::stride(s.grid, s.block);
  const uint64_t passes = (n + stride - 1) / stride;
  const uint32_t slab = 4096;  // blocks per slab
  if (kSlabStep > 1) std::fprintf(stderr, "  (sanitizer build: every %u-th slab of %u blocks only)\n", kSlabStep, slab);
  std::vector<uint32_t> expected;
  uint64_t seen = 0, wrong = 0, items = 0;
  for (uint32_t b0 = 0; b0 < s.grid; b0 += slab * kSlabStep) {
    const uint32_t b1 = b0 + slab < s.grid ? b0 + slab : s.grid;
    const uint64_t width = uint64_t{b1 - b0} * s.block;  // items of one pass this slab covers
    expected.assign(passes * width, 0);
    for (uint64_t p = 0; p < passes; ++p) {
      const uint64_t start = p * stride + uint64_t{b0} * s.block;
      if (start >= n) break;
      const uint64_t count = n - start < width ? n - start : width;
      perm.fill(start, expected.data() + p * width, count);
      items += count;
    }
    struct CompareSink {
      const uint32_t* expected;
      uint64_t stride, width, base;
      uint64_t* seen;
      uint64_t* wrong;
      void operator()(uint64_t i, uint32_t v) const {
        ++*seen;
        *wrong += v != expected[(i / stride) * width + (i % stride - base)];
      }
    } sink{expected.data(), stride, width, uint64_t{b0} * s.block, &seen, &wrong};
    for (uint32_t b = b0; b < b1; ++b) {
      for (uint32_t t = 0; t < s.block; ++t) rp::permutation_thread(a, sink, b, t, s.block, s.grid);
    }
  }
  CHECK_EQ(seen, items);
  if (kSlabStep == 1) CHECK_EQ(items, n);
  CHECK_EQ(wrong, uint64_t{0});
}

// --- gather ---

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  return rp_test::pseudo_random_bytes(n, seed * 2654435761u + 1);
}

std::vector<uint32_t> random_indices(size_t count, size_t rows, uint32_t seed) {
  return rp_test::pseudo_random_indices(count, rows, uint64_t{seed} + 99);
}

// The kernel's gather of `count` rows of row_bytes (dtype size × row length)
// from src + src_shift into dst + dst_shift, against rp::gather_rows, with
// guard bytes around dst that must stay untouched.
bool fixed_gather_matches(size_t rows, size_t row_bytes, size_t count, size_t src_shift, size_t dst_shift,
                          Shape* only_shape = nullptr) {
  const std::vector<uint8_t> src_store = random_bytes(rows * row_bytes + 16, static_cast<uint32_t>(row_bytes));
  const uint8_t* src = src_store.data() + src_shift;
  const std::vector<uint32_t> idx = random_indices(count, rows, static_cast<uint32_t>(count));
  std::vector<uint8_t> expected(count * row_bytes);
  rp::gather_rows(src, rows, row_bytes, idx.data(), count, expected.data(), nullptr);

  const size_t guard = 64;
  std::vector<uint8_t> dst_store(count * row_bytes + 2 * guard + 16);
  uint8_t* dst = dst_store.data() + guard + dst_shift;
  rp::FixedGatherArgs a{};
  a.src = src;
  a.dst = dst;
  a.idx = idx.data();
  a.rows = count;
  a.row_bytes = row_bytes;
  a.unit = rp::gather_unit(row_bytes, reinterpret_cast<uintptr_t>(src), reinterpret_cast<uintptr_t>(dst));
  a.units_per_row = row_bytes / a.unit;
  const uint64_t items = rp::fixed_gather_items(a);
  std::vector<Shape> shapes = only_shape ? std::vector<Shape>{*only_shape} : shapes_for(rp::fixed_gather_shape(a), items);
  for (Shape s : shapes) {
    std::memset(dst_store.data(), 0xA5, dst_store.size());
    run_grid(s, [&](uint32_t b, uint32_t t) { rp::fixed_gather_thread(a, b, t, s.block, s.grid); });
    if (!expected.empty() && std::memcmp(dst, expected.data(), expected.size()) != 0) {
      rp_test::fail(__FILE__, __LINE__, "fixed gather rows=" + std::to_string(rows) + " row_bytes=" + std::to_string(row_bytes) +
                                            " count=" + std::to_string(count) + " unit=" + std::to_string(a.unit) + " " +
                                            describe(s) + ": differs from gather_rows");
      return false;
    }
    for (size_t k = 0; k < dst_store.size(); ++k) {
      const bool inside = dst_store.data() + k >= dst && dst_store.data() + k < dst + expected.size();
      if (!inside && dst_store[k] != 0xA5) {
        rp_test::fail(__FILE__, __LINE__, "fixed gather row_bytes=" + std::to_string(row_bytes) + " " + describe(s) +
                                              ": wrote outside the batch");
        return false;
      }
    }
  }
  return true;
}

TEST(gather_unit_choice) {
  CHECK_EQ(rp::gather_unit(64, 0, 0), 16u);
  CHECK_EQ(rp::gather_unit(24, 0, 0), 8u);
  CHECK_EQ(rp::gather_unit(12, 0, 0), 4u);
  CHECK_EQ(rp::gather_unit(6, 0, 0), 2u);
  CHECK_EQ(rp::gather_unit(7, 0, 0), 1u);
  CHECK_EQ(rp::gather_unit(64, 4, 0), 4u);   // a source 4 bytes off alignment
  CHECK_EQ(rp::gather_unit(64, 0, 2), 2u);   // a destination 2 bytes off
}

TEST(fixed_gather_every_dtype_and_row_size) {
  // Every dtype's element size (1, 2, 4, 8) times row lengths 1..9, 16, 17,
  // 64, 256, 1024: row sizes from 1 byte to 8 KiB, aligned and not.
  for (size_t element : {1, 2, 4, 8}) {
    for (size_t length : {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 64, 256, 1024}) {
      const size_t row_bytes = element * length;
      const size_t count = row_bytes >= 1024 ? 37 : 300;
      CHECK(fixed_gather_matches(500, row_bytes, count, 0, 0));
    }
  }
}

TEST(fixed_gather_misaligned_buffers) {
  for (size_t shift : {1, 2, 4, 8}) {
    CHECK(fixed_gather_matches(200, 64, 100, shift, 0));
    CHECK(fixed_gather_matches(200, 64, 100, 0, shift));
    CHECK(fixed_gather_matches(200, 48, 100, shift, shift));
  }
}

TEST(fixed_gather_batch_65536_kernel_shape) {
  // The bench's batch: 65536 rows of 256 B, the kernel's own shape only (the other shapes are covered above).
  const size_t row_bytes = 256;
  rp::FixedGatherArgs probe{};
  probe.rows = 65536;
  probe.units_per_row = row_bytes / 16;
  Shape own = rp::fixed_gather_shape(probe);
  CHECK(fixed_gather_matches(100000, row_bytes, 65536, 0, 0, &own));
  Shape small{5, 1024};
  CHECK(fixed_gather_matches(100000, row_bytes, 65536, 0, 0, &small));
}

TEST(fixed_gather_empty_batch) {
  CHECK(fixed_gather_matches(10, 8, 0, 0, 0));
}

// A ragged column of `rows` rows (lengths 0..max_len, some empty) with
// elements of element_bytes, Arrow layout or starts/ends, 32- or 64-bit
// offsets: the kernel's copy of a planned batch against copy_ragged.
template <typename Offset>
bool ragged_gather_matches(size_t rows, size_t element_bytes, size_t max_len, bool starts_ends, size_t count) {
  std::vector<Offset> offsets(rows + 1);
  uint32_t s = static_cast<uint32_t>(rows * 31 + element_bytes);
  offsets[0] = 3;  // a sliced Arrow array: the first offset need not be 0
  for (size_t r = 0; r < rows; ++r) {
    s = s * 1103515245u + 12345u;
    const size_t len = (s >> 16) % (max_len + 1);
    offsets[r + 1] = static_cast<Offset>(offsets[r] + static_cast<Offset>(len));
  }
  const size_t values = static_cast<size_t>(offsets[rows]) + 5;
  const std::vector<uint8_t> data = random_bytes(values * element_bytes, static_cast<uint32_t>(element_bytes + rows));
  std::vector<Offset> starts(offsets.begin(), offsets.end() - 1), ends(offsets.begin() + 1, offsets.end());
  rp::RaggedColumn col;
  col.values = data.data();
  col.value_count = values;
  col.element_bytes = element_bytes;
  col.offsets64 = sizeof(Offset) == 8;
  col.rows = rows;
  col.starts = reinterpret_cast<const uint8_t*>(starts_ends ? starts.data() : offsets.data());
  col.ends = starts_ends ? reinterpret_cast<const uint8_t*>(ends.data()) : nullptr;
  const std::vector<uint32_t> idx = random_indices(count, rows, static_cast<uint32_t>(count + max_len));

  std::vector<int32_t> out_offsets(count + 1);
  std::vector<const uint8_t*> src(count);
  const uint64_t total = rp::plan_ragged(col, idx.data(), count, out_offsets.data(), src.data());
  std::vector<uint8_t> expected(total * element_bytes + 1);
  rp::copy_ragged(src.data(), out_offsets.data(), count, element_bytes, expected.data(), nullptr);

  // What the binding uploads: each row's byte offset into the values.
  std::vector<uint64_t> src_offsets(count);
  for (size_t j = 0; j < count; ++j) src_offsets[j] = static_cast<uint64_t>(src[j] - data.data());
  const size_t guard = 32;
  std::vector<uint8_t> dst_store(total * element_bytes + 2 * guard);
  rp::RaggedGatherArgs a{};
  a.src = data.data();
  a.dst = dst_store.data() + guard;
  a.src_offsets = src_offsets.data();
  a.dst_offsets = out_offsets.data();
  a.rows = count;
  a.element_bytes = static_cast<uint32_t>(element_bytes);
  std::vector<Shape> shapes{rp::ragged_gather_shape(count)};
  for (uint32_t block : {32u, 64u, 256u, 1024u}) {
    shapes.push_back(rp::ragged_gather_shape(count, block));
    shapes.push_back(Shape{1, block});
    shapes.push_back(Shape{3, block});
  }
  for (Shape sh : shapes) {
    std::memset(dst_store.data(), 0x5A, dst_store.size());
    run_grid(sh, [&](uint32_t b, uint32_t t) { rp::ragged_gather_thread(a, b, t, sh.block, sh.grid); });
    if (std::memcmp(a.dst, expected.data(), total * element_bytes) != 0) {
      rp_test::fail(__FILE__, __LINE__, "ragged gather element_bytes=" + std::to_string(element_bytes) + " max_len=" +
                                            std::to_string(max_len) + " " + describe(sh) + ": differs from copy_ragged");
      return false;
    }
    for (size_t k = 0; k < guard; ++k) {
      if (dst_store[k] != 0x5A || dst_store[guard + total * element_bytes + k] != 0x5A) {
        rp_test::fail(__FILE__, __LINE__, "ragged gather " + describe(sh) + ": wrote outside the batch");
        return false;
      }
    }
  }
  return true;
}

TEST(ragged_gather_every_dtype_layout_and_length) {
  for (size_t element : {1, 2, 4, 8}) {
    for (size_t max_len : {0, 1, 5, 31, 32, 33, 300, 2500}) {  // rows shorter and longer than a block
      for (bool starts_ends : {false, true}) {
        const size_t count = max_len >= 300 ? 40 : 200;
        CHECK(ragged_gather_matches<int32_t>(300, element, max_len, starts_ends, count));
        CHECK(ragged_gather_matches<int64_t>(300, element, max_len, starts_ends, count));
      }
    }
  }
}

TEST(ragged_gather_empty_batch) {
  CHECK(ragged_gather_matches<int32_t>(10, 4, 5, false, 0));
}

TEST(shape_for_caps_and_rounds_up) {
  CHECK_EQ(rp::grid::shape_for(0).grid, 1u);
  CHECK_EQ(rp::grid::shape_for(1).grid, 1u);
  CHECK_EQ(rp::grid::shape_for(256).grid, 1u);
  CHECK_EQ(rp::grid::shape_for(257).grid, 2u);
  CHECK_EQ(rp::grid::shape_for(uint64_t{1} << 40).grid, rp::grid::kMaxGrid);
  CHECK_EQ(rp::grid::shape_for(1000, 32).grid, 32u);
}

}  // namespace

RP_TEST_MAIN()
