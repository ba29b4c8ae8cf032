// rp::pack_concat and rp::pack_first_fit on small rows: the layout (segment
// ids from 1 per piece, positions from 0), continuing across calls, the
// group-full stop, and rows whose offsets leave the values.
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "rp/pack.h"

namespace {

struct Rows {
  std::vector<int32_t> values;
  std::vector<int32_t> offsets{0};
  explicit Rows(std::vector<int> lengths) {
    for (int l : lengths) {
      for (int k = 0; k < l; ++k) values.push_back(static_cast<int32_t>(offsets.size() * 100 + k));
      offsets.push_back(static_cast<int32_t>(values.size()));
    }
  }
  rp::PackRows view() const {
    return rp::PackRows{reinterpret_cast<const uint8_t*>(values.data()), values.size(), offsets.data(), offsets.size() - 1, 4};
  }
};

struct Out {
  std::vector<int32_t> tokens, seg, pos;
  Out(size_t sequences, size_t length) : tokens(sequences * length, -1), seg(sequences * length, -1), pos(sequences * length, -1) {}
  rp::PackOut view(size_t length) {
    return rp::PackOut{reinterpret_cast<uint8_t*>(tokens.data()), seg.data(), pos.data(), length, tokens.size()};
  }
};

}  // namespace

TEST(concat_cuts_rows_at_sequence_ends) {
  const Rows rows({3, 0, 5, 2});  // row values: 100.., 300.., 400..
  Out out(2, 4);
  rp::PackCursor cursor;
  uint64_t at = 0;
  int32_t segment = 0;
  rp::pack_concat(rows.view(), &cursor, out.view(4), &at, &segment);
  CHECK_EQ(at, uint64_t{8});
  CHECK((out.tokens == std::vector<int32_t>{100, 101, 102, 300, 301, 302, 303, 304}));
  CHECK((out.seg == std::vector<int32_t>{1, 1, 1, 2, 1, 1, 1, 1}));
  CHECK((out.pos == std::vector<int32_t>{0, 1, 2, 0, 0, 1, 2, 3}));
  CHECK_EQ(cursor.row, uint64_t{2});
  CHECK_EQ(cursor.offset, uint64_t{5});
  // The next call continues at the next row, in a fresh output.
  Out next(1, 4);
  at = 0;
  rp::pack_concat(rows.view(), &cursor, next.view(4), &at, &segment);
  CHECK_EQ(at, uint64_t{2});
  CHECK((std::vector<int32_t>(next.tokens.begin(), next.tokens.begin() + 2) == std::vector<int32_t>{400, 401}));
  CHECK_EQ(cursor.row, uint64_t{4});
}

TEST(first_fit_places_pieces_and_stops_when_full) {
  const Rows rows({3, 4, 1, 9, 2});  // the 9 is cut into 4, 4, 1
  Out out(2, 4);
  rp::PackCursor cursor;
  uint64_t open = 0;
  std::vector<int32_t> used(2, 0), segments(2, 0);
  const bool full = rp::pack_first_fit(rows.view(), &cursor, out.view(4), &open, used.data(), segments.data());
  CHECK(full);
  // Bin 0: row 0 (3) + row 2 (1); bin 1: row 1 (4); the 9's first piece fits neither.
  CHECK((out.tokens == std::vector<int32_t>{100, 101, 102, 300, 200, 201, 202, 203}));
  CHECK((out.seg == std::vector<int32_t>{1, 1, 1, 2, 1, 1, 1, 1}));
  CHECK((out.pos == std::vector<int32_t>{0, 1, 2, 0, 0, 1, 2, 3}));
  CHECK_EQ(cursor.row, uint64_t{3});
  CHECK_EQ(cursor.offset, uint64_t{0});
  CHECK_EQ(open, uint64_t{2});
}

TEST(rows_outside_their_values_throw) {
  Rows rows({3, 2});
  rows.offsets[2] = 99;
  Out out(1, 8);
  rp::PackCursor cursor;
  uint64_t at = 0;
  int32_t segment = 0;
  bool threw = false;
  try {
    rp::pack_concat(rows.view(), &cursor, out.view(8), &at, &segment);
  } catch (const std::invalid_argument&) {
    threw = true;
  }
  CHECK(threw);
}

RP_TEST_MAIN()
