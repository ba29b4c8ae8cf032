// Batch memory that costs nothing to reuse: blocks of one size, carved from
// huge-page-advised chunks (rp::allocate_huge_pages), handed out and taken
// back by their owner. Fresh memory costs a page fault and a kernel zeroing
// per page on its first touch, about as much as copying the batch itself; a
// block taken back is already mapped, so later batches written into it pay
// neither. Memory goes back to the OS when the arena is destroyed, or at
// release() beyond max_free free blocks (blocks of a chunk of their own only).
//
// Not thread-safe: one thread acquires and releases (the Node binding's JS
// thread); other threads may only read and write blocks they were lent.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rp {

class BlockArena {
 public:
  static constexpr size_t kAlign = 64;  // every block starts 64-byte aligned

  // block_bytes > 0 (rounded up to kAlign). A block of 2 MiB or more has a
  // chunk of its own; such a block released while max_free blocks are
  // already free goes back to the OS instead.
  explicit BlockArena(size_t block_bytes, size_t max_free = SIZE_MAX);
  ~BlockArena();
  BlockArena(const BlockArena&) = delete;
  BlockArena& operator=(const BlockArena&) = delete;

  // A released block, or else one never used before; throws std::bad_alloc
  // when the OS refuses.
  uint8_t* acquire();
  // Gives back a block from acquire() (not twice).
  void release(uint8_t* block);
  // Gives free blocks past `keep` back to the OS (blocks of a chunk of their
  // own only), and keeps at most `keep` free from now on.
  void trim(size_t keep);

  size_t block_bytes() const { return block_bytes_; }
  // Blocks released and not acquired again.
  size_t free_blocks() const { return free_.size(); }
  // Distinct blocks ever acquired: what the arena's users have touched.
  size_t total_blocks() const { return total_; }

 private:
  struct Chunk {
    void* base;
    size_t bytes;
  };
  size_t block_bytes_;
  size_t blocks_per_chunk_;
  size_t max_free_;
  std::vector<Chunk> chunks_;
  std::vector<uint8_t*> free_;
  uint8_t* next_ = nullptr;  // the next never-used block of the last chunk
  size_t left_ = 0;          // never-used blocks left there
  size_t total_ = 0;
};

}  // namespace rp
