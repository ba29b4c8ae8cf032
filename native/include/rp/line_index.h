// The records of a JSON Lines file: one scan of the (mapped) bytes with
// memchr finds every line; lines holding only spaces, tabs and '\r' are blank
// and are not records.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rp/huge_page_allocator.h"

namespace rp {

// Offsets in huge-page memory: a large index costs few page faults.
using OffsetVector = std::vector<uint64_t, HugePageAllocator<uint64_t>>;

// n + 1 byte offsets for n records, laid out as a ragged column's offsets
// over the file's bytes: record i is [offsets[i], offsets[i + 1]), i.e. its
// line, its line ending ("\n" or "\r\n") and any blank lines after it, so the
// records tile the file from the first record's start to its end. A final
// line without a newline is a record too. offsets[0] skips leading blank
// lines; a file without records gives { size }. With `ends`, also fills
// (*ends)[i] with where record i's own bytes end: before its "\n" (and a
// "\r" before that), so [offsets[i], (*ends)[i]) is the line's content.
OffsetVector index_lines(const uint8_t* data, size_t size, OffsetVector* ends = nullptr);

// The 1-based number of the line holding byte `offset` (offset <= size):
// one plus the '\n' bytes before it, blank lines included.
uint64_t line_number_at(const uint8_t* data, size_t size, uint64_t offset);

}  // namespace rp
