// Chunks are at least one huge page (2 MiB): small blocks share one, a large
// block gets a chunk of its own rounded up to whole huge pages, so its memory
// can be backed by huge pages from the first fault.
#include "rp/block_arena.h"

#include <new>
#include <stdexcept>

#include "rp/huge_pages.h"

namespace rp {

BlockArena::BlockArena(size_t block_bytes, size_t max_free) : max_free_(max_free) {
  if (block_bytes == 0) throw std::invalid_argument("block_bytes must be > 0");
  if (block_bytes > SIZE_MAX / 2) throw std::bad_alloc();
  block_bytes_ = (block_bytes + kAlign - 1) / kAlign * kAlign;
  blocks_per_chunk_ = block_bytes_ >= kHugePageBytes ? 1 : kHugePageBytes / block_bytes_;
}

BlockArena::~BlockArena() {
  for (const Chunk& c : chunks_) free_huge_pages(c.base, c.bytes);
}

uint8_t* BlockArena::acquire() {
  if (!free_.empty()) {
    uint8_t* block = free_.back();
    free_.pop_back();
    return block;
  }
  if (left_ == 0) {
    const size_t want = block_bytes_ * blocks_per_chunk_;
    const size_t bytes = (want + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
    chunks_.reserve(chunks_.size() + 1);
    next_ = static_cast<uint8_t*>(allocate_huge_pages(bytes));
    chunks_.push_back(Chunk{next_, bytes});
    left_ = blocks_per_chunk_;
  }
  uint8_t* block = next_;
  next_ += block_bytes_;
  --left_;
  ++total_;
  free_.reserve(total_);  // so release() never allocates
  return block;
}

void BlockArena::release(uint8_t* block) {
  if (free_.size() >= max_free_ && blocks_per_chunk_ == 1) {
    for (size_t i = 0; i < chunks_.size(); ++i) {
      if (chunks_[i].base != block) continue;
      free_huge_pages(chunks_[i].base, chunks_[i].bytes);
      chunks_[i] = chunks_.back();
      chunks_.pop_back();
      return;
    }
  }
  free_.push_back(block);
}

void BlockArena::trim(size_t keep) {
  max_free_ = keep;
  if (blocks_per_chunk_ != 1) return;
  while (free_.size() > keep) {
    uint8_t* block = free_.back();
    free_.pop_back();
    for (size_t i = 0; i < chunks_.size(); ++i) {
      if (chunks_[i].base != block) continue;
      free_huge_pages(chunks_[i].base, chunks_[i].bytes);
      chunks_[i] = chunks_.back();
      chunks_.pop_back();
      break;
    }
  }
}

}  // namespace rp
