// Microbenchmark (built, not run by ctest; build/native-tests/bench_core after
// `npm run test:native`): Permutation ns/index on one thread, gather_rows
// bandwidth against memcpy of the same bytes, the thread pool's wake-up
// latency, and the cost of a random read by region and page size (the
// profile behind BENCHMARKS.md's gather gap notes).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <thread>
#include <vector>

#include "rp/chunk_index.h"
#include "rp/crc32c.h"
#include "rp/gather.h"
#include "rp/huge_pages.h"
#include "rp/pack.h"
#include "rp/permutation.h"
#include "rp/thread_pool.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

volatile uint32_t g_sink;

// Best of `reps` timings of fn().
template <typename F>
double best_of(int reps, F fn) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    fn();
    best = std::min(best, seconds_since(t0));
  }
  return best;
}

void bench_permutation() {
  const uint64_t sizes[] = {1000000, (uint64_t{1} << 20) + 1, 1u << 20,
                            50000000, uint64_t{1} << 32};
  std::vector<uint32_t> buf(1 << 20);
  for (uint64_t n : sizes) {
    rp::Permutation p(rp::Key{1, 2}, n);
    const size_t count = static_cast<size_t>(std::min<uint64_t>(n, buf.size()));
    double t_fill = best_of(5, [&] { p.fill(0, buf.data(), count); });
    uint32_t acc = 0;
    double t_call = best_of(5, [&] {
      for (size_t i = 0; i < count; ++i) acc ^= p(i);
    });
    g_sink = acc ^ buf[count / 2];
    std::printf("permutation n=%-11llu fill %.2f ns/index   operator() %.2f ns/index\n",
                static_cast<unsigned long long>(n), t_fill / count * 1e9,
                t_call / count * 1e9);
  }
}

void bench_gather(size_t row_bytes, size_t src_rows, size_t count) {
  std::vector<uint8_t> src(src_rows * row_bytes, 1);
  std::vector<uint8_t> dst(count * row_bytes, 2);
  std::vector<uint32_t> idx(count);
  rp::Permutation p(rp::Key{3, 4}, src_rows);
  for (size_t j = 0; j < count; ++j) idx[j] = p(j);
  const double bytes = 2.0 * count * row_bytes;  // read + write

  const int reps = 10;
  double t_memcpy = best_of(reps, [&] {
    std::memcpy(dst.data(), src.data(), count * row_bytes);
  });
  double t_gather = best_of(reps, [&] {
    rp::gather_rows(src.data(), src_rows, row_bytes, idx.data(), count,
                    dst.data(), nullptr);
  });
  // Naive reference: plain per-row memcpy loop, no prefetch or fast paths.
  double t_naive = best_of(reps, [&] {
    for (size_t j = 0; j < count; ++j) {
      std::memcpy(dst.data() + j * row_bytes,
                  src.data() + size_t{idx[j]} * row_bytes, row_bytes);
    }
  });
  rp::ThreadPool& pool = rp::ThreadPool::shared();
  double t_pool = best_of(reps, [&] {
    rp::gather_rows(src.data(), src_rows, row_bytes, idx.data(), count,
                    dst.data(), &pool);
  });
  std::printf(
      "gather row=%zu B, %zu of %zu rows (%.0f MiB batch): memcpy %.1f GB/s | "
      "gather 1 thread %.1f GB/s (%.2fx memcpy) | naive loop %.1f GB/s | "
      "gather pool(%zu) %.1f GB/s\n",
      row_bytes, count, src_rows, count * row_bytes / 1048576.0,
      bytes / t_memcpy / 1e9, bytes / t_gather / 1e9, t_memcpy / t_gather,
      bytes / t_naive / 1e9, pool.size(), bytes / t_pool / 1e9);
}

// Finding a row's chunk: a binary search over the chunk starts (what
// gather_rows_chunked did) against rp::ChunkIndex, for uniform and uneven
// chunks, over shuffled rows (as a batch's are).
void bench_chunk_lookup(const char* what, const std::vector<uint64_t>& sizes) {
  std::vector<uint64_t> first{0};
  for (uint64_t n : sizes) first.push_back(first.back() + n);
  const rp::ChunkIndex index(first.data(), sizes.size());
  const size_t count = 1 << 20;
  std::vector<uint32_t> rows(count);
  rp::Permutation p(rp::Key{5, 6}, first.back());
  for (size_t j = 0; j < count; ++j) rows[j] = p(j % first.back());
  uint64_t acc = 0;
  const double t_search = best_of(7, [&] {
    for (size_t j = 0; j < count; ++j) {
      acc += static_cast<uint64_t>(std::upper_bound(first.begin(), first.end(), uint64_t{rows[j]}) - first.begin());
    }
  });
  const double t_index = best_of(7, [&] {
    for (size_t j = 0; j < count; ++j) acc += index.chunk(rows[j]);
  });
  g_sink = static_cast<uint32_t>(acc);
  std::printf("chunk lookup %-34s binary search %.2f ns/row | ChunkIndex (%s) %.2f ns/row\n", what,
              t_search / count * 1e9, index.uniform() ? "division" : "buckets", t_index / count * 1e9);
}

