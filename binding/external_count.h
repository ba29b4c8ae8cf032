// V8's count of external memory. V8 starts a full Mark-Compact ("external
// memory pressure") when a positive adjustment leaves the count 64 MiB above
// its lowest value since the last full collection. Every new ArrayBuffer adds
// its bytes, and a collected or detached one takes them away, so a loop of
// fresh batches (each a new buffer, reclaimed by scavenges) used to start one
// every few dozen batches: about a second each with a 1 GB heap.
//
// Pooled batch memory is taken out of the count instead: a hand-out takes its
// buffer's bytes out again (HideExternal), and a buffer gone (collected or
// detached) owes them back (OweExternal), as V8 takes them away once more when
// it sweeps or detaches it. What is owed is given back only while the count,
// read back from each adjustment, stays within ExternalBand() of the lowest
// value seen: so whenever V8 sweeps, the count dips, and the repayment refills
// the dip without ever rising above where it was. Owed bytes past
// kMaxOwedBytes (dips deeper than the band, as when a full collection sweeps
// many batches at once) are forgiven on Node 20, leaving the count (and
// process.memoryUsage().external) that much below the truth; on Node 22 and
// later they are given back by no longer hiding hand-outs.
//
// On Node 22 and later, whose V8 refuses a count below zero, a hand-out is
// hidden only while the count covers every hidden and owed byte (a program
// with little other external memory then sees some batches counted).
//
// Per environment (workers have their own isolate and count).
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace rpb {

// V8's soft limit: a positive adjustment that leaves the count this far above
// its value at the last full collection starts incremental marking (and far
// past it, a full collection).
constexpr int64_t kExternalSoftLimit = int64_t{64} << 20;
// How far above the lowest count seen a repayment may raise it: the soft
// limit less room for the next hand-out, which V8 counts before it is hidden,
// and 8 MiB to spare (V8's reference is its count at its last full
// collection, which may have fallen in a dip this ledger never read). With a
// fixed 48 MiB band, 32 MiB batches (4 KiB rows x 8192) reached the limit at
// each hand-out and started incremental marking every few batches.
constexpr int64_t kSpareBytes = int64_t{8} << 20;
constexpr int64_t kMinHandoutRoom = int64_t{16} << 20;
constexpr int64_t ExternalBand(size_t largest_handout) {
  const int64_t handout = static_cast<int64_t>(largest_handout) + kSpareBytes;
  const int64_t room = handout > kMinHandoutRoom ? handout : kMinHandoutRoom;
  return room >= kExternalSoftLimit ? 0 : kExternalSoftLimit - room;
}

// Owed bytes beyond which what is owed is forgiven (Node 20) or hand-outs are
// no longer hidden (Node 22 and later).
constexpr size_t kMaxOwedBytes = size_t{512} << 20;

// V8 has just counted `bytes` for a buffer we hand out: takes them out again
// (unless too much is owed; then returns false and the buffer counts as any
// buffer does), and repays what the band allows.
bool HideExternal(Napi::Env env, size_t bytes);
// A buffer whose bytes were hidden is gone, or going: V8 takes its bytes out
// of the count when it sweeps it (or at once, when detached).
void OweExternal(napi_env env, size_t bytes);

}  // namespace rpb
