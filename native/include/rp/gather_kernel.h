// The device gather's per-item work, for fixed rows and for ragged rows. Each
// item copies one "unit" (1, 2, 4, 8 or 16 bytes, the widest that the row size
// and both base addresses allow, see gather_unit) so a kernel moves aligned
// words; the CPU path is rp::gather_rows / rp::copy_ragged, and the host grid
// runner (native/tests/test_grid_runner.cpp) checks these against it byte for byte.
#pragma once
#include <cstdint>
#include <cstring>

#include "rp/grid_stride.h"
#include "rp/host_device.h"

namespace rp {

// A 16-byte unit (uint4 in CUDA terms).
struct alignas(16) Unit16 {
  uint64_t lo, hi;
};

// Copies `unit` bytes; both addresses are multiples of unit.
RP_HOST_DEVICE inline void copy_unit(uint8_t* dst, const uint8_t* src, uint32_t unit) {
#if defined(__CUDA_ARCH__)
  switch (unit) {
    case 16: *reinterpret_cast<Unit16*>(dst) = *reinterpret_cast<const Unit16*>(src); break;
    case 8: *reinterpret_cast<uint64_t*>(dst) = *reinterpret_cast<const uint64_t*>(src); break;
    case 4: *reinterpret_cast<uint32_t*>(dst) = *reinterpret_cast<const uint32_t*>(src); break;
    case 2: *reinterpret_cast<uint16_t*>(dst) = *reinterpret_cast<const uint16_t*>(src); break;
    default: *dst = *src; break;
  }
#else
  std::memcpy(dst, src, unit);
#endif
}

// The widest unit in {16, 8, 4, 2, 1} that divides the row size and both
// base addresses (as integers), so every unit of every row is aligned.
RP_HOST_DEVICE inline uint32_t gather_unit(uint64_t row_bytes, uint64_t src_address, uint64_t dst_address) {
  const uint64_t all = row_bytes | src_address | dst_address;
  uint32_t unit = 16;
  while (unit > 1 && (all & (unit - 1)) != 0) unit >>= 1;
  return unit;
}

// Fixed rows: row j of dst = row idx[j] of src, rows of row_bytes bytes.
// Items are (row, unit) pairs, row-major: rows * units_per_row of them.
struct FixedGatherArgs {
  const uint8_t* src;
  uint8_t* dst;
  const uint32_t* idx;
  uint64_t rows;           // batch rows (entries of idx)
  uint64_t row_bytes;
  uint32_t unit;           // gather_unit(row_bytes, src, dst)
  uint64_t units_per_row;  // row_bytes / unit
};

RP_HOST_DEVICE inline uint64_t fixed_gather_items(const FixedGatherArgs& a) {
  return a.rows * a.units_per_row;
}

// One item (< fixed_gather_items). Indices are checked on the host before a
// launch, never here.
RP_HOST_DEVICE inline void fixed_gather_item(const FixedGatherArgs& a, uint64_t item) {
  const uint64_t row = item / a.units_per_row;
  const uint64_t at = (item - row * a.units_per_row) * a.unit;
  copy_unit(a.dst + row * a.row_bytes + at, a.src + uint64_t{a.idx[row]} * a.row_bytes + at, a.unit);
}

// A fixed-row gather thread's whole work: its grid-stride share of the items.
RP_HOST_DEVICE inline void fixed_gather_thread(const FixedGatherArgs& a, uint32_t block, uint32_t thread,
                                               uint32_t block_dim, uint32_t grid_dim) {
  const uint64_t items = fixed_gather_items(a);
  const uint64_t stride = grid::stride(grid_dim, block_dim);
  for (uint64_t i = grid::first_item(block, thread, block_dim); i < items; i += stride) fixed_gather_item(a, i);
}

// The launch shape the fixed-row kernel uses.
inline grid::Shape fixed_gather_shape(const FixedGatherArgs& a) { return grid::shape_for(fixed_gather_items(a)); }

// Ragged rows, planned on the host (rp::plan_ragged): batch row j has
// dst_offsets[j + 1] - dst_offsets[j] elements of element_bytes, read from byte
// src_offsets[j] of src and written from element dst_offsets[j] of dst. One
// block handles a row at a time (block-stride over rows), its threads striding
// over the row's bytes: the row's last pass is its tail, shorter than a block.
struct RaggedGatherArgs {
  const uint8_t* src;
  uint8_t* dst;
  const uint64_t* src_offsets;  // bytes, one per batch row
  const int32_t* dst_offsets;   // elements, rows + 1, from 0
  uint64_t rows;
  uint32_t element_bytes;
};

// The bytes of batch row `row` that lane `lane` of `lanes` copies: lane,
// lane + lanes, ... below the row's length.
RP_HOST_DEVICE inline void ragged_gather_row(const RaggedGatherArgs& a, uint64_t row, uint32_t lane, uint32_t lanes) {
  const uint64_t begin = uint64_t(a.dst_offsets[row]) * a.element_bytes;
  const uint64_t bytes = uint64_t(a.dst_offsets[row + 1]) * a.element_bytes - begin;
  const uint8_t* s = a.src + a.src_offsets[row];
  uint8_t* d = a.dst + begin;
  for (uint64_t b = lane; b < bytes; b += lanes) d[b] = s[b];
}

// A ragged gather thread's whole work: rows block, block + grid_dim, ...;
// within each, bytes thread, thread + block_dim, ...
RP_HOST_DEVICE inline void ragged_gather_thread(const RaggedGatherArgs& a, uint32_t block, uint32_t thread,
                                                uint32_t block_dim, uint32_t grid_dim) {
  for (uint64_t row = block; row < a.rows; row += grid_dim) ragged_gather_row(a, row, thread, block_dim);
}

// Launch shape for a ragged gather: a block per row, at most kMaxGrid blocks.
inline grid::Shape ragged_gather_shape(uint64_t rows, uint32_t block = grid::kBlock) {
  return grid::shape_for(rows * block, block);
}

}  // namespace rp
