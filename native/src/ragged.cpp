// Ragged rows: checks, the two-pass batch gather, and padding. Like
// gather.cpp, the copy is bound by memory: rows sit at random addresses, so
// the start of upcoming rows (and their offsets) is prefetched a few rows
// ahead, and big batches are split across the pool.
#include "rp/ragged.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "rp/chunk_index.h"
#include "rp/thread_pool.h"

namespace rp {
namespace {

constexpr size_t kLine = 64;
constexpr size_t kAheadRows = 8;            // rows prefetched ahead of the copy
constexpr size_t kPrefetchRowBytes = 512;   // of each upcoming row
constexpr size_t kParallelBytes = size_t{1} << 20;  // as gather.cpp: smaller stays on this thread
constexpr size_t kChunkBytes = size_t{64} << 10;

inline void prefetch(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 0, 0);
#else
  (void)p;
#endif
}

template <typename T>
inline int64_t load(const uint8_t* base, uint64_t i) {
  T v;
  std::memcpy(&v, base + i * sizeof(T), sizeof(T));
  return static_cast<int64_t>(v);
}

std::string entry(const char* what, uint64_t i, int64_t v) {
  return std::string(what) + "[" + std::to_string(i) + "] = " + std::to_string(v);
}

template <typename T>
RaggedStats check_typed(const RaggedColumn& col) {
  const uint64_t n = col.rows;
  const auto count = static_cast<int64_t>(col.value_count);
  RaggedStats st;
  if (col.ends == nullptr) {
    const int64_t first = load<T>(col.starts, 0);
    if (first < 0) throw SourceDataError(entry("offsets", 0, first) + " is negative");
    // Branch-free over the whole array (it vectorises); only a failure walks
    // again to name the entry.
    int64_t min_len = 0;
    int64_t max_len = 0;
    int64_t prev = first;
    for (uint64_t i = 1; i <= n; ++i) {
      const int64_t cur = load<T>(col.starts, i);
      const int64_t len = cur - prev;
      min_len = std::min(min_len, len);
      max_len = std::max(max_len, len);
      prev = cur;
    }
    if (min_len < 0) {
      for (uint64_t i = 1; i <= n; ++i) {
        const int64_t a = load<T>(col.starts, i - 1);
        const int64_t b = load<T>(col.starts, i);
        if (b < a) {
          throw SourceDataError(entry("offsets", i, b) + " is less than " +
                                entry("offsets", i - 1, a) + " (offsets must never decrease)");
        }
      }
    }
    if (prev > count) {
      throw SourceDataError(entry("offsets", n, prev) + " is past the end of the values (" +
                            std::to_string(count) + " elements)");
    }
    st.max_row = static_cast<uint64_t>(max_len);
    st.total = static_cast<uint64_t>(prev - first);
    return st;
  }
  int64_t min_start = 0;
  int64_t min_len = 0;
  int64_t max_len = 0;
  int64_t max_end = 0;
  uint64_t total = 0;
  for (uint64_t i = 0; i < n; ++i) {
    const int64_t s = load<T>(col.starts, i);
    const int64_t e = load<T>(col.ends, i);
    min_start = std::min(min_start, s);
    min_len = std::min(min_len, e - s);
    max_len = std::max(max_len, e - s);
    max_end = std::max(max_end, e);
    total += static_cast<uint64_t>(e - s);
  }
  if (min_start < 0 || min_len < 0 || max_end > count) {
    for (uint64_t i = 0; i < n; ++i) {
      const int64_t s = load<T>(col.starts, i);
      const int64_t e = load<T>(col.ends, i);
      if (s < 0) throw SourceDataError(entry("starts", i, s) + " is negative");
      if (e < s) throw SourceDataError(entry("ends", i, e) + " is less than " + entry("starts", i, s));
      if (e > count) {
        throw SourceDataError(entry("ends", i, e) + " is past the end of the values (" +
                              std::to_string(count) + " elements)");
      }
    }
  }
  st.max_row = static_cast<uint64_t>(max_len);
  st.total = total;
  return st;
}

void check_indices(const uint32_t* idx, size_t count, uint64_t rows) {
  uint32_t max_index = 0;
  for (size_t j = 0; j < count; ++j) max_index = std::max(max_index, idx[j]);
  if (count == 0 || max_index < rows) return;
  for (size_t j = 0; j < count; ++j) {
    if (idx[j] >= rows) {
      throw std::out_of_range("indices[" + std::to_string(j) + "] = " + std::to_string(idx[j]) +
                              " is out of range for " + std::to_string(rows) + " rows");
    }
  }
}

[[noreturn]] void throw_changed(const RaggedColumn& col, uint32_t row, int64_t s, int64_t e) {
  throw SourceDataError("row " + std::to_string(row) + " spans [" + std::to_string(s) + ", " +
                        std::to_string(e) + "), outside its " + std::to_string(col.value_count) +
                        " values (were its offsets changed after the source was made?)");
}

// Row r's bounds, checked.
template <typename T>
inline void bounds(const RaggedColumn& col, uint64_t r, int64_t* s, int64_t* e) {
  *s = load<T>(col.starts, r);
  *e = col.ends == nullptr ? load<T>(col.starts, r + 1) : load<T>(col.ends, r);
  if (*s < 0 || *e < *s || static_cast<uint64_t>(*e) > col.value_count) {
    throw_changed(col, static_cast<uint32_t>(r), *s, *e);
  }
}

// The chunk holding row r, and r within it.
inline const RaggedColumn& locate(const RaggedChunks& col, uint32_t r, uint64_t* local) {
  if (col.count == 1) {
    *local = r;
    return col.chunks[0];
  }
  const size_t k = col.index->chunk(r);
  *local = r - col.first[k];
  return col.chunks[k];
}

template <typename T>
inline void prefetch_bounds(const RaggedChunks& col, uint32_t r) {
  uint64_t local;
  const RaggedColumn& c = locate(col, r, &local);
  prefetch(c.starts + local * sizeof(T));
  if (c.ends != nullptr) prefetch(c.ends + local * sizeof(T));
}

template <typename T>
uint64_t plan_typed(const RaggedChunks& col, const uint32_t* idx, size_t count, int32_t* out,
                    const uint8_t** src) {
  uint64_t total = 0;
  out[0] = 0;
  for (size_t j = 0; j < count; ++j) {
    if (j + 16 < count) prefetch_bounds<T>(col, idx[j + 16]);
    uint64_t local;
    const RaggedColumn& c = locate(col, idx[j], &local);
    int64_t s;
    int64_t e;
    bounds<T>(c, local, &s, &e);
    total += static_cast<uint64_t>(e - s);
    if (total > kMaxBatchElements) {
      throw SourceDataError("a batch of its rows holds more than 2^31 - 1 elements (its offsets are "
                            "int32); lower batchSize, or pad the column");
    }
    src[j] = c.values + static_cast<uint64_t>(s) * c.element_bytes;
    out[j + 1] = static_cast<int32_t>(total);
  }
  return total;
}

struct CopyJob {
  const uint8_t* const* src;
  const int32_t* out;
  size_t eb;
  uint8_t* dst;
};

void copy_range(const CopyJob& job, size_t begin, size_t end) {
  const size_t eb = job.eb;
  for (size_t k = begin; k < std::min(end, begin + kAheadRows); ++k) prefetch(job.src[k]);
  for (size_t k = begin; k < end; ++k) {
    if (k + kAheadRows < end) {
      const size_t a = k + kAheadRows;
      const size_t span = std::min<size_t>(size_t(job.out[a + 1] - job.out[a]) * eb, kPrefetchRowBytes);
      for (size_t o = 0; o < span; o += kLine) prefetch(job.src[a] + o);
    }
    const size_t bytes = size_t(job.out[k + 1] - job.out[k]) * eb;
    std::memcpy(job.dst + size_t(job.out[k]) * eb, job.src[k], bytes);
  }
}

inline void fill(uint8_t* d, size_t elements, const uint8_t* pad, size_t eb, bool zero) {
  if (elements == 0) return;
  if (zero) {
    std::memset(d, 0, elements * eb);
    return;
  }
  for (size_t i = 0; i < elements; ++i) std::memcpy(d + i * eb, pad, eb);
}

struct PadJob {
  const RaggedChunks* col;
  const uint32_t* idx;
  size_t length;
  const uint8_t* pad;
  bool zero;
  uint8_t* dst;
  int32_t* lengths;
};

template <typename T>
void pad_range(const PadJob& job, size_t begin, size_t end) {
  const RaggedChunks& col = *job.col;
  const size_t eb = col.chunks[0].element_bytes;
  const size_t row_bytes = job.length * eb;
  for (size_t j = begin; j < end; ++j) {
    if (j + 16 < end) prefetch_bounds<T>(col, job.idx[j + 16]);
    uint64_t local;
    const RaggedColumn& c = locate(col, job.idx[j], &local);
    int64_t s;
    int64_t e;
    bounds<T>(c, local, &s, &e);
    const size_t kept = static_cast<size_t>(std::min<uint64_t>(uint64_t(e - s), job.length));
    uint8_t* d = job.dst + j * row_bytes;
    std::memcpy(d, c.values + uint64_t(s) * eb, kept * eb);
    fill(d + kept * eb, job.length - kept, job.pad, eb, job.zero);
    job.lengths[j] = static_cast<int32_t>(kept);
  }
}

RaggedChunks one_chunk(const RaggedColumn& col, uint64_t* first) {
  first[0] = 0;
  first[1] = col.rows;
  return RaggedChunks{&col, first, 1, nullptr};
}

// col with an index when it has several chunks (own holds one built here).
const RaggedChunks& indexed(const RaggedChunks& col, RaggedChunks& copy, ChunkIndex& own) {
  if (col.count == 1 || col.index != nullptr) return col;
  own = ChunkIndex(col.first, col.count);
  copy = col;
  copy.index = &own;
  return copy;
}

}  // namespace

