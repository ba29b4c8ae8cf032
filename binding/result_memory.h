// Memory for the large arrays that calls return (random.permutation, gather
// without `out`): the same reusable, huge-page blocks as a DataLoader's
// batches (BatchMemory), so a fresh result costs no page faults once an
// earlier result of the same size has been dropped. One pool per Node
// environment; results under 2 MiB are ordinary ArrayBuffers.
#pragma once
#include <napi.h>

#include <cstddef>

namespace rpb {

// Results this large or larger come from the pool.
constexpr size_t kPooledResultBytes = size_t{2} << 20;
// Free memory the pool keeps for reuse, per result size; past it a dropped
// result's memory goes back to the OS.
constexpr size_t kPoolFreeBytes = size_t{256} << 20;
// Result sizes (rounded up to 2 MiB) the pool serves at once; the least
// recently used size is forgotten when another comes.
constexpr size_t kPoolSizes = 2;

// A new ArrayBuffer of exactly `bytes`, contents unspecified, from the pool
// when bytes >= kPooledResultBytes. Its memory must never be detached by
// moving it elsewhere: callers pin it (src/loader/pinned-buffers.ts).
Napi::ArrayBuffer NewResultBuffer(Napi::Env env, size_t bytes);

}  // namespace rpb
