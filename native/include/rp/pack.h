// Packing ragged token rows into fixed-length sequences (Grain's and T5X's
// layout): tokens, segment ids (1, 2, ... per piece of a row in a sequence,
// 0 for padding) and positions (0, 1, ... within each piece). The caller
// (packSequences) owns the order and the state; these copy one inner batch's
// rows at a time, so a packed batch costs a few calls, not one per row.
// Rows are values[offsets[r], offsets[r + 1]) of element_bytes each; every
// row's bounds are checked (std::invalid_argument) before its bytes are read.
#pragma once
#include <cstddef>
#include <cstdint>

namespace rp {

struct PackRows {
  const uint8_t* values = nullptr;
  uint64_t value_count = 0;
  const int32_t* offsets = nullptr;  // rows + 1
  uint64_t rows = 0;
  size_t element_bytes = 4;
};

// Where packing stands in a batch of rows: the row and the token in it.
struct PackCursor {
  uint64_t row = 0;
  uint64_t offset = 0;
};

// The output: capacity = sequences × length slots of tokens, segment ids and positions.
struct PackOut {
  uint8_t* tokens = nullptr;
  int32_t* segment_ids = nullptr;
  int32_t* positions = nullptr;
  uint64_t length = 0;
  uint64_t capacity = 0;
};

// Concatenate then split: copies tokens from *cursor on into out from slot
// *at on, until out is full or the rows end. *segment is the last segment id
// used in the sequence holding slot *at - 1 (reset at each sequence start).
void pack_concat(const PackRows& rows, PackCursor* cursor, const PackOut& out, uint64_t* at, int32_t* segment);

// First fit: places the rows from *cursor on, each cut into pieces of at most
// out.length tokens, into the first of out's sequences (bins) with room; a
// piece that fits none opens the next bin (*open of them are in use). Stops at
// a piece that fits none when every bin is open (returns true: the group is
// full, *cursor at that piece) or when the rows end (false). used[b] and
// segments[b]: tokens and pieces in bin b.
bool pack_first_fit(const PackRows& rows, PackCursor* cursor, const PackOut& out, uint64_t* open, int32_t* used,
                    int32_t* segments);

}  // namespace rp