void bench_chunk_lookups() {
  bench_chunk_lookup("16 x 16384 rows", std::vector<uint64_t>(16, 16384));
  bench_chunk_lookup("1000 x 1000 rows, last 17", [] {
    std::vector<uint64_t> v(1000, 1000);
    v.back() = 17;
    return v;
  }());
  std::vector<uint64_t> uneven;
  uint64_t s = 7;
  for (int k = 0; k < 1000; ++k) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    uneven.push_back(500 + (s >> 40) % 1500);
  }
  bench_chunk_lookup("1000 uneven (500..2000 rows)", uneven);
  uneven.resize(17);
  bench_chunk_lookup("17 uneven (500..2000 rows)", uneven);
}

// rp::pack_concat in cache: 256 rows of 300 Int32 tokens into batches of
// 8 × 2048, against a memcpy of the same tokens.
void bench_pack() {
  const size_t rows = 256;
  std::vector<int32_t> offsets(rows + 1, 0);
  for (size_t i = 0; i < rows; ++i) offsets[i + 1] = offsets[i] + 300;
  std::vector<int32_t> values(static_cast<size_t>(offsets[rows]), 7);
  const size_t length = 2048;
  const size_t capacity = 8 * length;
  std::vector<int32_t> tokens(capacity), segments(capacity), positions(capacity), copy(values.size());
  const rp::PackRows in{reinterpret_cast<const uint8_t*>(values.data()), values.size(), offsets.data(), rows, 4};
  const rp::PackOut out{reinterpret_cast<uint8_t*>(tokens.data()), segments.data(), positions.data(), length, capacity};
  const double t_pack = best_of(20, [&] {
    rp::PackCursor cursor;
    int32_t segment = 0;
    while (cursor.row < rows) {
      uint64_t at = 0;
      rp::pack_concat(in, &cursor, out, &at, &segment);
    }
  });
  const double t_copy = best_of(20, [&] { std::memcpy(copy.data(), values.data(), values.size() * 4); });
  g_sink = static_cast<uint32_t>(tokens[5] + copy[5]);
  const double bytes = values.size() * 4.0;
  std::printf("pack_concat in cache: %.2f GB/s of tokens | memcpy of the tokens %.2f GB/s (%.2fx)\n", bytes / t_pack / 1e9,
              bytes / t_copy / 1e9, t_copy / t_pack);
}

void bench_crc() {
  std::vector<uint8_t> buf(16 << 20, 7);
  double t_hw = best_of(5, [&] { g_sink = rp::crc32c(buf.data(), buf.size()); });
  double t_sw =
      best_of(5, [&] { g_sink = rp::crc32c_portable(buf.data(), buf.size()); });
  std::printf("crc32c 16 MiB: dispatch %.2f GB/s, portable %.2f GB/s\n",
              buf.size() / t_hw / 1e9, buf.size() / t_sw / 1e9);
}

// Rough core clock: a chain of dependent adds runs at one per cycle. Best of
// many short bursts, so CPU-quota throttling of a shared machine is skipped.
void report_clock() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  double best = 1e30;
  const long iters = 1000000;
  for (int r = 0; r < 100; ++r) {
    unsigned long x = 0;
    auto t0 = Clock::now();
    for (long i = 0; i < iters; ++i) {
      asm volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0"
                   : "+r"(x));
    }
    best = std::min(best, seconds_since(t0));
  }
  std::printf("core clock ~%.2f GHz (dependent-add chain)\n",
              4.0 * iters / best / 1e9);
#endif
}

