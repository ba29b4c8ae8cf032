// BatchSchedule: exhaustive small cases. From any cursor, the shards' rounds
// cover the rest of each epoch exactly once (or the documented drop subset),
// partial rounds are split evenly, and every shard agrees on the cursor.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "rp/batch_schedule.h"

namespace {

// Runs all shards of a schedule from `from` until it ends (num_epochs
// finite), checking the round invariants; counts[e][p] = times position p of
// epoch e was delivered.
void walk(uint64_t n, uint64_t b, uint64_t k, bool drop, uint64_t epochs, rp::Cursor from,
          std::vector<std::vector<int>>* counts, int* rounds_out) {
  std::vector<rp::BatchSchedule> shards;
  for (uint64_t s = 0; s < k; ++s) shards.emplace_back(n, b, k, s, drop, epochs);
  counts->assign(epochs, std::vector<int>(n, 0));
  rp::Cursor c = from;
  int rounds = 0;
  for (;;) {
    rp::ShardBatch first;
    const bool more = shards[0].batch_at(c, &first);
    uint64_t min_rows = UINT64_MAX, max_rows = 0, total = 0;
    uint64_t expect_start = 0;
    for (uint64_t s = 0; s < k; ++s) {
      rp::ShardBatch st;
      const bool m = shards[s].batch_at(c, &st);
      CHECK_EQ(m, more);
      if (!m) continue;
      CHECK(st.after == first.after);    // all shards agree
      CHECK_EQ(st.epoch, first.epoch);
      if (s == 0) expect_start = st.start;
      CHECK_EQ(st.start, expect_start);  // consecutive slices, in shard order
      expect_start = st.start + st.rows;
      CHECK(st.rows <= b);
      if (drop) CHECK_EQ(st.rows, b);
      min_rows = std::min(min_rows, st.rows);
      max_rows = std::max(max_rows, st.rows);
      total += st.rows;
      for (uint64_t p = st.start; p < st.start + st.rows; ++p) {
        REQUIRE(p < n && st.epoch < epochs);
        (*counts)[st.epoch][p] += 1;
      }
    }
    if (!more) break;
    CHECK(max_rows - min_rows <= 1);  // even split
    CHECK(total == k * b || first.after.position == 0);  // only the last round is short
    ++rounds;
    REQUIRE(rounds < 100000);
    c = first.after;
  }
  *rounds_out = rounds;
}

}  // namespace

TEST(exact_coverage_from_any_cursor) {
  for (uint64_t n = 1; n <= 23; ++n) {
    for (uint64_t b = 1; b <= 6; ++b) {
      for (uint64_t k = 1; k <= 5; ++k) {
        for (int drop = 0; drop < 2; ++drop) {
          if (drop && n < k * b) continue;
          for (uint64_t p = 0; p < n; p += (n > 8 ? 3 : 1)) {
            std::vector<std::vector<int>> counts;
            int rounds = 0;
            walk(n, b, k, drop != 0, 2, rp::Cursor{0, p}, &counts, &rounds);
            // Epoch 0 from p: positions before p never; the rest once (drop:
            // the positions of whole rounds from p). Epoch 1: from 0.
            for (uint64_t e = 0; e < 2; ++e) {
              const uint64_t from = e == 0 ? p : 0;
              const uint64_t full = (n - from) / (k * b) * (k * b);
              for (uint64_t q = 0; q < n; ++q) {
                int want = q >= from ? 1 : 0;
                if (drop && q >= from + full) want = 0;
                if (counts[e][q] != want) {
                  CHECK_EQ(counts[e][q], want);
                  return;
                }
              }
            }
          }
        }
      }
    }
  }
}

