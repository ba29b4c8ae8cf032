// Variable-length (ragged) columns, laid out as Arrow lays them: a values
// array plus offsets, row i being values[offsets[i], offsets[i+1]) (n+1
// offsets; the first need not be 0, as in a sliced Arrow array), or plus
// separate starts and ends (row i = values[starts[i], ends[i])). Offsets are
// int32 or int64 elements (not bytes), native-endian.
//
// A batch of ragged rows is assembled in two passes: plan_ragged() reads each
// chosen row's bounds once, checks them, and writes the batch's int32 offsets
// (so the batch's size is known before any byte is copied) and each row's
// address; copy_ragged() then copies using only what the plan captured. A source whose offsets
// change meanwhile (JavaScript may write them while a thread copies) can
// therefore give wrong rows, never a read outside the values.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace rp {

class ChunkIndex;
class ThreadPool;

// Bad data in a source (offsets out of bounds or decreasing, a batch too
// large for int32 offsets). The Node binding reports it as RP_SOURCE_INVALID.
class SourceDataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RaggedColumn {
  const uint8_t* values = nullptr;
  uint64_t value_count = 0;   // elements at values
  size_t element_bytes = 1;
  const uint8_t* starts = nullptr;  // int32 or int64 entries
  const uint8_t* ends = nullptr;    // null: Arrow layout (row i ends at starts[i + 1])
  bool offsets64 = false;
  uint64_t rows = 0;
};

struct RaggedStats {
  uint64_t max_row = 0;  // elements of the longest row
  uint64_t total = 0;    // elements of all rows together
};

// Checks every row's bounds in one pass: 0 <= start <= end <= value_count,
// and (Arrow layout) offsets never decrease. Throws SourceDataError naming the
// first bad entry ("offsets[7] = 12 is less than offsets[6] = 15").
RaggedStats check_ragged(const RaggedColumn& col);

// The most elements a batch's ragged column may hold (its offsets are int32).
constexpr uint64_t kMaxBatchElements = 0x7fffffff;

// A ragged column made of chunks (an Arrow file's record batches): chunk k
// holds the column's rows [first[k], first[k + 1]). Every chunk has the same
// element_bytes and offsets64. A plain column is one chunk. index, when set,
// finds a row's chunk (built over `first`); without it a call with several
// chunks builds one.
struct RaggedChunks {
  const RaggedColumn* chunks = nullptr;
  const uint64_t* first = nullptr;  // count + 1 entries, first[0] = 0
  size_t count = 0;
  const ChunkIndex* index = nullptr;
};

// Pass 1 over the rows idx[0, count) (each < the column's rows): writes the
// batch's offsets out_offsets[0, count] (from 0) and where each row's values
// start in memory to src[0, count). Returns the total elements. Throws
// SourceDataError if a row is out of bounds now, or the total exceeds
// kMaxBatchElements; std::out_of_range for an index past the rows.
uint64_t plan_ragged(const RaggedChunks& col, const uint32_t* idx, size_t count,
                     int32_t* out_offsets, const uint8_t** src);
uint64_t plan_ragged(const RaggedColumn& col, const uint32_t* idx, size_t count,
                     int32_t* out_offsets, const uint8_t** src);

// Pass 2: copies the planned rows into dst (out_offsets[count] elements of
// element_bytes), split across pool for large batches (pool may be null).
void copy_ragged(const uint8_t* const* src, const int32_t* out_offsets, size_t count,
                 size_t element_bytes, uint8_t* dst, ThreadPool* pool);

// Rows idx[0, count), each padded or truncated to `length` elements: row j
// goes to dst + j * length * element_bytes, its first min(row length, length)
// elements from the source, the rest copies of the element at pad
// (element_bytes bytes); lengths[j] = min(row length, length). Throws like
// plan_ragged (before writing anything for a bad index, possibly after some
// rows for bounds that changed).
void gather_padded(const RaggedChunks& col, const uint32_t* idx, size_t count, size_t length,
                   const uint8_t* pad, uint8_t* dst, int32_t* lengths, ThreadPool* pool);
void gather_padded(const RaggedColumn& col, const uint32_t* idx, size_t count, size_t length,
                   const uint8_t* pad, uint8_t* dst, int32_t* lengths, ThreadPool* pool);

}  // namespace rp
