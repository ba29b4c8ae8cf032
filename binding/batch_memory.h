// The memory of a DataLoader's batches: blocks of an rp::BlockArena, lent to
// the prefetch thread and handed to JavaScript as external ArrayBuffers. A
// block comes back to the arena, already faulted in, when its buffer is
// collected or recycled, so fresh batches cost no page faults.
//
// When JavaScript drops a batch is learnt from a weak reference, which the
// garbage collector clears synchronously: a finalizer alone would come too
// late, as Node defers external buffers' finalizers to the event loop, which
// a synchronous `for...of` never yields to. When no block is free, a
// one-byte ArrayBuffer is allocated first: V8 counts external buffers' bytes
// and, past its threshold, scavenges on the next ArrayBuffer allocation,
// which clears the references of batches already dropped.
//
// A block is reused only once its buffer is gone, so a buffer must not be
// detached by moving its memory elsewhere: the DataLoader pins every batch
// buffer it hands out (postMessage copies it, transfer() throws).
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "rp/block_arena.h"

namespace rpb {

class BatchMemory {
 public:
  // max_free: see rp::BlockArena.
  explicit BatchMemory(size_t block_bytes, size_t max_free = SIZE_MAX);
  ~BatchMemory();
  BatchMemory(const BatchMemory&) = delete;
  BatchMemory& operator=(const BatchMemory&) = delete;

  // A block for the prefetcher: a free one, else one whose batch was
  // collected, else new memory.
  uint8_t* Acquire(Napi::Env env);
  // Gives back a block from Acquire() that was never handed out.
  void Release(uint8_t* block);
  // The block's first `bytes` (all of it by default) as an external
  // ArrayBuffer; the block returns to the arena when the buffer is collected,
  // or by Recycle().
  Napi::ArrayBuffer HandOut(Napi::Env env, uint8_t* block, size_t bytes = SIZE_MAX);
  // Takes a handed-out buffer back at once and detaches it (its views become
  // empty). RP_INVALID_ARGUMENT for any other buffer, RP_BUFFER_DETACHED for
  // one detached meanwhile.
  void Recycle(Napi::Env env, Napi::Value buffer);
  // Forgets the handed-out buffers (their blocks return when they are
  // collected); call before the environment goes, with it alive.
  void Close(Napi::Env env) noexcept;

  size_t block_bytes() const { return arena_->block_bytes(); }
  size_t total_blocks() const { return arena_->total_blocks(); }

  struct Handout;  // one handed-out buffer (internal; public for its finalizer)

 private:
  void Reclaim(Napi::Env env);
  void Forget(Napi::Env env, uint8_t* block);

  // Shared with every handed-out buffer's finalizer: outlives this object
  // while JavaScript holds batches.
  std::shared_ptr<rp::BlockArena> arena_;
  std::unordered_map<uint8_t*, std::shared_ptr<Handout>> out_;
  size_t skip_scans_ = 0;  // scans to skip after one that found nothing
};

}  // namespace rpb
