// Prefetcher: the batches it prepares match a direct computation (schedule,
// permutation, keys, gathered rows) at every depth, across reset(), at the
// end of the schedule, through the notify path, and when production fails.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "check.h"
#include "rp/epoch_keys.h"
#include "rp/permutation.h"
#include "rp/prefetcher.h"
#include "rp/thread_pool.h"

namespace {

struct Source {
  static constexpr size_t kRowA = 3, kRowB = 8;
  std::vector<uint8_t> a;  // rows of kRowA bytes
  std::vector<uint8_t> b;  // rows of kRowB bytes
  uint64_t n;
  explicit Source(uint64_t n_) : a(n_ * kRowA), b(n_ * kRowB), n(n_) {
    for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(i * 7 + 1);
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 13 + 5);
  }
  std::vector<rp::SourceColumn> columns() const {
    return {{a.data(), n, kRowA}, {b.data(), n, kRowB}};
  }
  // The batch layout of these columns (what the Prefetcher builds from columns()).
  rp::BatchLayout layout() const { return rp::BatchLayout({kRowA, kRowB}); }
};

struct Blocks {
  std::vector<std::unique_ptr<uint8_t[]>> owned;
  std::vector<uint8_t*> make(size_t count, size_t bytes) {
    std::vector<uint8_t*> out;
    for (size_t i = 0; i < count; ++i) out.push_back(fresh(bytes));
    return out;
  }
  uint8_t* fresh(size_t bytes) {
    owned.emplace_back(new uint8_t[bytes + 1]);
    std::memset(owned.back().get(), 0xCD, bytes + 1);  // as if uninitialised
    return owned.back().get();
  }
};

// Checks batch b against the schedule at cursor c, recomputed directly.
bool matches(const rp::BatchSchedule& sched, const rp::BatchLayout& layout, const Source& src,
             uint64_t seed, bool shuffle, rp::Cursor c, const rp::PreparedBatch& b) {
  rp::ShardBatch want;
  if (!sched.batch_at(c, &want)) return b.end;
  if (b.end) return false;
  if (b.plan.epoch != want.epoch || b.plan.start != want.start || b.plan.rows != want.rows ||
      !(b.plan.after == want.after)) {
    return false;
  }
  const uint32_t* idx = reinterpret_cast<const uint32_t*>(b.block);
  rp::Permutation perm(rp::order_key(seed, want.epoch), sched.size());
  for (uint64_t j = 0; j < want.rows; ++j) {
    const uint32_t expect = shuffle ? perm(want.start + j) : static_cast<uint32_t>(want.start + j);
    if (idx[j] != expect) return false;
  }
  const uint64_t first = want.rows ? idx[0] : sched.size();
  if (!(b.key == rp::batch_key(seed, want.epoch, first))) return false;
  const size_t rows = static_cast<size_t>(want.rows);
  const uint8_t* ca = b.block + layout.column_offset(rows, 0);
  const uint8_t* cb = b.block + layout.column_offset(rows, 1);
  for (size_t j = 0; j < rows; ++j) {
    if (std::memcmp(ca + j * 3, src.a.data() + size_t{idx[j]} * 3, 3) != 0) return false;
    if (std::memcmp(cb + j * 8, src.b.data() + size_t{idx[j]} * 8, 8) != 0) return false;
  }
  // Padding is zeroed up to the block's capacity.
  size_t end = rows * 4;
  for (size_t off = end; off < layout.column_offset(rows, 0); ++off) {
    if (b.block[off] != 0) return false;
  }
  end = layout.column_offset(rows, 1) + rows * 8;
  for (size_t off = end; off < rp::Prefetcher::block_bytes(sched, layout); ++off) {
    if (b.block[off] != 0) return false;
  }
  return true;
}

}  // namespace

TEST(matches_direct_computation_at_every_depth) {
  const Source src(53);
  for (size_t depth : {0, 1, 2, 5}) {
   for (int inl = 0; inl < (depth == 0 ? 2 : 1); ++inl) {  // depth 0: threaded and inline
    for (uint64_t shards : {1, 3}) {
      for (int shuffle = 0; shuffle < 2; ++shuffle) {
        rp::BatchSchedule sched(53, 4, shards, shards - 1, false, 3);
        rp::PrefetchConfig cfg;
        cfg.seed = 99;
        cfg.shuffle = shuffle != 0;
        cfg.columns = src.columns();
        cfg.depth = depth;
        cfg.pool = &rp::ThreadPool::shared();
        cfg.inline_assembly = inl != 0;
        const rp::BatchLayout layout = src.layout();
        Blocks blocks;
        const size_t bytes = rp::Prefetcher::block_bytes(sched, layout);
        rp::Prefetcher pf(sched, cfg, blocks.make(rp::Prefetcher::slots_for_depth(depth), bytes),
                          rp::Cursor{0, 0});
        rp::Cursor c{0, 0};
        int batches = 0;
        for (;;) {
          rp::PreparedBatch b = pf.take(blocks.fresh(bytes));
          if (!matches(sched, layout, src, 99, shuffle != 0, c, b)) {
            CHECK(false);
            return;
          }
          if (b.end) break;
          c = b.plan.after;
          ++batches;
        }
        CHECK_EQ(batches, 3 * ((53 + 4 * static_cast<int>(shards) - 1) / (4 * static_cast<int>(shards))));
        CHECK(pf.take(nullptr).end);  // the end repeats
      }
    }
   }
  }
}

