// A fixed set of workers parked on a condition variable. parallel_for publishes
// one job at a time (callers are serialised), hands out fixed-size chunks
// through an atomic counter, and the calling thread works on chunks too, so a
// pool of size T runs T-1 workers plus the caller.
#include "rp/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace rp {

namespace {

// Pools this thread is currently working for (a worker's own pool, or a pool
// whose job the calling thread is taking part in). A parallel_for on any of
// them from this thread runs inline: waiting would deadlock, since the job
// that has to finish first is the one this thread is inside.
struct ActiveFrame {
  const void* pool;
  const ActiveFrame* prev;
};
thread_local const ActiveFrame* tl_active = nullptr;

bool is_active(const void* pool) {
  for (const ActiveFrame* f = tl_active; f != nullptr; f = f->prev) {
    if (f->pool == pool) return true;
  }
  return false;
}

struct FrameGuard {
  ActiveFrame frame;
  explicit FrameGuard(const void* pool) : frame{pool, tl_active} {
    tl_active = &frame;
  }
  ~FrameGuard() { tl_active = frame.prev; }
  FrameGuard(const FrameGuard&) = delete;
  FrameGuard& operator=(const FrameGuard&) = delete;
};

// Chunks per participating thread: a few, so one slow chunk (page faults,
// a descheduled worker) does not leave the others idle at the end.
constexpr size_t kChunksPerThread = 4;

}  // namespace

struct ThreadPool::Impl {
  std::vector<std::thread> workers;

  std::mutex submit_mu;  // one parallel_for at a time

  std::mutex mu;  // guards everything below except `next` and `failed`
  std::condition_variable work_cv;
  std::condition_variable done_cv;
  bool stop = false;
  uint64_t generation = 0;  // bumped per job so parked workers see new work
  const std::function<void(size_t, size_t)>* body = nullptr;  // null: no job
  size_t n = 0;
  size_t chunk = 0;
  size_t num_chunks = 0;
  size_t joined = 0;  // workers currently inside the job
  std::exception_ptr error;

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};

  // Claims chunks until none are left. Once a chunk has thrown, the rest are
  // claimed but skipped: the caller gets the exception either way, sooner.
  void run_chunks(const std::function<void(size_t, size_t)>& fn, size_t n_,
                  size_t chunk_, size_t num_chunks_) {
    for (;;) {
      const size_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= num_chunks_) return;
      if (failed.load(std::memory_order_relaxed)) continue;
      const size_t begin = c * chunk_;
      const size_t end = std::min(n_, begin + chunk_);
      try {
        fn(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lk(mu);
        if (!error) error = std::current_exception();
        failed.store(true, std::memory_order_relaxed);
      }
    }
  }

  void shutdown() {
    {
      std::lock_guard<std::mutex> lk(mu);
      stop = true;
    }
    work_cv.notify_all();
    for (auto& t : workers) t.join();
  }

  void worker_main() {
    FrameGuard guard(this);
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lk(mu);
    for (;;) {
      work_cv.wait(lk, [&] { return stop || generation != seen; });
      if (stop) return;
      seen = generation;
      if (body == nullptr) continue;  // woke after that job already finished
      const auto* fn = body;
      const size_t n_ = n, chunk_ = chunk, num_chunks_ = num_chunks;
      ++joined;
      lk.unlock();
      run_chunks(*fn, n_, chunk_, num_chunks_);
      lk.lock();
      if (--joined == 0) done_cv.notify_all();
    }
  }
};

ThreadPool::ThreadPool(size_t threads) : impl_(new Impl) {
  if (threads == 0) threads = std::thread::hardware_concurrency();
  if (threads == 0) threads = 1;
  impl_->workers.reserve(threads - 1);
  try {
    for (size_t i = 0; i + 1 < threads; ++i) {
      impl_->workers.emplace_back([impl = impl_] { impl->worker_main(); });
    }
  } catch (...) {
    impl_->shutdown();  // joins whatever did start
    delete impl_;
    throw;
  }
}

ThreadPool::~ThreadPool() {
  impl_->shutdown();
  delete impl_;
}

size_t ThreadPool::size() const { return impl_->workers.size() + 1; }

void ThreadPool::parallel_for(size_t n, size_t grain,
                              const std::function<void(size_t, size_t)>& body) {
  if (n == 0) return;
  if (grain == 0) grain = 1;
  const size_t threads = size();

  // Chunk size: at least `grain`, and about kChunksPerThread chunks a thread.
  const size_t target = threads * kChunksPerThread;
  size_t chunk = std::max(grain, (n + target - 1) / target);
  const size_t num_chunks = (n + chunk - 1) / chunk;

  // One chunk, no workers, or a nested call from inside this pool's own job:
  // run on this thread.
  if (num_chunks <= 1 || threads == 1 || is_active(impl_)) {
    body(0, n);
    return;
  }

  std::lock_guard<std::mutex> submit(impl_->submit_mu);
  FrameGuard guard(impl_);
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> lk(s.mu);
    s.body = &body;
    s.n = n;
    s.chunk = chunk;
    s.num_chunks = num_chunks;
    s.error = nullptr;
    s.next.store(0, std::memory_order_relaxed);
    s.failed.store(false, std::memory_order_relaxed);
    ++s.generation;
  }
  // Wake only as many workers as there are chunks beyond the caller's first.
  const size_t helpers = std::min(num_chunks - 1, s.workers.size());
  if (helpers == s.workers.size()) {
    s.work_cv.notify_all();
  } else {
    for (size_t i = 0; i < helpers; ++i) s.work_cv.notify_one();
  }

  s.run_chunks(body, n, chunk, num_chunks);

  std::exception_ptr error;
  {
    // Every chunk is claimed once run_chunks returns here; wait for workers
    // still finishing theirs, then retire the job so late wakers skip it.
    std::unique_lock<std::mutex> lk(s.mu);
    s.done_cv.wait(lk, [&] { return s.joined == 0; });
    s.body = nullptr;
    error = s.error;
    s.error = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

ThreadPool& ThreadPool::shared() {
  // Deliberately leaked: joining workers from a static destructor can hang or
  // race other static destructors at exit. Parked workers die with the process.
  static ThreadPool* pool = new ThreadPool(0);
  return *pool;
}

}  // namespace rp