RaggedStats check_ragged(const RaggedColumn& col) {
  if (col.starts == nullptr) throw std::invalid_argument("a ragged column needs offsets");
  return col.offsets64 ? check_typed<int64_t>(col) : check_typed<int32_t>(col);
}

uint64_t plan_ragged(const RaggedChunks& chunks, const uint32_t* idx, size_t count, int32_t* out_offsets,
                     const uint8_t** src) {
  check_indices(idx, count, chunks.first[chunks.count]);
  RaggedChunks copy;
  ChunkIndex own;
  const RaggedChunks& col = indexed(chunks, copy, own);
  return col.chunks[0].offsets64 ? plan_typed<int64_t>(col, idx, count, out_offsets, src)
                                 : plan_typed<int32_t>(col, idx, count, out_offsets, src);
}

uint64_t plan_ragged(const RaggedColumn& col, const uint32_t* idx, size_t count, int32_t* out_offsets,
                     const uint8_t** src) {
  uint64_t first[2];
  return plan_ragged(one_chunk(col, first), idx, count, out_offsets, src);
}

void copy_ragged(const uint8_t* const* src, const int32_t* out_offsets, size_t count,
                 size_t element_bytes, uint8_t* dst, ThreadPool* pool) {
  if (count == 0) return;
  const CopyJob job{src, out_offsets, element_bytes, dst};
  const size_t total = size_t(out_offsets[count]) * element_bytes;
  if (pool == nullptr || pool->size() == 1 || total <= kParallelBytes) {
    copy_range(job, 0, count);
    return;
  }
  const size_t grain = std::max<size_t>(1, count * kChunkBytes / total);
  const CopyJob* j = &job;
  pool->parallel_for(count, grain, [j](size_t begin, size_t end) { copy_range(*j, begin, end); });
}