TEST(inline_assembly_resets_and_keeps_errors) {
  const Source src(20);
  rp::BatchSchedule sched(20, 5, 1, 0, false, 2);
  rp::PrefetchConfig cfg;
  cfg.seed = 4;
  cfg.columns = src.columns();
  cfg.depth = 0;
  cfg.inline_assembly = true;
  const rp::BatchLayout layout = src.layout();
  Blocks blocks;
  const size_t bytes = rp::Prefetcher::block_bytes(sched, layout);
  rp::Prefetcher pf(sched, cfg, blocks.make(1, bytes), rp::Cursor{0, 0});
  CHECK(pf.ready_or_notify([] {}));  // never waits
  rp::PreparedBatch b = pf.take(blocks.fresh(bytes));
  CHECK(matches(sched, layout, src, 4, true, rp::Cursor{0, 0}, b));
  pf.reset(rp::Cursor{1, 10});
  b = pf.take(blocks.fresh(bytes));
  CHECK(matches(sched, layout, src, 4, true, rp::Cursor{1, 10}, b));
  pf.reset(rp::Cursor{0, 20});  // past the end of the epoch: batch_at throws
  CHECK_THROWS(std::out_of_range, pf.take(nullptr));
  CHECK_THROWS(std::out_of_range, pf.take(nullptr));  // until reset
  pf.reset(rp::Cursor{1, 15});
  b = pf.take(blocks.fresh(bytes));
  CHECK(matches(sched, layout, src, 4, true, rp::Cursor{1, 15}, b));
  CHECK(pf.take(nullptr).end);
  CHECK(pf.take(nullptr).end);
  // Inline assembly has no queue to fill ahead.
  cfg.depth = 1;
  CHECK_THROWS(std::invalid_argument, rp::Prefetcher(sched, cfg, blocks.make(1, bytes), rp::Cursor{}));
}

TEST(small_batches_are_prepared_64_kib_ahead) {
  CHECK_EQ(rp::Prefetcher::effective_depth(0, 64), size_t{0});  // on demand stays on demand
  CHECK_EQ(rp::Prefetcher::effective_depth(2, 640), size_t{103});
  CHECK_EQ(rp::Prefetcher::effective_depth(2, size_t{64} << 10), size_t{2});
  CHECK_EQ(rp::Prefetcher::effective_depth(4, size_t{4} << 20), size_t{4});
  CHECK_EQ(rp::Prefetcher::effective_depth(500, 64), size_t{1024});
  CHECK_EQ(rp::Prefetcher::effective_depth(2000, 64), size_t{2000});  // never lowered
}

