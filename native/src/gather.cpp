// Row gather for batch assembly. Indices are validated up front so a bad index
// leaves dst untouched; the copy itself is memcpy per row, with the row size
// made a compile-time constant for common sizes (so the compiler inlines the
// copy instead of calling memcpy) and software prefetch of upcoming rows, whose
// addresses are random and so invisible to the hardware prefetcher.
#include "rp/gather.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "rp/thread_pool.h"

namespace rp {
namespace {

// How many rows ahead to prefetch, and at most how many bytes of each row.
// Beyond the first few lines of a row the hardware prefetcher follows the
// sequential stream on its own.
constexpr size_t kPrefetchRows = 8;
constexpr size_t kPrefetchBytes = 512;
constexpr size_t kLine = 64;

// Batches below this many bytes are copied on the calling thread: handing
// chunks to the pool costs more than it saves.
constexpr size_t kParallelBytes = size_t{256} << 10;
// Target bytes per parallel chunk.
constexpr size_t kChunkBytes = size_t{64} << 10;

inline void prefetch_row(const uint8_t* row, size_t row_bytes) {
#if defined(__GNUC__) || defined(__clang__)
  const size_t span = std::min(row_bytes, kPrefetchBytes);
  for (size_t off = 0; off < span; off += kLine) {
    __builtin_prefetch(row + off, 0 /*read*/, 0 /*no temporal locality*/);
  }
#else
  (void)row;
  (void)row_bytes;
#endif
}

// Copies rows [begin, end) of the batch. RowBytes > 0 fixes the row size at
// compile time; 0 means use the runtime row_bytes.
template <size_t RowBytes>
void copy_rows(const uint8_t* src, size_t row_bytes, const uint32_t* indices,
               size_t begin, size_t end, uint8_t* dst) {
  const size_t rb = RowBytes ? RowBytes : row_bytes;
  const size_t ahead = std::min(end, begin + kPrefetchRows);
  for (size_t j = begin; j < ahead; ++j) {
    prefetch_row(src + size_t{indices[j]} * rb, rb);
  }
  for (size_t j = begin; j < end; ++j) {
    if (j + kPrefetchRows < end) {
      prefetch_row(src + size_t{indices[j + kPrefetchRows]} * rb, rb);
    }
    std::memcpy(dst + j * rb, src + size_t{indices[j]} * rb, rb);
  }
}

using CopyFn = void (*)(const uint8_t*, size_t, const uint32_t*, size_t,
                        size_t, uint8_t*);

CopyFn pick_copy(size_t row_bytes) {
  switch (row_bytes) {
    case 1: return copy_rows<1>;
    case 2: return copy_rows<2>;
    case 4: return copy_rows<4>;
    case 8: return copy_rows<8>;
    case 12: return copy_rows<12>;
    case 16: return copy_rows<16>;
    case 32: return copy_rows<32>;
    case 64: return copy_rows<64>;
    case 128: return copy_rows<128>;
    case 256: return copy_rows<256>;
    case 512: return copy_rows<512>;
    case 1024: return copy_rows<1024>;
    case 2048: return copy_rows<2048>;
    case 4096: return copy_rows<4096>;
    default: return copy_rows<0>;
  }
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
  const CopyFn copy = pick_copy(row_bytes);
  const size_t total = count * row_bytes;
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
