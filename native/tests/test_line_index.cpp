// index_lines: records tile the file, blank lines are skipped, "\r\n" and a
// missing final newline work; line_number_at counts every line.
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "rp/line_index.h"

namespace {

std::vector<uint64_t> index(const std::string& s) {
  const rp::OffsetVector o = rp::index_lines(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  return std::vector<uint64_t>(o.begin(), o.end());
}

uint64_t line_of(const std::string& s, uint64_t offset) {
  return rp::line_number_at(reinterpret_cast<const uint8_t*>(s.data()), s.size(), offset);
}

std::string record(const std::string& s, const std::vector<uint64_t>& o, size_t i) {
  return s.substr(o[i], o[i + 1] - o[i]);
}

}  // namespace

TEST(plain_lines) {
  const std::string s = "{\"a\":1}\n[2]\n3\n";
  const auto o = index(s);
  REQUIRE(o.size() == 4);
  CHECK_EQ(record(s, o, 0), std::string("{\"a\":1}\n"));
  CHECK_EQ(record(s, o, 1), std::string("[2]\n"));
  CHECK_EQ(record(s, o, 2), std::string("3\n"));
}

TEST(missing_final_newline) {
  const std::string s = "1\n22";
  const auto o = index(s);
  REQUIRE(o.size() == 3);
  CHECK_EQ(record(s, o, 1), std::string("22"));
  CHECK_EQ(o.back(), uint64_t{4});
}

TEST(crlf_endings) {
  const std::string s = "1\r\n2\r\n\r\n3";
  const auto o = index(s);
  REQUIRE(o.size() == 4);
  CHECK_EQ(record(s, o, 0), std::string("1\r\n"));
  CHECK_EQ(record(s, o, 1), std::string("2\r\n\r\n"));  // the blank line goes with record 1
  CHECK_EQ(record(s, o, 2), std::string("3"));
}

TEST(blank_lines_are_not_records) {
  const std::string s = "\n \t\r\n\n1\n\n  \n2\n\n";
  const auto o = index(s);
  REQUIRE(o.size() == 3);
  CHECK_EQ(o[0], uint64_t{6});  // leading blank lines skipped
  CHECK_EQ(record(s, o, 0), std::string("1\n\n  \n"));
  CHECK_EQ(record(s, o, 1), std::string("2\n\n"));
  CHECK_EQ(o.back(), uint64_t{s.size()});
}

TEST(ends_exclude_line_endings) {
  const std::string s = "\n a \r\n\n{}\r\r\nx";
  rp::OffsetVector ends;
  const auto o = rp::index_lines(reinterpret_cast<const uint8_t*>(s.data()), s.size(), &ends);
  REQUIRE(o.size() == 4 && ends.size() == 3);
  CHECK_EQ(s.substr(o[0], ends[0] - o[0]), std::string(" a "));
  CHECK_EQ(s.substr(o[1], ends[1] - o[1]), std::string("{}\r"));  // only the "\r" of "\r\n" goes
  CHECK_EQ(s.substr(o[2], ends[2] - o[2]), std::string("x"));
}

TEST(leading_spaces_make_a_record) {
  const std::string s = "  {}\n";
  const auto o = index(s);
  REQUIRE(o.size() == 2);
  CHECK_EQ(o[0], uint64_t{0});
}

TEST(no_records) {
  CHECK(index("") == std::vector<uint64_t>{0});
  CHECK(index("\n\n \r\n") == std::vector<uint64_t>{5});
  CHECK(rp::index_lines(nullptr, 0) == rp::OffsetVector{0});
}

TEST(line_numbers_count_blank_lines) {
  const std::string s = "\n1\n\r\n2";
  CHECK_EQ(line_of(s, 0), uint64_t{1});
  CHECK_EQ(line_of(s, 1), uint64_t{2});
  CHECK_EQ(line_of(s, 2), uint64_t{2});  // the '\n' ends line 2
  CHECK_EQ(line_of(s, 5), uint64_t{4});
  CHECK_EQ(line_of(s, s.size()), uint64_t{4});
  CHECK_THROWS(std::out_of_range, line_of(s, s.size() + 1));
}

// Against a byte-at-a-time reference over random files of short lines.
TEST(matches_a_reference) {
  std::mt19937 rng(7);
  const char alphabet[] = {'\n', '\n', '\r', ' ', '\t', 'x', '{', '}'};
  for (int round = 0; round < 200; ++round) {
    std::string s(rng() % 300, ' ');
    for (char& c : s) c = alphabet[rng() % sizeof alphabet];
    std::vector<uint64_t> want;
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (i == s.size() || s[i] == '\n') {
        bool blank = true;
        for (size_t j = start; j < i; ++j) blank = blank && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r');
        if (!blank) want.push_back(start);
        start = i + 1;
      }
    }
    want.push_back(s.size());
    CHECK(index(s) == want);
    rp::OffsetVector ends;
    rp::index_lines(reinterpret_cast<const uint8_t*>(s.data()), s.size(), &ends);
    REQUIRE(ends.size() + 1 == want.size());
    for (size_t k = 0; k < ends.size(); ++k) {
      size_t e = s.find('\n', want[k]);
      if (e == std::string::npos) {
        e = s.size();
      } else if (e > want[k] && s[e - 1] == '\r') {
        --e;
      }
      CHECK_EQ(ends[k], uint64_t{e});
    }
    for (size_t k = 0; k + 1 < want.size(); ++k) {
      uint64_t lines = 1;
      for (uint64_t j = 0; j < want[k]; ++j) lines += s[j] == '\n';
      CHECK_EQ(line_of(s, want[k]), lines);
    }
  }
}

// Large indexes live in huge-page memory; their contents are the same.
TEST(large_index) {
  std::string s;
  for (int i = 0; i < 400000; ++i) s += (i % 7 == 0) ? "\n" : "{\"i\":1}\n";
  const auto o = index(s);
  size_t records = 0;
  for (int i = 0; i < 400000; ++i) records += i % 7 != 0;
  REQUIRE(o.size() == records + 1);
  CHECK_EQ(o[0], uint64_t{1});  // line 0 is blank
  CHECK_EQ(o[1], uint64_t{9});  // line 1 is 8 bytes
  CHECK_EQ(o.back(), uint64_t{s.size()});
}

RP_TEST_MAIN()
