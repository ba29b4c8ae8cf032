#include "batch_memory.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <mutex>
#include <unordered_map>
#include <string>
#include <vector>

#if defined(_WIN32)
#include <windows.h>
#endif

#include "args.h"
#include "external_count.h"

namespace rpb {

struct BatchMemory::Handout {
  std::shared_ptr<Pool> pool;
  uint8_t* block = nullptr;
  napi_ref ref = nullptr;  // weak; cleared when the buffer is collected
  bool adopted = false;    // handed out by a closed loader whose pool this one took
  size_t hidden = 0;       // bytes taken out of V8's count for this buffer
  bool returned = false;

  void Return(napi_env env) {
    if (returned) return;
    returned = true;
    if (hidden > 0) {
      pool->hidden_out -= hidden;
      OweExternal(env, hidden);
    }
    pool->arena.release(block);
  }
};

namespace {

// The external buffer's finalizer: runs after V8 freed the buffer (on the
// event loop, or when the environment ends), possibly long after the weak
// reference already returned the block; then it does nothing.
void Finalize(napi_env env, void* /*data*/, void* hint) {
  auto* handout = static_cast<std::shared_ptr<BatchMemory::Handout>*>(hint);
  (*handout)->Return(env);
  delete handout;
}

}  // namespace

BatchMemory::BatchMemory(size_t block_bytes, size_t max_free, size_t hidden_bytes)
    : pool_(std::make_shared<Pool>(block_bytes, max_free, hidden_bytes)) {}

BatchMemory::~BatchMemory() = default;

namespace {

// What the last closed loader left, by environment (workers have their own):
// its pool, and its batches still out (weak references, so the next loader
// reclaims them as its own once they are collected).
struct Left {
  std::shared_ptr<BatchMemory::Pool> pool;
  std::unordered_map<uint8_t*, std::shared_ptr<BatchMemory::Handout>> out;
};
std::mutex& CacheMutex() {
  static auto* mu = new std::mutex;
  return *mu;
}
std::unordered_map<napi_env, Left>& Cache() {
  static auto* cache = new std::unordered_map<napi_env, Left>;
  return *cache;
}
void DeleteRefs(napi_env env, Left& left) {
  for (const auto& entry : left.out) napi_delete_reference(env, entry.second->ref);
  left.out.clear();
}
void DropCached(void* arg) {
  auto env = static_cast<napi_env>(arg);
  Left left;  // freed outside the lock
  {
    std::lock_guard<std::mutex> lock(CacheMutex());
    auto it = Cache().find(env);
    if (it == Cache().end()) return;
    left = std::move(it->second);
    Cache().erase(it);
  }
  DeleteRefs(env, left);
}

}  // namespace

std::unique_ptr<BatchMemory> BatchMemory::ForLoader(Napi::Env env, size_t block_bytes, size_t max_free,
                                                    size_t hidden_bytes) {
  Left left;
  {
    std::lock_guard<std::mutex> lock(CacheMutex());
    auto it = Cache().find(env);
    const size_t rounded = (block_bytes + rp::BlockArena::kAlign - 1) / rp::BlockArena::kAlign * rp::BlockArena::kAlign;
    if (it != Cache().end() && it->second.pool && it->second.pool->arena.block_bytes() == rounded) {
      left = std::move(it->second);  // the hook stays: the slot is refilled on close
      it->second = Left{};
    }
  }
  if (left.pool) {
    left.pool->arena.trim(max_free);  // back to this loader's cap
    left.pool->hidden_limit = hidden_bytes;
  } else {
    left.pool = std::make_shared<Pool>(block_bytes, max_free, hidden_bytes);
  }
  auto memory = std::unique_ptr<BatchMemory>(new BatchMemory(std::move(left.pool), true));
  for (auto& entry : left.out) entry.second->adopted = true;  // not this loader's to recycle
  memory->out_ = std::move(left.out);
  return memory;
}

namespace {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of this thread: what a scavenge costs here, leaving out the time
// its parallel phase waits for a core our own threads hold (2-4 ms of wall
// time for 0.2-0.4 ms of CPU with 32 MiB batches on 2 cores, against 4-5 ms
// of CPU with a 1 GiB heap).
int64_t ThreadCpuNs() {
#if defined(_WIN32)
  FILETIME created, exited, kernel, user;
  if (!GetThreadTimes(GetCurrentThread(), &created, &exited, &kernel, &user)) return SteadyNs();
  const auto ticks = [](FILETIME t) { return (static_cast<int64_t>(t.dwHighDateTime) << 32) | t.dwLowDateTime; };
  return (ticks(kernel) + ticks(user)) * 100;
#else
  timespec t;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0) return SteadyNs();
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
#endif
}

}  // namespace

// The poke, paced by what its scavenge costs this thread: rp::ScavengePacing.
void BatchMemory::Poke(Napi::Env env) {
  const int64_t cpu = ThreadCpuNs();
  napi_value poke;
  void* unused;
  napi_create_arraybuffer(env, 1, &unused, &poke);  // see the header
  const int64_t cost = ThreadCpuNs() - cpu;
  const int64_t end = SteadyNs();
  if (last_poke_ns_ != 0) pacing_.update(cost, end - last_poke_ns_);
  last_poke_ns_ = end;
}

