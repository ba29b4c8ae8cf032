// How many bytes of batches a loader hands out before it asks the JS engine
// for a scavenge (the Node binding's "poke", binding/batch_memory.cpp): a
// dropped batch's block comes back only when a scavenge has collected its
// buffer, and V8 scavenges on an ArrayBuffer allocation once young buffers
// hold 32 MiB. A scavenge costs 0.2-0.5 ms in a small heap but 3-5 ms with a
// 1 GiB old generation (V8 11): at one per 32 MiB of batches, 60% of a
// 1 KiB-row loop's time there. So the bytes between pokes follow what a poke
// costs the calling thread in CPU time: doubled while one takes 1 ms or more
// and over 5% of the time since the last, halved when one takes under 0.5 ms
// or under 0.5% of that time. (Wall time would also count the scavenge's
// wait for a core the loader's own threads hold: 2-4 ms with 32 MiB batches
// on 2 cores, in a small heap.)
// A small heap keeps the small pool (each new block costs page faults); a
// large one trades up to `most` bytes of pool for fewer scavenges.
#pragma once
#include <cstddef>
#include <cstdint>

namespace rp {

struct ScavengePacing {
  static constexpr size_t kMinBytes = size_t{32} << 20;  // V8's young ArrayBuffer threshold

  size_t most;                  // the most bytes between pokes (at least kMinBytes)
  size_t bytes = kMinBytes;     // the bytes between pokes now

  // After a poke that took cost_ns, interval_ns after the previous one ended.
  void update(int64_t cost_ns, int64_t interval_ns) {
    constexpr int64_t kMs = 1000000;
    const size_t cap = most < kMinBytes ? kMinBytes : most;
    if (cost_ns >= kMs && cost_ns * 20 > interval_ns) {
      bytes = bytes * 2 < cap ? bytes * 2 : cap;
    } else if (cost_ns < kMs / 2 || cost_ns * 200 < interval_ns) {
      bytes = bytes / 2 > kMinBytes ? bytes / 2 : kMinBytes;
    }
  }
};

}  // namespace rp
