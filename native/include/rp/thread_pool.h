// A persistent pool of worker threads, so hot paths never pay thread start-up.
#pragma once
#include <cstddef>
#include <functional>

namespace rp {

class ThreadPool {
 public:
  // threads == 0 means std::thread::hardware_concurrency().
  explicit ThreadPool(size_t threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Threads that run work: the workers plus the calling thread.
  size_t size() const;

  // Calls body(begin, end) over [0, n) split into chunks of at least `grain`
  // items, on the pool and the calling thread; returns when all are done.
  // Rethrows the first exception a chunk threw. Concurrent callers are
  // serialised; a call from inside a job of this pool runs inline.
  void parallel_for(size_t n, size_t grain,
                    const std::function<void(size_t, size_t)>& body);

  // The process-wide pool.
  static ThreadPool& shared();

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace rp
