#include "rp/pack.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>
#include <cwchar>

namespace rp {
namespace {

// Row r's [start, end) in elements, checked against the values.
void bounds(const PackRows& rows, uint64_t r, uint64_t* start, uint64_t* end) {
  const int32_t s = rows.offsets[r];
  const int32_t e = rows.offsets[r + 1];
  if (s < 0 || e < s || static_cast<uint64_t>(e) > rows.value_count) {
    throw std::invalid_argument("row " + std::to_string(r) + " spans [" + std::to_string(s) + ", " + std::to_string(e) +
                                "), outside its " + std::to_string(rows.value_count) + " values");
  }
  *start = static_cast<uint64_t>(s);
  *end = static_cast<uint64_t>(e);
}

// One piece: n tokens from element `from` to slot `at`, as segment `segment`.
inline void put(const PackRows& rows, uint64_t from, uint64_t n, const PackOut& out, uint64_t at, int32_t segment) {
  const size_t eb = rows.element_bytes;
  std::memcpy(out.tokens + at * eb, rows.values + from * eb, n * eb);
  // wmemset and memcpy: glibc's (AVX2 where the CPU has it) beat the loops this
  // file is compiled to (SSE2) by about 1.3x (`bench_core pack`); wchar_t is 32-bit on the
  // platforms built for, and the positions come from a ramp kept per thread.
  static_assert(sizeof(wchar_t) == sizeof(int32_t), "wmemset writes the segment ids");
  std::wmemset(reinterpret_cast<wchar_t*>(out.segment_ids + at), static_cast<wchar_t>(segment), n);
  thread_local std::vector<int32_t> ramp;
  if (ramp.size() < n) {
    const size_t old = ramp.size();
    ramp.resize(n);
    for (size_t k = old; k < n; ++k) ramp[k] = static_cast<int32_t>(k);
  }
  std::memcpy(out.positions + at, ramp.data(), n * sizeof(int32_t));
}

}  // namespace

void pack_concat(const PackRows& rows, PackCursor* cursor, const PackOut& out, uint64_t* at, int32_t* segment) {
  while (*at < out.capacity && cursor->row < rows.rows) {
    uint64_t start;
    uint64_t end;
    bounds(rows, cursor->row, &start, &end);
    if (start + cursor->offset >= end) {  // the row is done (or empty)
      ++cursor->row;
      cursor->offset = 0;
      continue;
    }
    if (*at % out.length == 0) *segment = 0;  // a new sequence
    const uint64_t room = out.length - *at % out.length;
    const uint64_t n = std::min(end - start - cursor->offset, room);
    put(rows, start + cursor->offset, n, out, *at, ++*segment);
    *at += n;
    cursor->offset += n;
  }
}

bool pack_first_fit(const PackRows& rows, PackCursor* cursor, const PackOut& out, uint64_t* open, int32_t* used,
                    int32_t* segments) {
  const uint64_t bins = out.capacity / out.length;
  const int64_t length = static_cast<int64_t>(out.length);
  while (cursor->row < rows.rows) {
    uint64_t start;
    uint64_t end;
    bounds(rows, cursor->row, &start, &end);
    if (start + cursor->offset >= end) {
      ++cursor->row;
      cursor->offset = 0;
      continue;
    }
    const int64_t n = static_cast<int64_t>(std::min<uint64_t>(end - start - cursor->offset, out.length));
    uint64_t bin = 0;
    while (bin < *open && length - used[bin] < n) ++bin;
    if (bin == *open) {
      if (*open == bins) return true;
      ++*open;
    }
    put(rows, start + cursor->offset, static_cast<uint64_t>(n), out, bin * out.length + static_cast<uint64_t>(used[bin]),
        ++segments[bin]);
    used[bin] += static_cast<int32_t>(n);
    cursor->offset += static_cast<uint64_t>(n);
  }
  return false;
}

}  // namespace rp
