// Ragged columns: check_ragged refuses bad offsets naming the entry; the
// two-pass gather and the padded gather equal rows taken one by one; a
// prefetcher over ragged columns gives the same batches as a direct
// computation, including batches that outgrow the block (memory of their own).
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "rp/epoch_keys.h"
#include "rp/permutation.h"
#include "rp/prefetcher.h"
#include "rp/ragged.h"
#include "rp/thread_pool.h"

namespace {

template <typename T>
rp::RaggedColumn arrow(const std::vector<T>& offsets, const std::vector<uint8_t>& values, size_t eb = 1) {
  rp::RaggedColumn c;
  c.values = values.data();
  c.value_count = values.size() / eb;
  c.element_bytes = eb;
  c.starts = reinterpret_cast<const uint8_t*>(offsets.data());
  c.offsets64 = sizeof(T) == 8;
  c.rows = offsets.size() - 1;
  return c;
}

std::string message_of(const rp::RaggedColumn& c) {
  try {
    rp::check_ragged(c);
  } catch (const rp::SourceDataError& e) {
    return e.what();
  }
  return "";
}

// A random ragged source: rows of 0..max_len elements of eb bytes.
struct Data {
  std::vector<uint8_t> values;
  std::vector<int64_t> offsets;  // with a non-zero first offset (a sliced array)
  size_t eb;
  Data(size_t rows, size_t max_len, size_t eb_, uint32_t seed) : eb(eb_) {
    std::mt19937 rng(seed);
    offsets.push_back(5);
    for (size_t i = 0; i < rows; ++i) offsets.push_back(offsets.back() + int64_t(rng() % (max_len + 1)));
    values.resize(size_t(offsets.back() + 3) * eb);
    for (size_t i = 0; i < values.size(); ++i) values[i] = uint8_t(rng());
  }
  rp::RaggedColumn column() const { return arrow(offsets, values, eb); }
  std::vector<uint8_t> row(uint32_t r) const {
    return std::vector<uint8_t>(values.begin() + offsets[r] * int64_t(eb), values.begin() + offsets[r + 1] * int64_t(eb));
  }
};

}  // namespace

TEST(check_ragged_accepts_and_reports_stats) {
  std::vector<uint8_t> values(20);
  std::vector<int32_t> off = {3, 3, 10, 12};
  rp::RaggedStats st = rp::check_ragged(arrow(off, values));
  CHECK_EQ(st.max_row, uint64_t{7});
  CHECK_EQ(st.total, uint64_t{9});
  std::vector<int64_t> off64 = {0, 20};
  st = rp::check_ragged(arrow(off64, values));
  CHECK_EQ(st.max_row, uint64_t{20});
}

TEST(check_ragged_names_the_bad_entry) {
  std::vector<uint8_t> values(20);
  CHECK_EQ(message_of(arrow(std::vector<int32_t>{0, 5, 4, 6}, values)),
           std::string("offsets[2] = 4 is less than offsets[1] = 5 (offsets must never decrease)"));
  CHECK_EQ(message_of(arrow(std::vector<int32_t>{-1, 5}, values)), std::string("offsets[0] = -1 is negative"));
  CHECK_EQ(message_of(arrow(std::vector<int64_t>{0, 5, 21}, values)),
           std::string("offsets[2] = 21 is past the end of the values (20 elements)"));
  // starts/ends
  std::vector<int32_t> starts = {0, 4, 2};
  std::vector<int32_t> ends = {3, 3, 20};
  rp::RaggedColumn c = arrow(starts, values);
  c.rows = 3;
  c.ends = reinterpret_cast<const uint8_t*>(ends.data());
  CHECK_EQ(message_of(c), std::string("ends[1] = 3 is less than starts[1] = 4"));
  ends[1] = 4;
  CHECK_EQ(message_of(c), std::string(""));
  ends[2] = 21;
  CHECK_EQ(message_of(c), std::string("ends[2] = 21 is past the end of the values (20 elements)"));
}

TEST(plan_and_copy_equal_rows_taken_one_by_one) {
  for (size_t eb : {size_t{1}, size_t{4}, size_t{8}}) {
    const Data d(300, 2100, eb, 7);
    const rp::RaggedColumn col = d.column();
    std::vector<uint32_t> idx;
    std::mt19937 rng(3);
    for (int j = 0; j < 200; ++j) idx.push_back(rng() % 300);
    std::vector<int32_t> out(idx.size() + 1);
    std::vector<const uint8_t*> starts(idx.size());
    const uint64_t total = rp::plan_ragged(col, idx.data(), idx.size(), out.data(), starts.data());
    CHECK_EQ(uint64_t(out.back()), total);
    std::vector<uint8_t> dst(total * eb);
    rp::copy_ragged(starts.data(), out.data(), idx.size(), eb, dst.data(), &rp::ThreadPool::shared());
    std::vector<uint8_t> want;
    for (size_t j = 0; j < idx.size(); ++j) {
      const std::vector<uint8_t> r = d.row(idx[j]);
      CHECK_EQ(uint64_t(out[j + 1] - out[j]) * eb, uint64_t(r.size()));
      want.insert(want.end(), r.begin(), r.end());
    }
    CHECK(dst == want);
  }
}

