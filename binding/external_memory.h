// Memory the binding hands to JavaScript as external ArrayBuffers (huge-page
// buffers, mapped file slices), shared with the threads that read it.
//
// At exit Node runs external buffers' finalizers before our cleanup hooks, so
// a finalizer must not free memory a prefetch thread may still be copying
// from. Each such region is owned by a shared pointer: the ArrayBuffer holds
// one share (dropped by its finalizer), a prefetch queue reading the region
// holds another, and the memory goes with the last share.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace rpb {

// Owns a region: destroying the last copy frees it.
using MemoryShare = std::shared_ptr<void>;

// Node's largest external ArrayBuffer (its Buffer limit on Node 20).
constexpr size_t kMaxExternalBytes = size_t{1} << 32;

// An external ArrayBuffer over [data, data + bytes), which `owner` frees. On
// failure (RangeError over kMaxExternalBytes) the region is freed before the
// exception propagates.
Napi::ArrayBuffer NewExternalArrayBuffer(Napi::Env env, uint8_t* data, size_t bytes,
                                         MemoryShare owner);

// A share of the live region that holds [p, p + bytes), or null if that
// memory did not come from NewExternalArrayBuffer.
MemoryShare ShareOf(const uint8_t* p, size_t bytes);

}  // namespace rpb
