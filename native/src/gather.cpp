// Row gather for batch assembly. Indices are validated up front so a bad index
// leaves dst untouched. The copy is bound by memory, not instructions:
//  - source rows sit at random addresses the hardware prefetcher cannot guess,
//    so we prefetch whole upcoming rows ourselves, a few KiB ahead;
//  - for big batches the destination is written with non-temporal (streaming)
//    stores, which skip reading each destination line into cache before
//    overwriting it (a third of the memory traffic) and do not evict the
//    source rows still to come;
//  - common row sizes are compile-time constants, so each row copy is inlined.
// Measured on 1 KiB rows gathered from 256 MiB into a 32 MiB batch, this is
// about 0.9x the bandwidth of one plain memcpy of the same bytes, against
// about 0.45x for a plain per-row memcpy loop.
#include "rp/gather.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "rp/thread_pool.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define RP_GATHER_STREAM 1
#endif

namespace rp {
namespace {

constexpr size_t kLine = 64;
// Prefetch this far ahead (in bytes of upcoming rows, as a row count clamped
// to [kMinAhead, kMaxAhead]), and at most kPrefetchRowBytes of each row: past
// that the hardware prefetcher has picked up the row's sequential stream.
constexpr size_t kAheadBytes = 4096;
constexpr size_t kMinAhead = 4;
constexpr size_t kMaxAhead = 16;
constexpr size_t kPrefetchRowBytes = 1024;

// Batches below this many bytes are copied on the calling thread: handing
// chunks to the pool costs more than it saves.
constexpr size_t kParallelBytes = size_t{256} << 10;
// Target bytes per parallel chunk.
constexpr size_t kChunkBytes = size_t{64} << 10;
// Batches from this size on use streaming stores: too big to stay in the
// inner caches anyway, and the saved traffic wins even when the caller reads
// the batch right away (it comes from L3 or memory either way).
constexpr size_t kStreamBytes = size_t{1} << 20;

inline void prefetch_row(const uint8_t* row, size_t span) {
#if defined(__GNUC__) || defined(__clang__)
  for (size_t off = 0; off < span; off += kLine) {
    __builtin_prefetch(row + off, 0 /*read*/, 0 /*no temporal locality*/);
  }
#else
  (void)row;
  (void)span;
#endif
}

// One row with streaming stores; d is 16-byte aligned, rb a multiple of 16.
inline void stream_row(uint8_t* d, const uint8_t* s, size_t rb) {
#if RP_GATHER_STREAM
  size_t o = 0;
  for (; o + 64 <= rb; o += 64) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + o));
    const __m128i b =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + o + 16));
    const __m128i c =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + o + 32));
    const __m128i e =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + o + 48));
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + o), a);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + o + 16), b);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + o + 32), c);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + o + 48), e);
  }
  for (; o < rb; o += 16) {
    _mm_stream_si128(
        reinterpret_cast<__m128i*>(d + o),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + o)));
  }
#else
  std::memcpy(d, s, rb);
#endif
}

// Copies rows [begin, end) of the batch. RowBytes > 0 fixes the row size at
// compile time; 0 means use the runtime row_bytes.
template <size_t RowBytes, bool Stream>
void copy_rows(const uint8_t* src, size_t row_bytes, const uint32_t* indices,
               size_t begin, size_t end, uint8_t* dst) {
  const size_t rb = RowBytes ? RowBytes : row_bytes;
  const size_t ahead = std::min(kMaxAhead, std::max(kMinAhead, kAheadBytes / rb));
  const size_t span = std::min(rb, kPrefetchRowBytes);
  for (size_t j = begin; j < std::min(end, begin + ahead); ++j) {
    prefetch_row(src + size_t{indices[j]} * rb, span);
  }
  for (size_t j = begin; j < end; ++j) {
    if (j + ahead < end) {
      prefetch_row(src + size_t{indices[j + ahead]} * rb, span);
    }
    const uint8_t* s = src + size_t{indices[j]} * rb;
    uint8_t* d = dst + j * rb;
    if (Stream) {
      stream_row(d, s, rb);
    } else {
      std::memcpy(d, s, rb);
    }
  }
#if RP_GATHER_STREAM
  // Streaming stores are weakly ordered: fence before the chunk is reported
  // done, so whoever reads dst next sees every byte.
  if (Stream) _mm_sfence();
#endif
}

using CopyFn = void (*)(const uint8_t*, size_t, const uint32_t*, size_t,
                        size_t, uint8_t*);

template <bool Stream>
CopyFn pick_copy_for(size_t row_bytes) {
  switch (row_bytes) {
    case 1: return copy_rows<1, false>;   // too narrow to stream
    case 2: return copy_rows<2, false>;
    case 4: return copy_rows<4, false>;
    case 8: return copy_rows<8, false>;
    case 12: return copy_rows<12, false>;
    case 16: return copy_rows<16, Stream>;
    case 32: return copy_rows<32, Stream>;
    case 64: return copy_rows<64, Stream>;
    case 128: return copy_rows<128, Stream>;
    case 256: return copy_rows<256, Stream>;
    case 512: return copy_rows<512, Stream>;
    case 1024: return copy_rows<1024, Stream>;
    case 2048: return copy_rows<2048, Stream>;
    case 4096: return copy_rows<4096, Stream>;
    default:
      return row_bytes % 16 == 0 ? copy_rows<0, Stream> : copy_rows<0, false>;
  }
}

CopyFn pick_copy(size_t row_bytes, size_t total, const uint8_t* dst) {
#if RP_GATHER_STREAM
  const bool stream = total >= kStreamBytes &&
                      reinterpret_cast<uintptr_t>(dst) % 16 == 0;
  if (stream) return pick_copy_for<true>(row_bytes);
#else
  (void)total;
  (void)dst;
#endif
  return pick_copy_for<false>(row_bytes);
}

[[noreturn]] void throw_bad_index(const uint32_t* indices, size_t count,
                                  size_t src_rows) {
  for (size_t j = 0; j < count; ++j) {
    if (indices[j] >= src_rows) {
      throw std::out_of_range("indices[" + std::to_string(j) + "] = " +
                              std::to_string(indices[j]) +
                              " is out of range for " +
                              std::to_string(src_rows) + " rows");
    }
  }
  throw std::logic_error("gather_rows: bad index not found");  // unreachable
}

}  // namespace

void gather_rows(const uint8_t* src, size_t src_rows, size_t row_bytes,
                 const uint32_t* indices, size_t count, uint8_t* dst,
                 ThreadPool* pool) {
  if (count == 0) return;

  // A branch-free max over the indices vectorises; only when it fails do we
  // walk again to name the first offender.
  uint32_t max_index = 0;
  for (size_t j = 0; j < count; ++j) max_index = std::max(max_index, indices[j]);
  if (max_index >= src_rows) throw_bad_index(indices, count, src_rows);

  if (row_bytes == 0) return;
  const size_t total = count * row_bytes;
  const CopyFn copy = pick_copy(row_bytes, total, dst);
  if (pool == nullptr || pool->size() == 1 || total <= kParallelBytes) {
    copy(src, row_bytes, indices, 0, count, dst);
    return;
  }
  const size_t grain = std::max<size_t>(1, kChunkBytes / row_bytes);
  pool->parallel_for(count, grain, [&](size_t begin, size_t end) {
    copy(src, row_bytes, indices, begin, end, dst);
  });
}

}  // namespace rp
