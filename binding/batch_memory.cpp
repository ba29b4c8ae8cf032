#include "batch_memory.h"

#include <algorithm>
#include <string>
#include <vector>

#include "args.h"

namespace rpb {

struct BatchMemory::Handout {
  std::shared_ptr<rp::BlockArena> arena;
  uint8_t* block = nullptr;
  napi_ref ref = nullptr;  // weak; cleared when the buffer is collected
  bool returned = false;

  void Return() {
    if (returned) return;
    returned = true;
    arena->release(block);
  }
};

namespace {

// The external buffer's finalizer: runs later (on the event loop, or when the
// environment ends), possibly long after the weak reference already returned
// the block; then it does nothing.
void Finalize(napi_env /*env*/, void* /*data*/, void* hint) {
  auto* handout = static_cast<std::shared_ptr<BatchMemory::Handout>*>(hint);
  (*handout)->Return();
  delete handout;
}

}  // namespace

BatchMemory::BatchMemory(size_t block_bytes, size_t max_free)
    : arena_(std::make_shared<rp::BlockArena>(block_bytes, max_free)) {}

BatchMemory::~BatchMemory() = default;

uint8_t* BatchMemory::Acquire(Napi::Env env) {
  if (arena_->free_blocks() == 0 && !out_.empty()) {
    if (skip_scans_ > 0) {
      --skip_scans_;
    } else {
      napi_value poke;
      void* unused;
      napi_create_arraybuffer(env, 1, &unused, &poke);  // see the header
      Reclaim(env);
      // Nothing collected: the caller keeps its batches. Scan less often, so
      // holding many batches does not make every take() walk them all.
      if (arena_->free_blocks() == 0) skip_scans_ = std::max<size_t>(1, out_.size() / 4);
    }
  }
  return arena_->acquire();
}

void BatchMemory::Release(uint8_t* block) { arena_->release(block); }

void BatchMemory::Reclaim(Napi::Env env) {
  std::vector<uint8_t*> gone;
  for (const auto& [block, handout] : out_) {
    napi_value value = nullptr;
    if (napi_get_reference_value(env, handout->ref, &value) == napi_ok && value == nullptr) {
      gone.push_back(block);
    }
  }
  for (uint8_t* block : gone) {
    out_[block]->Return();
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
  handout->arena = arena_;
  handout->block = block;
  auto* hint = new std::shared_ptr<Handout>(handout);
  napi_value buffer = nullptr;
  napi_status status = napi_create_external_arraybuffer(env, block, std::min(bytes, arena_->block_bytes()), Finalize,
                                                        hint, &buffer);
  if (status != napi_ok) {
    Finalize(env, block, hint);
    NAPI_THROW_IF_FAILED(env, status, Napi::ArrayBuffer());
  }
  status = napi_create_reference(env, buffer, 0, &handout->ref);
  NAPI_THROW_IF_FAILED(env, status, Napi::ArrayBuffer());  // the finalizer returns the block
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
  if (it != out_.end() && napi_get_reference_value(env, it->second->ref, &current) == napi_ok &&
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
  it->second->Return();
  Forget(env, it->first);
}

void BatchMemory::Close(Napi::Env env) noexcept {
  for (const auto& entry : out_) napi_delete_reference(env, entry.second->ref);
  out_.clear();
}

}  // namespace rpb
