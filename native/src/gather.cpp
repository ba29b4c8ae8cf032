// Row gather for batch assembly. Indices are validated up front so a bad index
// leaves dst untouched. The copy is bound by memory, not instructions:
//  - source rows sit at random addresses the hardware prefetcher cannot guess,
//    so we prefetch the start of upcoming rows ourselves, 8 KiB or 32 rows
//    ahead (and, on the streaming-store path, stay 1 KiB ahead of the copy
//    inside long rows), into L2 rather than L1: more misses in flight;
//  - for big batches the destination is written with non-temporal (streaming)
//    stores, which skip reading each destination line into cache before
//    overwriting it (a third of the memory traffic) and do not evict the
//    source rows still to come;
//  - from a large source, a big batch is copied in source-address order
//    (rows bucketed by address, each written to its own place in dst), since
//    there each random row costs a TLB miss and page walk, which no prefetch
//    hides; rows close in address share the walk's cached levels;
//  - common row sizes are compile-time constants, so each row copy is inlined.
// BENCHMARKS.md has the figures and the profile behind each choice.
#include "rp/gather.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "rp/chunk_index.h"
#include "rp/thread_pool.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define RP_GATHER_STREAM 1
#endif

namespace rp {
namespace {

constexpr size_t kLine = 64;
// Prefetch this far ahead (in bytes of upcoming rows, as a row count clamped
// to [kMinAhead, kMaxAhead]), and at most kPrefetchRowBytes of each row; with
// streaming stores, the rest of a long row is prefetched that far ahead of the copy.
// 32 rows keeps enough misses in flight for 8-64 B rows (16 measured 0.75x
// of 32 at 16 B rows; 64 no better than 32): bench_core gather-small.
constexpr size_t kAheadBytes = 8192;
constexpr size_t kMinAhead = 4;
constexpr size_t kMaxAhead = 32;
constexpr size_t kPrefetchRowBytes = 1024;

// Batches up to this many bytes are copied on the calling thread: a parked
// worker takes 5-25 us to wake on the bench VM (bench_core's "pool wake"),
// and the other core is often busy, against ~100 us of copying at this size.
constexpr size_t kParallelBytes = size_t{1} << 20;
// Target bytes per parallel chunk.
constexpr size_t kChunkBytes = size_t{64} << 10;
// Batches from this size on use streaming stores: too big to stay in the
// inner caches anyway, and the saved traffic wins even when the caller reads
// the batch right away (it comes from L3 or memory either way).
constexpr size_t kStreamBytes = size_t{1} << 20;

// Address-ordered copying: from sources of at least kOrderSourceBytes (well
// past what the TLB and L3 cover), for batches of at least kOrderMinRows rows
// (fewer are too sparse to share anything) of at least kOrderMinRowBytes
// (shorter rows gain nothing measurable: the sort costs as much as it saves).
// Rows go into up to 2^kOrderMaxBucketBits buckets by address, a counting
// sort of about 5 ns a row; slabs of kOrderSlabRows rows keep the scratch
// small and the scattered writes inside a window of dst.
constexpr size_t kOrderSourceBytes = size_t{64} << 20;
constexpr size_t kOrderMinRows = 2048;
constexpr size_t kOrderMinRowBytes = 256;
constexpr int kOrderMaxBucketBits = 15;
constexpr size_t kOrderSlabRows = size_t{1} << 16;

// Into L2 (prefetcht2), not L1 only (prefetchnta): L1 has few miss buffers,
// and random rows need many misses in flight. With the distance below, on
// Zen 4, one thread, 1 GiB source (bench_core gather-small): 1.4-1.6x at
// 8-64 B rows, 2.2x at 128 B, 1.2-1.4x at 256 B and 1 KiB, 1.0x at 4 KiB.
inline void prefetch(const uint8_t* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 0 /*read*/, 1 /*low temporal locality: L2*/);
#else
  (void)p;
#endif
}

// Every line the row's first `span` bytes touch (span > 0): a row that does
// not start on a line boundary touches one more than span / kLine, and that
// last line missed once a row (an Arrow buffer written 8-byte aligned, 1 KiB
// rows: 0.74-0.85x the rate of the same rows 64-byte aligned).
inline void prefetch_row(const uint8_t* row, size_t span) {
  const uintptr_t start = reinterpret_cast<uintptr_t>(row);
  const uintptr_t last = start + span - 1;
  for (uintptr_t line = start & ~uintptr_t{kLine - 1}; line <= last; line += kLine) {
    prefetch(reinterpret_cast<const uint8_t*>(line));
  }
}

// One row with streaming stores; d is 16-byte aligned, rb a multiple of 16.
inline void stream_row(uint8_t* d, const uint8_t* s, size_t rb) {
#if RP_GATHER_STREAM
  size_t o = 0;
  for (; o + 64 <= rb; o += 64) {
    // Rows longer than the ahead-prefetch: keep the prefetch that far ahead
    // (the hardware prefetcher ramps up too slowly on a fresh row).
    if (o + kPrefetchRowBytes < rb) prefetch(s + o + kPrefetchRowBytes);
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

// Copies entries [begin, end) of a gather list: source row rows[k] goes to
// row k of dst, or to row places[k] when places is given (address order).
// RowBytes > 0 fixes the row size at compile time; 0 means row_bytes.
template <size_t RowBytes, bool Stream>
void copy_rows(const uint8_t* src, size_t row_bytes, const uint32_t* rows,
               const uint32_t* places, size_t begin, size_t end,
               uint8_t* dst) {
  const size_t rb = RowBytes ? RowBytes : row_bytes;
  const size_t ahead = std::min(kMaxAhead, std::max(kMinAhead, kAheadBytes / rb));
  const size_t span = std::min(rb, kPrefetchRowBytes);
  for (size_t k = begin; k < std::min(end, begin + ahead); ++k) {
    prefetch_row(src + size_t{rows[k]} * rb, span);
  }
  for (size_t k = begin; k < end; ++k) {
    if (k + ahead < end) {
      prefetch_row(src + size_t{rows[k + ahead]} * rb, span);
    }
    const uint8_t* s = src + size_t{rows[k]} * rb;
    uint8_t* d = dst + (places ? size_t{places[k]} : k) * rb;
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

using CopyFn = void (*)(const uint8_t*, size_t, const uint32_t*,
                        const uint32_t*, size_t, size_t, uint8_t*);

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

bool use_stream(size_t row_bytes, size_t total, const uint8_t* dst) {
#if RP_GATHER_STREAM
  return total >= kStreamBytes && row_bytes % 16 == 0 &&
         reinterpret_cast<uintptr_t>(dst) % 16 == 0;
#else
  (void)row_bytes;
  (void)total;
  (void)dst;
  return false;
#endif
}

// Address order only pays with streaming stores of whole cache lines: rows
// written out of order with ordinary stores, or as parts of lines, cost a
// read of each destination line and undo the gain.
bool use_order(size_t src_bytes, size_t row_bytes, size_t count, bool stream,
               const uint8_t* dst) {
  return stream && src_bytes >= kOrderSourceBytes && count >= kOrderMinRows &&
         row_bytes >= kOrderMinRowBytes && row_bytes % kLine == 0 &&
         reinterpret_cast<uintptr_t>(dst) % kLine == 0;
}

int ceil_log2(uint64_t x) {
  int b = 0;
  while ((uint64_t{1} << b) < x) ++b;
  return b;
}

// The calling thread's scratch for address ordering, reused across calls so
// steady-state batches allocate nothing.
struct OrderScratch {
  std::vector<uint32_t> buckets;
  std::vector<uint32_t> rows;
  std::vector<uint32_t> places;
};
thread_local OrderScratch tl_order;

// Counting sort of indices[0, count) by source address into s.rows (the
// row) and s.places (its position in the batch), stable within a bucket.
void order_by_address(const uint32_t* indices, size_t count, size_t row_bytes,
                      size_t src_bytes, OrderScratch& s) {
  const int bits =
      std::min(kOrderMaxBucketBits, std::max(1, ceil_log2(count) - 1));
  const int shift = std::max(12, ceil_log2(src_bytes) - bits);
  const size_t nb = ((src_bytes - 1) >> shift) + 1;
  s.buckets.assign(nb + 1, 0);
  s.rows.resize(count);
  s.places.resize(count);
  uint32_t* hist = s.buckets.data();
  for (size_t j = 0; j < count; ++j) {
    ++hist[((size_t{indices[j]} * row_bytes) >> shift) + 1];
  }
  for (size_t b = 1; b <= nb; ++b) hist[b] += hist[b - 1];
  for (size_t j = 0; j < count; ++j) {
    const size_t k = hist[(size_t{indices[j]} * row_bytes) >> shift]++;
    s.rows[k] = indices[j];
    s.places[k] = static_cast<uint32_t>(j);
  }
}

// One parallel_for's arguments, captured by a single pointer so the
// std::function holding the body needs no heap allocation.
struct CopyJob {
  CopyFn copy;
  const uint8_t* src;
  size_t row_bytes;
  const uint32_t* rows;
  const uint32_t* places;
  uint8_t* dst;
};

// Rows per parallel chunk for a gather of count rows of row_bytes, or 0:
// copy on the calling thread. Small batches from a large source (latency-
// bound) are not split: on the bench VM a worker's wake-up cost more than it
// took over (gather-small, per batch: 0.87-0.97x at 16-128 B rows).
size_t split_grain(size_t count, size_t row_bytes, const ThreadPool* pool) {
  if (pool == nullptr || pool->size() == 1 || count * row_bytes <= kParallelBytes) return 0;
  return std::max<size_t>(1, kChunkBytes / row_bytes);
}

// Copies a whole gather list, split across the pool when split_grain says so.
void run_copy(const CopyJob& job, size_t count, ThreadPool* pool) {
  const size_t grain = split_grain(count, job.row_bytes, pool);
  if (grain == 0) {
    job.copy(job.src, job.row_bytes, job.rows, job.places, 0, count, job.dst);
    return;
  }
  const CopyJob* j = &job;
  pool->parallel_for(count, grain, [j](size_t begin, size_t end) {
    j->copy(j->src, j->row_bytes, j->rows, j->places, begin, end, j->dst);
  });
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

// Where row k of a chunked gather comes from: found by the chunk index as
// the copy goes (no table of addresses to write and read back).
struct ChunkedRows {
  const uint8_t* const* chunks;
  const ChunkIndex* index;
  const uint32_t* indices;
  const uint32_t* places;  // where row k goes in dst (address order), or null: row k
  const uint8_t* row(size_t k, size_t rb) const {
    uint64_t local;
    const size_t c = index->locate(indices[k], &local);
    return chunks[c] + local * rb;
  }
};

// Copies row k of a chunked gather to row k of dst, or to row places[k].
template <size_t RowBytes, bool Stream>
void copy_chunked_rows(const ChunkedRows& src, size_t row_bytes, size_t begin, size_t end, uint8_t* dst) {
  const size_t rb = RowBytes ? RowBytes : row_bytes;
  const size_t ahead = std::min(kMaxAhead, std::max(kMinAhead, kAheadBytes / rb));
  const size_t span = std::min(rb, kPrefetchRowBytes);
  for (size_t k = begin; k < std::min(end, begin + ahead); ++k) prefetch_row(src.row(k, rb), span);
  for (size_t k = begin; k < end; ++k) {
    if (k + ahead < end) prefetch_row(src.row(k + ahead, rb), span);
    uint8_t* d = dst + (src.places ? size_t{src.places[k]} : k) * rb;
    if (Stream) {
      stream_row(d, src.row(k, rb), rb);
    } else {
      std::memcpy(d, src.row(k, rb), rb);
    }
  }
#if RP_GATHER_STREAM
  if (Stream) _mm_sfence();
#endif
}

using ChunkedCopyFn = void (*)(const ChunkedRows&, size_t, size_t, size_t, uint8_t*);

template <bool Stream>
ChunkedCopyFn pick_chunked_copy(size_t row_bytes) {
  switch (row_bytes) {
    case 4: return copy_chunked_rows<4, false>;
    case 8: return copy_chunked_rows<8, false>;
    case 16: return copy_chunked_rows<16, Stream>;
    case 64: return copy_chunked_rows<64, Stream>;
    case 256: return copy_chunked_rows<256, Stream>;
    case 1024: return copy_chunked_rows<1024, Stream>;
    case 4096: return copy_chunked_rows<4096, Stream>;
    default:
      return row_bytes % 16 == 0 ? copy_chunked_rows<0, Stream> : copy_chunked_rows<0, false>;
  }
}



}  // namespace

void gather_rows(const uint8_t* src, size_t src_rows, size_t row_bytes,
                 const uint32_t* indices, size_t count, uint8_t* dst,
                 ThreadPool* pool) {
  if (count == 0) return;
  // Indices are checked once, then read again while dst is written: if dst
  // could rewrite them, a checked index could turn into a wild read.
  const uintptr_t idx_begin = reinterpret_cast<uintptr_t>(indices);
  const uintptr_t idx_end = idx_begin + count * sizeof(uint32_t);
  const uintptr_t dst_begin = reinterpret_cast<uintptr_t>(dst);
  if (row_bytes != 0 && dst_begin < idx_end && idx_begin < dst_begin + count * row_bytes) {
    throw std::invalid_argument("dst overlaps indices");
  }

  // A branch-free max over the indices vectorises; only when it fails do we
  // walk again to name the first offender.
  uint32_t max_index = 0;
  for (size_t j = 0; j < count; ++j) max_index = std::max(max_index, indices[j]);
  if (max_index >= src_rows) throw_bad_index(indices, count, src_rows);

  if (row_bytes == 0) return;
  const size_t total = count * row_bytes;
  const bool stream = use_stream(row_bytes, total, dst);
  const CopyFn copy =
      stream ? pick_copy_for<true>(row_bytes) : pick_copy_for<false>(row_bytes);
  const size_t src_bytes = src_rows * row_bytes;
  if (!use_order(src_bytes, row_bytes, count, stream, dst)) {
    run_copy(CopyJob{copy, src, row_bytes, indices, nullptr, dst}, count, pool);
    return;
  }
  // Slab by slab: order the slab's rows by address, then copy them.
  OrderScratch& scratch = tl_order;
  for (size_t base = 0; base < count; base += kOrderSlabRows) {
    const size_t n = std::min(kOrderSlabRows, count - base);
    order_by_address(indices + base, n, row_bytes, src_bytes, scratch);
    run_copy(CopyJob{copy, src, row_bytes, scratch.rows.data(),
                     scratch.places.data(), dst + base * row_bytes},
             n, pool);
  }
}

void gather_rows_chunked(const uint8_t* const* chunks, const uint64_t* first,
                         size_t nchunks, size_t row_bytes,
                         const uint32_t* indices, size_t count, uint8_t* dst,
                         ThreadPool* pool) {
  if (count == 0) return;
  gather_rows_chunked(chunks, ChunkIndex(first, nchunks), row_bytes, indices, count, dst, pool);
}

void gather_rows_chunked(const uint8_t* const* chunks, const ChunkIndex& index,
                         size_t row_bytes, const uint32_t* indices,
                         size_t count, uint8_t* dst, ThreadPool* pool) {
  if (count == 0) return;
  const uint64_t rows = index.rows();
  uint32_t max_index = 0;
  for (size_t j = 0; j < count; ++j) max_index = std::max(max_index, indices[j]);
  if (max_index >= rows) throw_bad_index(indices, count, static_cast<size_t>(rows));
  if (row_bytes == 0) return;
  const size_t total = count * row_bytes;
  const bool stream = use_stream(row_bytes, total, dst);
  const ChunkedCopyFn copy = stream ? pick_chunked_copy<true>(row_bytes) : pick_chunked_copy<false>(row_bytes);
  auto run = [&](const ChunkedRows& src, size_t n, uint8_t* out) {
    const size_t grain = split_grain(n, row_bytes, pool);
    if (grain == 0) {
      copy(src, row_bytes, 0, n, out);
      return;
    }
    const ChunkedRows* s = &src;
    pool->parallel_for(n, grain, [=](size_t begin, size_t end) { copy(*s, row_bytes, begin, end, out); });
  };
  // Address order as gather_rows does it: rows ordered by their place in the
  // chunks one after another, which is address order inside each chunk.
  const size_t src_bytes = static_cast<size_t>(rows) * row_bytes;
  if (!use_order(src_bytes, row_bytes, count, stream, dst)) {
    run(ChunkedRows{chunks, &index, indices, nullptr}, count, dst);
    return;
  }
  OrderScratch& scratch = tl_order;
  for (size_t base = 0; base < count; base += kOrderSlabRows) {
    const size_t n = std::min(kOrderSlabRows, count - base);
    order_by_address(indices + base, n, row_bytes, src_bytes, scratch);
    run(ChunkedRows{chunks, &index, scratch.rows.data(), scratch.places.data()}, n, dst + base * row_bytes);
  }
}

}  // namespace rp
