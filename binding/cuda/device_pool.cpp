#include "device_pool.h"

#include <cuda_runtime_api.h>

#include <map>
#include <mutex>
#include <vector>

namespace rpb {
namespace cuda {
namespace {

struct Pool {
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> free_blocks;
  size_t kept = 0;
};

// Never destroyed: at exit the CUDA runtime tears the context (and these blocks) down itself.
Pool& ThePool() {
  static Pool* pool = new Pool();
  return *pool;
}

}  // namespace

int PoolAllocate(void** ptr, size_t bytes) {
  Pool& pool = ThePool();
  {
    std::lock_guard<std::mutex> lock(pool.mutex);
    auto it = pool.free_blocks.find(bytes);
    if (it != pool.free_blocks.end() && !it->second.empty()) {
      *ptr = it->second.back();
      it->second.pop_back();
      pool.kept -= bytes;
      return 0;
    }
  }
  cudaError_t err = cudaMalloc(ptr, bytes);
  if (err == cudaErrorMemoryAllocation) {
    // Out of memory: give every kept block back, then try once more.
    cudaGetLastError();
    std::lock_guard<std::mutex> lock(pool.mutex);
    for (auto& [size, blocks] : pool.free_blocks) {
      for (void* p : blocks) cudaFree(p);
    }
    pool.free_blocks.clear();
    pool.kept = 0;
    err = cudaMalloc(ptr, bytes);
  }
  return static_cast<int>(err);
}

void PoolRelease(void* ptr, size_t bytes) {
  Pool& pool = ThePool();
  {
    std::lock_guard<std::mutex> lock(pool.mutex);
    if (pool.kept + bytes <= kMaxKept) {
      pool.free_blocks[bytes].push_back(ptr);
      pool.kept += bytes;
      return;
    }
  }
  cudaFree(ptr);
  cudaGetLastError();  // at exit the runtime may be gone already: nothing left to free
}

}  // namespace cuda
}  // namespace rpb
