// BlockArena: aligned, distinct, writable blocks; released blocks are reused
// before any new memory is taken; sizes round up to the alignment.
#include <cstdint>
#include <cstring>
#include <set>
#include <stdexcept>
#include <vector>

#include <sys/mman.h>

#include "check.h"
#include "rp/block_arena.h"
#include "rp/huge_pages.h"

TEST(blocks_are_aligned_distinct_and_writable) {
  for (size_t bytes : {size_t{1}, size_t{100}, size_t{4096 + 64}, rp::kHugePageBytes,
                       rp::kHugePageBytes * 2 + 1}) {
    rp::BlockArena arena(bytes);
    CHECK_EQ(arena.block_bytes() % rp::BlockArena::kAlign, size_t{0});
    CHECK(arena.block_bytes() >= bytes);
    std::vector<uint8_t*> blocks;
    std::set<uint8_t*> distinct;
    for (int i = 0; i < 40; ++i) {
      uint8_t* b = arena.acquire();
      CHECK_EQ(reinterpret_cast<uintptr_t>(b) % rp::BlockArena::kAlign, uintptr_t{0});
      std::memset(b, i, arena.block_bytes());  // a block never overlaps another
      blocks.push_back(b);
      distinct.insert(b);
    }
    CHECK_EQ(distinct.size(), size_t{40});
    for (int i = 0; i < 40; ++i) {
      CHECK_EQ(blocks[i][0], uint8_t(i));
      CHECK_EQ(blocks[i][arena.block_bytes() - 1], uint8_t(i));
    }
    CHECK_EQ(arena.total_blocks(), size_t{40});
    CHECK_EQ(arena.free_blocks(), size_t{0});
  }
}

TEST(released_blocks_are_reused_before_new_memory) {
  rp::BlockArena arena(1 << 20);
  uint8_t* a = arena.acquire();
  uint8_t* b = arena.acquire();
  const size_t total = arena.total_blocks();
  arena.release(a);
  arena.release(b);
  for (int i = 0; i < 1000; ++i) {
    uint8_t* x = arena.acquire();
    CHECK(x == a || x == b);
    arena.release(x);
  }
  CHECK_EQ(total, size_t{2});
  CHECK_EQ(arena.total_blocks(), total);
  CHECK_EQ(arena.free_blocks(), total);
}

TEST(blocks_past_max_free_go_back_to_the_os) {
  const size_t bytes = 4 << 20;  // a chunk per block
  rp::BlockArena arena(bytes, 1);
  uint8_t* a = arena.acquire();
  uint8_t* b = arena.acquire();
  uint8_t* c = arena.acquire();
  a[0] = b[0] = c[0] = 1;
  arena.release(a);
  arena.release(b);
  arena.release(c);
  CHECK_EQ(arena.free_blocks(), size_t{1});
  // msync fails with ENOMEM on memory that is no longer mapped.
  CHECK_EQ(msync(a, bytes, MS_ASYNC), 0);
  CHECK_EQ(msync(b, bytes, MS_ASYNC), -1);
  CHECK_EQ(msync(c, bytes, MS_ASYNC), -1);
  CHECK(arena.acquire() == a);
  CHECK_EQ(arena.total_blocks(), size_t{3});
}

TEST(trim_gives_free_blocks_back_and_caps_what_is_kept) {
  const size_t bytes = 4 << 20;  // a chunk per block
  rp::BlockArena arena(bytes);
  uint8_t* a = arena.acquire();
  uint8_t* b = arena.acquire();
  uint8_t* c = arena.acquire();
  a[0] = b[0] = c[0] = 1;
  arena.release(a);
  arena.release(b);
  arena.trim(1);
  CHECK_EQ(arena.free_blocks(), size_t{1});
  CHECK_EQ(msync(a, bytes, MS_ASYNC), 0);  // kept (released first)
  CHECK_EQ(msync(b, bytes, MS_ASYNC), -1);
  arena.release(c);  // past the new cap: back to the OS
  CHECK_EQ(arena.free_blocks(), size_t{1});
  CHECK_EQ(msync(c, bytes, MS_ASYNC), -1);
  CHECK(arena.acquire() == a);
}

TEST(small_blocks_share_chunks_and_stay_free) {
  rp::BlockArena arena(4096, 1);  // max_free applies to chunk-sized blocks only
  uint8_t* a = arena.acquire();
  uint8_t* b = arena.acquire();
  arena.release(a);
  arena.release(b);
  CHECK_EQ(arena.free_blocks(), size_t{2});
}

TEST(zero_size_is_refused) {
  CHECK_THROWS(std::invalid_argument, rp::BlockArena(0));
}

RP_TEST_MAIN()