void gather_padded(const RaggedChunks& chunks, const uint32_t* idx, size_t count, size_t length,
                   const uint8_t* pad, uint8_t* dst, int32_t* lengths, ThreadPool* pool) {
  check_indices(idx, count, chunks.first[chunks.count]);
  if (count == 0) return;
  RaggedChunks copy;
  ChunkIndex own;
  const RaggedChunks& col = indexed(chunks, copy, own);
  const size_t eb = col.chunks[0].element_bytes;
  bool zero = true;
  for (size_t b = 0; b < eb; ++b) zero = zero && pad[b] == 0;
  const PadJob job{&col, idx, length, pad, zero, dst, lengths};
  auto range = col.chunks[0].offsets64 ? pad_range<int64_t> : pad_range<int32_t>;
  const size_t total = count * length * eb;
  if (pool == nullptr || pool->size() == 1 || total <= kParallelBytes) {
    range(job, 0, count);
    return;
  }
  const size_t grain = std::max<size_t>(1, kChunkBytes / std::max<size_t>(1, length * eb));
  const PadJob* j = &job;
  pool->parallel_for(count, grain, [j, range](size_t begin, size_t end) { range(*j, begin, end); });
}

void gather_padded(const RaggedColumn& col, const uint32_t* idx, size_t count, size_t length,
                   const uint8_t* pad, uint8_t* dst, int32_t* lengths, ThreadPool* pool) {
  uint64_t first[2];
  gather_padded(one_chunk(col, first), idx, count, length, pad, dst, lengths, pool);
}

}  // namespace rp
