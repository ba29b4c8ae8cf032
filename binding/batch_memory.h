// The memory of a DataLoader's batches: blocks of an rp::BlockArena, lent to
// the prefetch thread and handed to JavaScript as external ArrayBuffers. A
// block comes back to the arena, already faulted in, when its buffer is
// collected or recycled, so fresh batches cost no page faults.
//
// When JavaScript drops a batch is learnt from a weak reference, which the
// garbage collector clears synchronously: a finalizer alone would come too
// late, as Node defers external buffers' finalizers to the event loop, which
// a synchronous `for...of` never yields to. When no block is free and enough
// batches are out (rp::ScavengePacing), a one-byte ArrayBuffer is allocated
// first: V8 counts young buffers' bytes and, past 32 MiB, scavenges on the
// next ArrayBuffer allocation, which clears the references of batches
// already dropped.
//
// A block is reused only once its buffer is gone, so a buffer must not be
// detached by moving its memory elsewhere: the DataLoader pins every batch
// buffer it hands out (postMessage copies it, transfer() throws).
//
// V8 counts every ArrayBuffer's bytes as external memory, and when that count
// grows 64 MiB past its value at the last full collection it starts a full
// Mark-Compact ("external memory pressure"), which costs about a second in a
// process with a 1 GB heap. A block returns to this pool, not to the OS, so a
// full collection frees nothing by collecting it, and a scavenge already
// reclaims dropped batches. So handed-out bytes, up to hidden_bytes at a time,
// are taken out of V8's count (napi_adjust_external_memory) and given back
// once their buffer is gone. Past hidden_bytes (a caller holding many
// batches) buffers count as any ArrayBuffer does, so V8 collects as it would
// for memory of its own. How the count is adjusted: external_count.h.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "rp/block_arena.h"
#include "rp/scavenge_pacing.h"

namespace rpb {

// A DataLoader's budget of hidden bytes (see above), or three blocks if more:
// what a loop that drops its batches has out between two scavenges (32 MiB,
// up to half this budget where scavenges are costly: rp::ScavengePacing),
// with room for batches that survived into the old generation until a full
// collection frees them.
constexpr size_t kLoaderHiddenBytes = size_t{512} << 20;
// Free memory a closed loader's pool keeps for the next loader (one pool per
// environment, the most recently closed).
constexpr size_t kCachedFreeBytes = size_t{64} << 20;

class BatchMemory {
 public:
  // max_free: see rp::BlockArena. hidden_bytes: handed-out bytes kept out
  // of V8's external-memory count (see above).
  BatchMemory(size_t block_bytes, size_t max_free, size_t hidden_bytes);
  // A DataLoader's memory: the pool a closed loader with blocks of this size
  // left in this environment, if any (its blocks are mapped in already: a
  // new loader's first batches then take no page faults, which cost as much
  // as the copy itself, more on a VM), else a new one. Close() leaves it
  // there in turn, trimmed to kCachedFreeBytes of free blocks.
  static std::unique_ptr<BatchMemory> ForLoader(Napi::Env env, size_t block_bytes, size_t max_free,
                                                size_t hidden_bytes);
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
  // collected); call before the environment goes, with it alive. keep (a
  // loader's memory, closed by close()): leaves the pool and the buffers
  // still out to the next loader of this environment (ForLoader).
  void Close(Napi::Env env, bool keep = false) noexcept;

  size_t block_bytes() const { return pool_->arena.block_bytes(); }
  size_t total_blocks() const { return pool_->arena.total_blocks(); }
  // Handed-out bytes now kept out of V8's count (tests read it).
  size_t hidden_out() const { return pool_->hidden_out; }
  // Bytes handed out between two scavenge pokes now (tests read it).
  size_t poke_bytes() const { return pacing_.bytes; }

  struct Handout;  // one handed-out buffer (internal; public for its finalizer)
  // The arena and the count of hidden bytes, shared with every handed-out
  // buffer's finalizer: outlives this object while JavaScript holds batches.
  struct Pool {
    Pool(size_t block_bytes, size_t max_free, size_t hidden_limit)
        : arena(block_bytes, max_free), hidden_limit(hidden_limit) {}
    rp::BlockArena arena;
    size_t hidden_limit;
    size_t hidden_out = 0;  // bytes of buffers alive and taken out of V8's count
  };

 private:
  explicit BatchMemory(std::shared_ptr<Pool> pool, bool cache_on_close)
      : pool_(std::move(pool)), cache_on_close_(cache_on_close) {}
  void Reclaim(Napi::Env env);
  void Forget(Napi::Env env, uint8_t* block);

  std::shared_ptr<Pool> pool_;
  bool cache_on_close_ = false;  // a loader's: Close() leaves the pool for the next one
  std::unordered_map<uint8_t*, std::shared_ptr<Handout>> out_;
  size_t skip_scans_ = 0;  // scans to skip after one that found nothing
  // Bytes handed out before Acquire() pokes V8 for a scavenge: half the
  // hidden budget at most, as batches kept past a scavenge (held, or
  // promoted) must still fit in it, or they count and V8 starts marking.
  rp::ScavengePacing pacing_{pool_->hidden_limit / 2};
  int64_t last_poke_ns_ = 0;  // steady clock, when the last poke ended

  // Allocates a one-byte ArrayBuffer, so that V8 scavenges if it is due, and
  // paces the next poke by what this one cost.
  void Poke(Napi::Env env);
};

}  // namespace rpb