TEST(padded_rows_are_truncated_or_filled) {
  const Data d(50, 40, 2, 11);
  const rp::RaggedColumn col = d.column();
  std::vector<uint32_t> idx = {0, 49, 7, 7, 23};
  const size_t length = 20;
  const uint8_t pad[2] = {0xAB, 0xCD};
  std::vector<uint8_t> dst(idx.size() * length * 2);
  std::vector<int32_t> lengths(idx.size());
  rp::gather_padded(col, idx.data(), idx.size(), length, pad, dst.data(), lengths.data(), nullptr);
  for (size_t j = 0; j < idx.size(); ++j) {
    const std::vector<uint8_t> r = d.row(idx[j]);
    const size_t kept = std::min(r.size() / 2, length);
    CHECK_EQ(size_t(lengths[j]), kept);
    CHECK(std::memcmp(dst.data() + j * length * 2, r.data(), kept * 2) == 0);
    for (size_t e = kept; e < length; ++e) {
      CHECK_EQ(dst[(j * length + e) * 2], uint8_t{0xAB});
      CHECK_EQ(dst[(j * length + e) * 2 + 1], uint8_t{0xCD});
    }
  }
}

TEST(bad_indices_and_changed_offsets_throw) {
  std::vector<uint8_t> values(10);
  std::vector<int32_t> off = {0, 4, 10};
  const rp::RaggedColumn col = arrow(off, values);
  std::vector<uint32_t> idx = {1, 2};
  std::vector<int32_t> out(3);
  std::vector<const uint8_t*> starts(2);
  CHECK_THROWS(std::out_of_range, rp::plan_ragged(col, idx.data(), 2, out.data(), starts.data()));
  off[2] = 11;  // changed after the check: refused before any copy
  idx = {1, 0};
  CHECK_THROWS(rp::SourceDataError, rp::plan_ragged(col, idx.data(), 2, out.data(), starts.data()));
  // A batch over 2^31 - 1 elements cannot have int32 offsets.
  std::vector<int64_t> big = {0, int64_t{1} << 31, int64_t{1} << 32};
  rp::RaggedColumn huge = arrow(big, values);
  huge.value_count = uint64_t{1} << 32;  // never read: planning fails first
  idx = {0, 1};
  CHECK_THROWS(rp::SourceDataError, rp::plan_ragged(huge, idx.data(), 2, out.data(), starts.data()));
}