uint8_t* BatchMemory::Acquire(Napi::Env env) {
  if (pool_->arena.free_blocks() == 0 && !out_.empty()) {
    if (skip_scans_ > 0) {
      --skip_scans_;
    } else {
      if (out_.size() * pool_->arena.block_bytes() >= pacing_.bytes) Poke(env);
      Reclaim(env);
      // Nothing collected: the caller keeps its batches. Scan less often, so
      // holding many batches does not make every take() walk them all.
      if (pool_->arena.free_blocks() == 0) skip_scans_ = std::max<size_t>(1, out_.size() / 4);
    }
  }
  return pool_->arena.acquire();
}

void BatchMemory::Release(uint8_t* block) { pool_->arena.release(block); }

void BatchMemory::Reclaim(Napi::Env env) {
  std::vector<uint8_t*> gone;
  for (const auto& [block, handout] : out_) {
    napi_value value = nullptr;
    if (napi_get_reference_value(env, handout->ref, &value) == napi_ok && value == nullptr) {
      gone.push_back(block);
    }
  }
  for (uint8_t* block : gone) {
    out_[block]->Return(env);
    Forget(env, block);
  }
}

void BatchMemory::Forget(Napi::Env env, uint8_t* block) {
  auto it = out_.find(block);
  napi_delete_reference(env, it->second->ref);
  out_.erase(it);
}

Napi::ArrayBuffer BatchMemory::HandOut(Napi::Env env, uint8_t* block, size_t bytes) {
  auto handout = std::make_shared<Handout>();
  handout->pool = pool_;
  handout->block = block;
  auto* hint = new std::shared_ptr<Handout>(handout);
  const size_t length = std::min(bytes, pool_->arena.block_bytes());
  napi_value buffer = nullptr;
  napi_status status = napi_create_external_arraybuffer(env, block, length, Finalize, hint, &buffer);
  if (status != napi_ok) {
    Finalize(env, block, hint);
    NAPI_THROW_IF_FAILED(env, status, Napi::ArrayBuffer());
  }
  status = napi_create_reference(env, buffer, 0, &handout->ref);
  NAPI_THROW_IF_FAILED(env, status, Napi::ArrayBuffer());  // the finalizer returns the block
  // V8 has just counted `length` more bytes: take them out again while the
  // pool's budget allows.
  Pool& pool = *pool_;
  if (pool.hidden_out + length <= pool.hidden_limit && HideExternal(env, length)) {
    handout->hidden = length;
    pool.hidden_out += length;
  }
  out_[block] = std::move(handout);
  return Napi::ArrayBuffer(env, buffer);
}

void BatchMemory::Recycle(Napi::Env env, Napi::Value buffer) {
  if (!buffer.IsArrayBuffer()) {
    ThrowType(env, "batch must be a batch returned by this DataLoader, got " + Describe(buffer));
  }
  Napi::ArrayBuffer ab = buffer.As<Napi::ArrayBuffer>();
  if (ab.IsDetached()) {
    ThrowType(env, "batch cannot be recycled: its buffer is detached (already recycled, or "
                   "transferred away)",
              kBufferDetached);
  }
  auto it = out_.find(static_cast<uint8_t*>(ab.Data()));
  napi_value current = nullptr;
  bool same = false;
  if (it != out_.end() && !it->second->adopted &&
      napi_get_reference_value(env, it->second->ref, &current) == napi_ok &&
      current != nullptr) {
    napi_strict_equals(env, current, buffer, &same);
  }
  if (!same) {
    ThrowType(env, "batch was not returned by this DataLoader, or was already recycled");
  }
  // Its views must not reach the block once it is lent again. A buffer that
  // cannot be detached (a detach key) is left to the garbage collector.
  if (napi_detach_arraybuffer(env, buffer) != napi_ok) {
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    return;
  }
  it->second->Return(env);
  Forget(env, it->first);
}

void BatchMemory::Close(Napi::Env env, bool keep) noexcept {
  if (!cache_on_close_ || !keep) {
    for (const auto& entry : out_) napi_delete_reference(env, entry.second->ref);
    out_.clear();
    return;
  }
  cache_on_close_ = false;
  pool_->arena.trim(std::max<size_t>(1, kCachedFreeBytes / pool_->arena.block_bytes()));
  Left replaced;  // freed outside the lock
  bool cached = false;
  try {
    std::lock_guard<std::mutex> lock(CacheMutex());
    auto [it, added] = Cache().try_emplace(env);
    if (!added || napi_add_env_cleanup_hook(env, DropCached, static_cast<napi_env>(env)) == napi_ok) {
      replaced = std::move(it->second);
      it->second = Left{pool_, std::move(out_)};
      cached = true;
    } else {
      Cache().erase(it);
    }
  } catch (...) {
  }
  DeleteRefs(env, replaced);
  if (!cached) {
    for (const auto& entry : out_) napi_delete_reference(env, entry.second->ref);
  }
  out_.clear();
}

}  // namespace rpb