// Time from parallel_for's call until a parked worker starts a chunk: what a
// small job pays to use the pool (gather keeps batches <= 1 MiB off it).
void bench_pool_wake() {
  rp::ThreadPool& pool = rp::ThreadPool::shared();
  if (pool.size() < 2) return;
  std::vector<double> lat;
  int helped = 0;
  const int jobs = 200;
  for (int rep = 0; rep < jobs; ++rep) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // workers park
    const auto caller = std::this_thread::get_id();
    std::atomic<bool> seen{false};
    Clock::time_point woke{};
    const auto t0 = Clock::now();
    pool.parallel_for(8, 1, [&](size_t, size_t) {
      if (std::this_thread::get_id() != caller && !seen.exchange(true)) woke = Clock::now();
      const auto s = Clock::now();
      while (seconds_since(s) < 50e-6) {
      }
    });
    if (seen) {
      ++helped;
      lat.push_back(std::chrono::duration<double>(woke - t0).count());
    }
  }
  std::sort(lat.begin(), lat.end());
  if (lat.empty()) {
    std::printf("pool wake: no worker joined any of %d jobs of 8 x 50 us\n", jobs);
    return;
  }
  std::printf("pool wake: a worker joined %d of %d jobs of 8 x 50 us; wake latency p50 %.1f us, p90 %.1f us\n",
              helped, jobs, lat[lat.size() / 2] * 1e6, lat[lat.size() * 9 / 10] * 1e6);
}

// Independent random 64-byte reads (one load per line, prefetched 16 ahead)
// spread over regions of growing size, from 4 KiB and from 2 MiB pages: the
// cost of a random row that gather cannot hide. It grows with the region as
// the TLB and page-walk caches stop covering it.
void bench_random_reads() {
  const size_t max_bytes = size_t{1} << 30;
  const size_t n = size_t{1} << 20;
  std::vector<uint32_t> lines(n);
  uint64_t s = 5;
  for (bool huge : {false, true}) {
    uint8_t* mem;
    if (huge) {
      mem = static_cast<uint8_t*>(rp::allocate_huge_pages(max_bytes));
    } else {
      mem = static_cast<uint8_t*>(std::malloc(max_bytes));
    }
    std::memset(mem, 1, max_bytes);
    std::printf("random 64 B reads, %s pages:", huge ? "2 MiB (hugePageBuffer)" : "4 KiB (malloc)");
    for (size_t region : {size_t{4} << 20, size_t{64} << 20, size_t{256} << 20, max_bytes}) {
      for (auto& l : lines) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        l = static_cast<uint32_t>((s >> 33) % (region / 64));
      }
      uint64_t acc = 0;
      const double t = best_of(3, [&] {
        for (size_t i = 0; i < n; ++i) {
          __builtin_prefetch(mem + size_t{lines[(i + 16) & (n - 1)]} * 64, 0, 0);
          acc += mem[size_t{lines[i]} * 64];
        }
      });
      g_sink = static_cast<uint32_t>(acc);
      std::printf("  %zu MiB %.1f ns", region >> 20, t / n * 1e9);
    }
    std::printf("\n");
    if (huge) {
      rp::free_huge_pages(mem, max_bytes);
    } else {
      std::free(mem);
    }
  }
}

// gather-small: shuffled batches of 8192 rows from a 1 GiB source (2 MiB
// pages, as the loader's collapsed default path has them; `ordinary` for
// 4 KiB pages), row sizes 8 B-4 KiB, each batch into the next of 8 rotating
// destinations and every batch's rows fresh, as a loader's are. Read + write
// GB/s, best of 5 (and by thread CPU time, which a shared machine's other
// processes do not inflate), for gather_rows on one thread and on the shared pool,
// beside a plain per-row memcpy loop and a 256 MiB memcpy in the same run.
// CPU time of this thread: unlike wall time, it does not count the time
// other processes of a shared machine held the core.
double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

size_t anon_huge_mib() {
  FILE* f = std::fopen("/proc/self/smaps_rollup", "r");
  if (f == nullptr) return 0;
  char line[256];
  size_t kb = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "AnonHugePages: %zu kB", &kb) == 1) break;
  }
  std::fclose(f);
  return kb >> 10;
}

