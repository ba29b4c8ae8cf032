// ThreadPool: coverage of [0, n), exceptions, degenerate grains, nesting, and
// concurrent callers.
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "rp/thread_pool.h"

TEST(sizes) {
  rp::ThreadPool one(1);
  CHECK_EQ(one.size(), size_t{1});
  rp::ThreadPool four(4);
  CHECK_EQ(four.size(), size_t{4});
  CHECK(rp::ThreadPool::shared().size() >= 1);
  CHECK(&rp::ThreadPool::shared() == &rp::ThreadPool::shared());
}

TEST(sum_and_coverage) {
  rp::ThreadPool pool(4);
  for (size_t n : {1, 2, 3, 10, 1000, 100003}) {
    for (size_t grain : {1, 7, 64, 100000}) {
      std::vector<std::atomic<int>> hits(n);
      std::atomic<uint64_t> sum{0};
      pool.parallel_for(n, grain, [&](size_t b, size_t e) {
        CHECK(b < e);
        CHECK(e <= n);
        uint64_t s = 0;
        for (size_t i = b; i < e; ++i) {
          hits[i].fetch_add(1);
          s += i;
        }
        sum += s;
      });
      CHECK_EQ(sum.load(), uint64_t{n} * (n - 1) / 2);
      bool once = true;
      for (auto& h : hits) once = once && h.load() == 1;
      CHECK(once);
    }
  }
}

TEST(chunks_respect_grain) {
  rp::ThreadPool pool(4);
  std::atomic<size_t> chunks{0}, small{0};
  pool.parallel_for(10000, 1000, [&](size_t b, size_t e) {
    ++chunks;
    if (e - b < 1000 && e != 10000) ++small;
  });
  CHECK(chunks.load() <= 10);
  CHECK_EQ(small.load(), size_t{0});
}

TEST(zero_items_and_grain_bigger_than_n) {
  rp::ThreadPool pool(3);
  int calls = 0;
  pool.parallel_for(0, 10, [&](size_t, size_t) { ++calls; });
  CHECK_EQ(calls, 0);
  size_t got_b = 99, got_e = 99;
  pool.parallel_for(5, 1000, [&](size_t b, size_t e) {
    ++calls;
    got_b = b;
    got_e = e;
  });
  CHECK_EQ(calls, 1);
  CHECK_EQ(got_b, size_t{0});
  CHECK_EQ(got_e, size_t{5});
  pool.parallel_for(5, 0, [&](size_t, size_t) {});  // grain 0 treated as 1
}

TEST(exception_propagates) {
  rp::ThreadPool pool(4);
  for (int round = 0; round < 20; ++round) {
    std::string what;
    try {
      pool.parallel_for(1000, 1, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) {
          if (i == 637) throw std::runtime_error("boom at 637");
        }
      });
    } catch (const std::runtime_error& e) {
      what = e.what();
    }
    CHECK_EQ(what, std::string("boom at 637"));
  }
  // The pool still works afterwards.
  std::atomic<size_t> count{0};
  pool.parallel_for(1000, 1, [&](size_t b, size_t e) { count += e - b; });
  CHECK_EQ(count.load(), size_t{1000});
}

TEST(nested_calls_run_inline) {
  rp::ThreadPool pool(4);
  std::atomic<uint64_t> total{0};
  pool.parallel_for(64, 1, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      pool.parallel_for(100, 1, [&](size_t bb, size_t ee) {
        total += ee - bb;
      });
    }
  });
  CHECK_EQ(total.load(), uint64_t{6400});
  // Nested on the shared pool, and a different pool nested inside.
  std::atomic<uint64_t> t2{0};
  rp::ThreadPool::shared().parallel_for(16, 1, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      rp::ThreadPool::shared().parallel_for(
          10, 1, [&](size_t bb, size_t ee) { t2 += ee - bb; });
    }
  });
  CHECK_EQ(t2.load(), uint64_t{160});
}

TEST(concurrent_callers) {
  rp::ThreadPool pool(3);
  std::atomic<uint64_t> total{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int r = 0; r < 50; ++r) {
        pool.parallel_for(1000, 10, [&](size_t b, size_t e) {
          total += e - b;
        });
      }
    });
  }
  for (auto& c : callers) c.join();
  CHECK_EQ(total.load(), uint64_t{4 * 50 * 1000});
}

TEST(pool_destroys_cleanly) {
  for (int i = 0; i < 20; ++i) {
    rp::ThreadPool pool(i % 5 + 1);
    std::atomic<int> n{0};
    pool.parallel_for(100, 1, [&](size_t b, size_t e) { n += int(e - b); });
    CHECK_EQ(n.load(), 100);
  }
}

RP_TEST_MAIN()