TEST(reset_discards_prefetched_batches) {
  const Source src(40);
  rp::BatchSchedule sched(40, 3, 2, 1, false, rp::BatchSchedule::kForever);
  rp::PrefetchConfig cfg;
  cfg.seed = 7;
  cfg.columns = src.columns();
  cfg.depth = 4;
  const rp::BatchLayout layout = src.layout();
  Blocks blocks;
  const size_t bytes = rp::Prefetcher::block_bytes(sched, layout);
  rp::Prefetcher pf(sched, cfg, blocks.make(4, bytes), rp::Cursor{0, 0});
  for (int round = 0; round < 20; ++round) {
    const rp::Cursor from{static_cast<uint64_t>(round % 3), static_cast<uint64_t>((round * 7) % 40)};
    pf.reset(from);
    rp::Cursor c = from;
    for (int i = 0; i < 5; ++i) {
      rp::PreparedBatch b = pf.take(blocks.fresh(bytes));
      REQUIRE(matches(sched, layout, src, 7, true, c, b));
      c = b.plan.after;
    }
    if (round % 4 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(notify_fires_once_when_ready) {
  const Source src(30);
  rp::BatchSchedule sched(30, 30, 1, 0, false, 1);
  rp::PrefetchConfig cfg;
  cfg.columns = src.columns();
  cfg.depth = 0;  // nothing is made until asked for
  const rp::BatchLayout layout = src.layout();
  Blocks blocks;
  const size_t bytes = rp::Prefetcher::block_bytes(sched, layout);
  rp::Prefetcher pf(sched, cfg, blocks.make(1, bytes), rp::Cursor{0, 0});
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::atomic<int> calls{0};
  const bool now = pf.ready_or_notify([&] { calls.fetch_add(1); });
  CHECK(!now);  // depth 0: nothing was made ahead
  for (int i = 0; i < 2000 && calls.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK_EQ(calls.load(), 1);
  CHECK(pf.ready_or_notify([&] { calls.fetch_add(100); }));  // ready: not stored
  rp::PreparedBatch b = pf.take(blocks.fresh(bytes));
  CHECK(!b.end);
  CHECK_EQ(b.plan.rows, uint64_t{30});
  // The end is "ready" too.
  for (int i = 0; i < 2000 && !pf.ready_or_notify([] {}); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(pf.take(nullptr).end);
  CHECK_EQ(calls.load(), 1);
}

TEST(errors_reach_the_consumer_and_reset_clears_them) {
  const Source src(20);
  rp::BatchSchedule sched(20, 5, 1, 0, false, 2);
  rp::PrefetchConfig cfg;
  cfg.columns = src.columns();
  const rp::BatchLayout layout = src.layout();
  Blocks blocks;
  const size_t bytes = rp::Prefetcher::block_bytes(sched, layout);
  rp::Prefetcher pf(sched, cfg, blocks.make(2, bytes), rp::Cursor{0, 0});
  pf.reset(rp::Cursor{0, 20});  // past the end of the epoch: batch_at throws
  CHECK_THROWS(std::out_of_range, pf.take(nullptr));
  CHECK_THROWS(std::out_of_range, pf.take(nullptr));  // until reset
  pf.reset(rp::Cursor{1, 15});
  rp::PreparedBatch b = pf.take(blocks.fresh(bytes));
  CHECK(matches(sched, layout, src, 0, true, rp::Cursor{1, 15}, b));
  CHECK(pf.take(nullptr).end);

  // Construction checks.
  cfg.columns = {{src.a.data(), 19, 3}};
  CHECK_THROWS(std::invalid_argument, rp::Prefetcher(sched, cfg, blocks.make(2, bytes), rp::Cursor{}));
  cfg.columns = src.columns();
  CHECK_THROWS(std::invalid_argument, rp::Prefetcher(sched, cfg, blocks.make(3, bytes), rp::Cursor{}));
}

TEST(stop_while_producing_and_large_pooled_batches) {
  // Large batches go through the pool; destroying mid-stream must join cleanly.
  const uint64_t n = 1 << 16;
  std::vector<uint8_t> big(n * 256);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i ^ (i >> 8));
  rp::ThreadPool pool(2);
  for (int iter = 0; iter < 10; ++iter) {
    rp::BatchSchedule sched(n, 4096, 1, 0, false, rp::BatchSchedule::kForever);
    rp::PrefetchConfig cfg;
    cfg.seed = static_cast<uint64_t>(iter);
    cfg.columns = {{big.data(), n, 256}};
    cfg.depth = 3;
    cfg.pool = &pool;
    rp::BatchLayout layout(std::vector<size_t>{256});
    Blocks blocks;
    const size_t bytes = rp::Prefetcher::block_bytes(sched, layout);
    rp::Prefetcher pf(sched, cfg, blocks.make(3, bytes), rp::Cursor{0, 0});
    rp::Permutation perm(rp::order_key(cfg.seed, 0), n);
    for (int i = 0; i < iter; ++i) {
      rp::PreparedBatch b = pf.take(blocks.fresh(bytes));
      const uint32_t* idx = reinterpret_cast<const uint32_t*>(b.block);
      const uint8_t* rows = b.block + layout.column_offset(4096, 0);
      for (size_t j = 0; j < 4096; j += 511) {
        CHECK_EQ(idx[j], perm(uint64_t{4096} * static_cast<uint64_t>(i) + j));
        CHECK(std::memcmp(rows + j * 256, big.data() + size_t{idx[j]} * 256, 256) == 0);
      }
    }
  }  // each prefetcher is destroyed while its thread may be gathering
}

TEST(bursts_with_many_slots_keep_order) {
  // 16 slots: the producer is woken only when 8 are free, or when the
  // consumer waits; neither may lose or reorder a batch.
  const Source src(200);
  rp::BatchSchedule sched(200, 3, 2, 0, false, 4);
  rp::PrefetchConfig cfg;
  cfg.seed = 5;
  cfg.columns = src.columns();
  cfg.depth = 16;
  const rp::BatchLayout layout = src.layout();
  Blocks blocks;
  const size_t bytes = rp::Prefetcher::block_bytes(sched, layout);
  rp::Prefetcher pf(sched, cfg, blocks.make(16, bytes), rp::Cursor{0, 0});
  rp::Cursor c{0, 0};
  for (int i = 0;; ++i) {
    if (i % 37 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let it fill up
    rp::PreparedBatch b = pf.take(blocks.fresh(bytes));
    REQUIRE(matches(sched, layout, src, 5, true, c, b));
    if (b.end) break;
    c = b.plan.after;
  }
}

TEST(effective_depth_bounds_memory_ahead) {
  using P = rp::Prefetcher;
  CHECK_EQ(P::effective_depth(0, 1 << 20), size_t{0});
  CHECK_EQ(P::effective_depth(2, 64), P::kMinAheadBytes / 64);      // small: raised
  CHECK_EQ(P::effective_depth(2, 1 << 20), size_t{2});              // ordinary: kept
  CHECK_EQ(P::effective_depth(16, size_t{256} << 20), size_t{4});   // 1 GiB ahead at most
  CHECK_EQ(P::effective_depth(16, size_t{4} << 30), size_t{1});     // never below 1
}

RP_TEST_MAIN()