void bench_gather_small(bool huge, const std::vector<size_t>& sizes) {
  const size_t src_bytes = size_t{1} << 30;
  const size_t batch = 8192;
  const size_t ring = 8;
  uint8_t* src;
  if (huge) {
    src = static_cast<uint8_t*>(rp::allocate_huge_pages(src_bytes));
  } else {
    src = static_cast<uint8_t*>(std::malloc(src_bytes));
  }
  std::memset(src, 1, src_bytes);
  // As the loader does for a big in-memory source: huge pages now, where the
  // kernel can (the memset may have faulted some in as 4 KiB pages).
  const char* advice = "none";
  if (huge) {
    switch (rp::advise_huge_pages(src, src_bytes, true)) {
      case rp::HugePageAdvice::kCollapsed: advice = "collapsed"; break;
      case rp::HugePageAdvice::kAdvised: advice = "advised"; break;
      default: break;
    }
  }
  const size_t dst_bytes = ring * batch * 4096;
  uint8_t* dst = static_cast<uint8_t*>(rp::allocate_huge_pages(dst_bytes));
  std::memset(dst, 2, dst_bytes);
  rp::ThreadPool& pool = rp::ThreadPool::shared();
  auto median5 = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  {
    const size_t n = size_t{256} << 20;
    std::vector<double> t;
    for (int r = 0; r < 5; ++r) {
      auto t0 = Clock::now();
      std::memcpy(dst, src + (r & 1) * n, n);
      t.push_back(seconds_since(t0));
    }
    std::printf("gather-small (%s pages, advice %s, %zu MiB AnonHugePages in the process; 1 GiB source, batches of "
                "%zu): memcpy 256 MiB %.2f GB/s; pool %zu threads\n",
                huge ? "2 MiB" : "4 KiB", advice, anon_huge_mib(), batch, 2.0 * n / median5(t) / 1e9, pool.size());
  }
  std::vector<uint32_t> idx;
  uint64_t seed = 1;
  for (size_t rb : sizes) {
    const size_t src_rows = src_bytes / rb;
    // At least 64 MiB of rows a repetition, at least 16 batches.
    const size_t batches = std::max<size_t>(16, (size_t{64} << 20) / (batch * rb));
    idx.resize(batches * batch);
    rp::Permutation p(rp::Key{static_cast<uint32_t>(seed++), 9}, src_rows);
    p.fill(0, idx.data(), idx.size());
    double cpu_best = 1e30;  // thread CPU time of the one-thread gather
    auto run = [&](int how) {
      std::vector<double> t;
      for (int r = 0; r < 5; ++r) {
        const double c0 = thread_cpu_seconds();
        auto t0 = Clock::now();
        for (size_t b = 0; b < batches; ++b) {
          const uint32_t* ix = idx.data() + b * batch;
          uint8_t* d = dst + (b % ring) * batch * 4096;
          if (how == 2) {
            for (size_t j = 0; j < batch; ++j) std::memcpy(d + j * rb, src + size_t{ix[j]} * rb, rb);
          } else {
            rp::gather_rows(src, src_rows, rb, ix, batch, d, how == 1 ? &pool : nullptr);
          }
        }
        t.push_back(seconds_since(t0));
        if (how == 0) cpu_best = std::min(cpu_best, thread_cpu_seconds() - c0);
      }
      // Best of 5: on a shared machine the other timings are preemptions.
      return 2.0 * batches * batch * rb / *std::min_element(t.begin(), t.end()) / 1e9;
    };
    const double one = run(0), pooled = run(1), naive = run(2);
    std::printf("gather-small row %4zu B: gather 1 thread %6.2f GB/s (%6.2f by thread CPU time) | gather pool %6.2f GB/s | "
                "memcpy loop %6.2f GB/s\n",
                rb, one, 2.0 * batches * batch * rb / cpu_best / 1e9, pooled, naive);
  }
  if (huge) {
    rp::free_huge_pages(src, src_bytes);
  } else {
    std::free(src);
  }
  rp::free_huge_pages(dst, dst_bytes);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "gather-small") == 0) {
    // gather-small [ordinary] [row bytes...]
    int a = 2;
    const bool ordinary = argc > a && std::strcmp(argv[a], "ordinary") == 0;
    if (ordinary) ++a;
    std::vector<size_t> sizes;
    for (; a < argc; ++a) sizes.push_back(std::strtoull(argv[a], nullptr, 10));
    if (sizes.empty()) sizes = {8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};
    for (size_t rb : sizes) {
      if (rb == 0 || rb > 4096) {
        std::fprintf(stderr, "gather-small: row bytes 1..4096\n");
        return 2;
      }
    }
    bench_gather_small(!ordinary, sizes);
    return 0;
  }
  if (argc > 1 && std::strcmp(argv[1], "chunks") == 0) {
    bench_chunk_lookups();
    return 0;
  }
  if (argc > 1 && std::strcmp(argv[1], "pack") == 0) {
    bench_pack();
    return 0;
  }
  report_clock();
  bench_permutation();
  // Batch of 32 MiB drawn from a 256 MiB source: well outside cache.
  bench_gather(1024, 262144, 32768);
  // Same but cache-resident (4 MiB batch from 8 MiB source).
  bench_gather(1024, 8192, 4096);
  bench_gather(64, 4u << 20, 1u << 19);
  bench_gather(4096, 65536, 8192);
  bench_chunk_lookups();
  bench_pack();
  bench_crc();
  bench_pool_wake();
  bench_random_reads();
  return 0;
}