TEST(partial_round_split) {
  // n = 10, batch 4, 3 shards: one full round of 12 is too many, so the one
  // round is 10 records split 4, 3, 3.
  rp::ShardBatch s;
  rp::BatchSchedule s0(10, 4, 3, 0, false, 1), s1(10, 4, 3, 1, false, 1), s2(10, 4, 3, 2, false, 1);
  REQUIRE(s0.batch_at({0, 0}, &s));
  CHECK_EQ(s.start, uint64_t{0});
  CHECK_EQ(s.rows, uint64_t{4});
  CHECK(s.after == (rp::Cursor{1, 0}));
  REQUIRE(s1.batch_at({0, 0}, &s));
  CHECK_EQ(s.start, uint64_t{4});
  CHECK_EQ(s.rows, uint64_t{3});
  REQUIRE(s2.batch_at({0, 0}, &s));
  CHECK_EQ(s.start, uint64_t{7});
  CHECK_EQ(s.rows, uint64_t{3});
  CHECK(!s2.batch_at({1, 0}, &s));  // one epoch only

  // Fewer records left than shards: some shards get an empty batch.
  rp::BatchSchedule t3(10, 4, 5, 3, false, 1), t0(10, 4, 5, 0, false, 1);
  REQUIRE(t0.batch_at({0, 8}, &s));
  CHECK_EQ(s.rows, uint64_t{1});
  CHECK_EQ(s.start, uint64_t{8});
  REQUIRE(t3.batch_at({0, 8}, &s));
  CHECK_EQ(s.rows, uint64_t{0});
  CHECK(s.after == (rp::Cursor{1, 0}));
}

TEST(drop_remainder_skips_short_tail) {
  rp::ShardBatch s;
  rp::BatchSchedule d(10, 2, 2, 1, true, rp::BatchSchedule::kForever);
  REQUIRE(d.batch_at({0, 4}, &s));
  CHECK_EQ(s.start, uint64_t{6});
  CHECK(s.after == (rp::Cursor{1, 0}));  // 2 left < 4: the epoch is over
  // A cursor left with less than a round (elastic resume) starts the next epoch.
  REQUIRE(d.batch_at({3, 7}, &s));
  CHECK_EQ(s.epoch, uint64_t{4});
  CHECK_EQ(s.start, uint64_t{2});
  rp::BatchSchedule last(10, 2, 2, 0, true, 4);
  CHECK(!last.batch_at({3, 7}, &s));
}

TEST(invalid_arguments) {
  CHECK_THROWS(std::invalid_argument, rp::BatchSchedule(0, 1, 1, 0, false, 1));
  CHECK_THROWS(std::invalid_argument, rp::BatchSchedule((uint64_t{1} << 32) + 1, 1, 1, 0, false, 1));
  CHECK_THROWS(std::invalid_argument, rp::BatchSchedule(5, 0, 1, 0, false, 1));
  CHECK_THROWS(std::invalid_argument, rp::BatchSchedule(5, 1, 0, 0, false, 1));
  CHECK_THROWS(std::invalid_argument, rp::BatchSchedule(5, 1, rp::BatchSchedule::kMaxShards + 1, 0, false, 1));
  CHECK_THROWS(std::invalid_argument, rp::BatchSchedule(5, 1, 2, 2, false, 1));
  CHECK_THROWS(std::invalid_argument, rp::BatchSchedule(5, 1, 1, 0, false, 0));
  CHECK_THROWS(std::invalid_argument, rp::BatchSchedule(5, 3, 2, 0, true, 1));
  CHECK_THROWS(std::invalid_argument, rp::BatchSchedule(5, uint64_t{1} << 40, uint64_t{1} << 14, 0, false, 1));
  rp::BatchSchedule ok(5, 3, 2, 0, false, 1);
  rp::ShardBatch s;
  CHECK_THROWS(std::out_of_range, ok.batch_at({0, 5}, &s));
  // The largest n works and keeps 64-bit positions exact.
  rp::BatchSchedule big(uint64_t{1} << 32, 1000, 3, 2, false, 1);
  REQUIRE(big.batch_at({0, (uint64_t{1} << 32) - 10}, &s));
  CHECK_EQ(s.rows, uint64_t{3});
  CHECK_EQ(s.start, (uint64_t{1} << 32) - 10 + 7);
  CHECK(s.after == (rp::Cursor{1, 0}));
}

TEST(max_rows_is_capped_by_the_record_count) {
  CHECK_EQ(rp::BatchSchedule(1, uint64_t{1} << 30, 1, 0, false, 1).max_rows(), uint64_t{1});
  CHECK_EQ(rp::BatchSchedule(10, 4, 3, 2, false, 1).max_rows(), uint64_t{4});
  // Every round's rows stay within it.
  rp::BatchSchedule sched(7, 100, 2, 1, false, 2);
  rp::ShardBatch s;
  rp::Cursor c;
  while (sched.batch_at(c, &s)) {
    CHECK(s.rows <= sched.max_rows());
    c = s.after;
  }
}

RP_TEST_MAIN()
