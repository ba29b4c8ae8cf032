// Batch assembly: copies whole rows at given indices into a contiguous buffer.
#pragma once
#include <cstddef>
#include <cstdint>

namespace rp {

class ThreadPool;
class ChunkIndex;

// Copies row indices[j] of src (src_rows rows of row_bytes bytes) to row j of
// dst. Checks every index before copying anything: an index >= src_rows
// throws std::out_of_range naming its position, and dst is left untouched.
// dst must not overlap indices (std::invalid_argument): the indices are read
// again while dst is written.
// Batches over 1 MiB are split across the pool (pool may be null: one thread).
// Rows are prefetched ahead; batches of 1 MiB or more with a 16-byte-aligned
// dst and rows a multiple of 16 bytes use streaming stores (no cache pollution).
// From a source of 64 MiB or more, big batches of rows of 256 bytes or more (a
// multiple of 64) into a 64-byte-aligned dst are copied in source-address
// order; that keeps up to 640 KiB of scratch per calling thread for reuse.
void gather_rows(const uint8_t* src, size_t src_rows, size_t row_bytes,
                 const uint32_t* indices, size_t count, uint8_t* dst,
                 ThreadPool* pool);

// The same from a source made of chunks (an Arrow file's record batches):
// chunk k holds rows [first[k], first[k + 1]) at chunks[k] (first has
// nchunks + 1 entries, first[0] = 0). Each row's chunk is found in O(1)
// (rp::ChunkIndex), then copied as gather_rows copies (prefetch, streaming
// stores, the pool); no address ordering. This form builds the index per
// call; callers gathering many batches keep one and use the next.
void gather_rows_chunked(const uint8_t* const* chunks, const uint64_t* first,
                         size_t nchunks, size_t row_bytes,
                         const uint32_t* indices, size_t count, uint8_t* dst,
                         ThreadPool* pool);
void gather_rows_chunked(const uint8_t* const* chunks, const ChunkIndex& index,
                         size_t row_bytes, const uint32_t* indices,
                         size_t count, uint8_t* dst, ThreadPool* pool);

}  // namespace rp