namespace {

// Runs a prefetcher over a fixed column and a ragged one (and a padded view of
// it), checking every batch against a direct computation.
void check_prefetcher(const Data& d, size_t batch, size_t depth, bool inl, bool expect_owned,
                      bool chunked = false) {
  const uint64_t n = d.offsets.size() - 1;
  std::vector<uint8_t> fixed(n * 3);
  for (size_t i = 0; i < fixed.size(); ++i) fixed[i] = uint8_t(i * 7);
  rp::BatchSchedule sched(n, batch, 2, 1, false, 2);
  std::vector<rp::SourceColumn> cols(3);
  cols[0].data = fixed.data();
  cols[0].rows = n;
  cols[0].row_bytes = 3;
  cols[1].kind = rp::ColumnKind::kRagged;
  cols[1].ragged = d.column();
  const rp::RaggedStats st = rp::check_ragged(cols[1].ragged);
  cols[1].max_row = st.max_row;
  cols[1].total = st.total;
  if (chunked) {  // the same rows, as three chunks
    const std::vector<uint64_t> first = {0, n / 3, n / 3 + 1, n};
    cols[0].chunk_first = first;
    cols[1].chunk_first = first;
    for (size_t k = 0; k + 1 < first.size(); ++k) {
      cols[0].chunk_data.push_back(fixed.data() + first[k] * 3);
      rp::RaggedColumn part = cols[1].ragged;
      part.starts += first[k] * sizeof(int64_t);
      part.rows = first[k + 1] - first[k];
      cols[1].chunk_ragged.push_back(part);
    }
    cols[0].data = nullptr;
    cols[1].ragged.starts = nullptr;
  }
  cols[2] = cols[1];
  cols[2].kind = rp::ColumnKind::kPadded;
  cols[2].pad_length = 6;
  cols[2].pad[0] = 0x5A;
  rp::PrefetchConfig cfg;
  cfg.seed = 5;
  cfg.columns = cols;
  cfg.depth = depth;
  cfg.inline_assembly = inl;
  cfg.pool = &rp::ThreadPool::shared();
  const size_t bytes = rp::Prefetcher::block_bytes(sched, cols);
  std::vector<std::unique_ptr<uint8_t[]>> owned;
  auto fresh = [&] {
    owned.emplace_back(new uint8_t[bytes]);
    std::memset(owned.back().get(), 0xCD, bytes);
    return owned.back().get();
  };
  std::vector<uint8_t*> blocks;
  for (size_t s = 0; s < rp::Prefetcher::slots_for_depth(depth); ++s) blocks.push_back(fresh());
  rp::Prefetcher pf(sched, cfg, blocks, rp::Cursor{0, 0});
  rp::Cursor c{0, 0};
  bool saw_owned = false;
  for (;;) {
    rp::PreparedBatch b = pf.take(fresh());
    rp::ShardBatch want;
    if (!sched.batch_at(c, &want)) {
      CHECK(b.end);
      break;
    }
    CHECK_EQ(b.plan.rows, want.rows);
    saw_owned = saw_owned || b.owned != nullptr;
    if (b.owned == nullptr) CHECK(b.bytes <= bytes);
    const size_t rows = size_t(want.rows);
    std::vector<uint32_t> idx(rows);
    rp::Permutation perm(rp::order_key(5, want.epoch), n);
    perm.fill(want.start, idx.data(), rows);
    if (rows > 0) CHECK(std::memcmp(b.block, idx.data(), rows * 4) == 0);  // an empty batch: idx.data() may be null
    const uint8_t* f = b.block + b.places[0].data;
    const int32_t* off = reinterpret_cast<const int32_t*>(b.block + b.places[1].aux);
    const uint8_t* v = b.block + b.places[1].data;
    const int32_t* lens = reinterpret_cast<const int32_t*>(b.block + b.places[2].aux);
    const uint8_t* p = b.block + b.places[2].data;
    CHECK_EQ(off[0], 0);
    for (size_t j = 0; j < rows; ++j) {
      CHECK(std::memcmp(f + j * 3, fixed.data() + idx[j] * 3, 3) == 0);
      const std::vector<uint8_t> r = d.row(idx[j]);
      CHECK_EQ(size_t(off[j + 1] - off[j]), r.size());
      CHECK(r.empty() || std::memcmp(v + off[j], r.data(), r.size()) == 0);
      const size_t kept = std::min<size_t>(r.size(), 6);
      CHECK_EQ(size_t(lens[j]), kept);
      CHECK(kept == 0 || std::memcmp(p + j * 6, r.data(), kept) == 0);
      for (size_t e = kept; e < 6; ++e) CHECK_EQ(p[j * 6 + e], uint8_t{0x5A});
    }
    CHECK_EQ(size_t(off[rows]) , size_t(b.places[1].data_bytes));
    // Nothing stale: every byte between parts and up to b.bytes is written.
    for (size_t k = 0; k < b.bytes; ++k) {
      if (b.block[k] == 0xCD) {
        bool inside = k < rows * 4;  // indices, offsets and lengths may hold 0xCD bytes
        inside = inside || (k >= b.places[1].aux && k < b.places[1].aux + (rows + 1) * 4);
        inside = inside || (k >= b.places[2].aux && k < b.places[2].aux + rows * 4);
        for (const rp::ColumnPlace& pl : b.places) {
          inside = inside || (k >= pl.data && k < pl.data + pl.data_bytes);
        }
        if (!inside) {
          CHECK(false);
          break;
        }
      }
    }
    c = want.after;
  }
  CHECK_EQ(saw_owned, expect_owned);
}

}  // namespace

TEST(prefetcher_gathers_ragged_columns) {
  for (size_t depth : {size_t{0}, size_t{1}, size_t{3}}) {
    for (int inl = 0; inl < (depth == 0 ? 2 : 1); ++inl) {
      const Data d(97, 30, 1, 21);
      check_prefetcher(d, 8, depth, inl != 0, false);
    }
  }
}

TEST(chunked_columns_equal_plain_ones) {
  const Data d(97, 30, 1, 22);
  for (size_t depth : {size_t{0}, size_t{2}}) check_prefetcher(d, 8, depth, depth == 0, false, true);
  // Large batches go through the pool.
  const Data big(5000, 1000, 1, 23);
  check_prefetcher(big, 2048, 1, false, false, true);
}

TEST(batches_over_the_block_get_memory_of_their_own) {
  // Most rows are short; a few are long: a batch holding them outgrows the block.
  Data d(200, 2, 1, 4);
  std::vector<int64_t> off = {0};
  for (int i = 0; i < 200; ++i) off.push_back(off.back() + (i % 50 == 0 ? 5000 : i % 3));
  d.offsets = off;
  d.values.assign(size_t(off.back()), 0);
  for (size_t i = 0; i < d.values.size(); ++i) d.values[i] = uint8_t(i * 31 + 1);
  for (size_t depth : {size_t{0}, size_t{2}}) check_prefetcher(d, 16, depth, depth == 0, true);
}

RP_TEST_MAIN()
