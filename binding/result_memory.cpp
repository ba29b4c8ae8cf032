#include "result_memory.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "batch_memory.h"
#include "external_memory.h"
#include "modules.h"

namespace rpb {
namespace {

// One environment's pool: BatchMemory per rounded size, most recent last.
struct Pool {
  std::vector<std::pair<size_t, std::unique_ptr<BatchMemory>>> sizes;
  size_t forgotten_blocks = 0;  // blocks of sizes no longer served
  Napi::Env env;
  explicit Pool(Napi::Env e) : env(e) {}
  ~Pool() {
    for (auto& entry : sizes) entry.second->Close(env);
  }

  BatchMemory& For(size_t rounded) {
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (sizes[i].first != rounded) continue;
      std::rotate(sizes.begin() + i, sizes.begin() + i + 1, sizes.end());
      return *sizes.back().second;
    }
    if (sizes.size() == kPoolSizes) {
      // Its handed-out blocks still return to their arena, which they keep alive.
      forgotten_blocks += sizes.front().second->total_blocks();
      sizes.front().second->Close(env);
      sizes.erase(sizes.begin());
    }
    sizes.emplace_back(rounded, std::make_unique<BatchMemory>(rounded, kPoolFreeBytes / rounded, kPoolFreeBytes));
    return *sizes.back().second;
  }
};

// Pools by environment (workers have their own); each is deleted by its
// environment's cleanup hook, with the environment still alive.
std::mutex& PoolsMutex() {
  static auto* mu = new std::mutex;
  return *mu;
}
std::unordered_map<napi_env, Pool*>& Pools() {
  static auto* pools = new std::unordered_map<napi_env, Pool*>;
  return *pools;
}

void DeletePool(void* arg) {
  auto* pool = static_cast<Pool*>(arg);
  {
    std::lock_guard<std::mutex> lock(PoolsMutex());
    Pools().erase(pool->env);
  }
  delete pool;
}

Pool& PoolOf(Napi::Env env) {
  std::lock_guard<std::mutex> lock(PoolsMutex());
  Pool*& pool = Pools()[env];
  if (pool == nullptr) {
    pool = new Pool(env);
    napi_add_env_cleanup_hook(env, DeletePool, pool);
  }
  return *pool;
}

// resultBlocks() -> distinct blocks the pool has made (reuse shows as a small count).
Napi::Value ResultBlocks(const Napi::CallbackInfo& info) {
  const Pool& pool = PoolOf(info.Env());
  size_t blocks = pool.forgotten_blocks;
  for (const auto& entry : pool.sizes) blocks += entry.second->total_blocks();
  return Napi::Number::New(info.Env(), static_cast<double>(blocks));
}

}  // namespace

void InitResultMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("pooledResultBytes", static_cast<double>(kPooledResultBytes));
  exports.Set("resultBlocks", Napi::Function::New(env, ResultBlocks));
}

Napi::ArrayBuffer NewResultBuffer(Napi::Env env, size_t bytes) {
  if (bytes < kPooledResultBytes || bytes > kMaxExternalBytes) return Napi::ArrayBuffer::New(env, bytes);
  const size_t rounded = (bytes + kPooledResultBytes - 1) / kPooledResultBytes * kPooledResultBytes;
  BatchMemory& memory = PoolOf(env).For(rounded);
  return memory.HandOut(env, memory.Acquire(env), bytes);
}

}  // namespace rpb
