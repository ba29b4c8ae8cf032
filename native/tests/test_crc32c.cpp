// CRC-32C: the standard check value, known vectors, hardware path == table
// path at every length and alignment, and the streaming (extension) property.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "rp/crc32c.h"

namespace {

const uint8_t* bytes(const std::string& s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

// Bitwise reference, straight from the definition.
uint32_t crc_bitwise(const uint8_t* p, size_t len) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) {
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    b = static_cast<uint8_t>(seed);
  }
  return v;
}

}  // namespace

TEST(check_value) {
  const std::string s = "123456789";
  CHECK_EQ(rp::crc32c(bytes(s), s.size()), 0xE3069283u);
  CHECK_EQ(rp::crc32c_portable(bytes(s), s.size()), 0xE3069283u);
  CHECK_EQ(rp::crc32c(nullptr, 0), 0u);
}

TEST(rfc3720_vectors) {
  // iSCSI (RFC 3720 B.4) test patterns.
  std::vector<uint8_t> zeros(32, 0x00), ones(32, 0xFF), inc(32), dec(32);
  for (int i = 0; i < 32; ++i) {
    inc[i] = static_cast<uint8_t>(i);
    dec[i] = static_cast<uint8_t>(31 - i);
  }
  CHECK_EQ(rp::crc32c(zeros.data(), 32), 0x8A9136AAu);
  CHECK_EQ(rp::crc32c(ones.data(), 32), 0x62A8AB43u);
  CHECK_EQ(rp::crc32c(inc.data(), 32), 0x46DD794Eu);
  CHECK_EQ(rp::crc32c(dec.data(), 32), 0x113FDB5Cu);
}

TEST(dispatch_equals_portable_all_lengths_and_offsets) {
  auto buf = random_bytes(1000 + 16, 0xC0FFEEu);
  int bad = 0;
  for (size_t off = 0; off < 8; ++off) {
    for (size_t len = 0; len + off <= 1000; ++len) {
      const uint8_t* p = buf.data() + off;
      const uint32_t a = rp::crc32c(p, len);
      const uint32_t b = rp::crc32c_portable(p, len);
      if (a != b && ++bad <= 5) CHECK_EQ(a, b);
    }
  }
  CHECK_EQ(bad, 0);
  // Spot-check both against the bitwise definition.
  for (size_t len : {0, 1, 7, 8, 9, 63, 64, 65, 999}) {
    CHECK_EQ(rp::crc32c(buf.data() + 3, len), crc_bitwise(buf.data() + 3, len));
    CHECK_EQ(rp::crc32c_portable(buf.data() + 1, len),
             crc_bitwise(buf.data() + 1, len));
  }
}

TEST(extension) {
  auto buf = random_bytes(4096, 42);
  const uint32_t whole = rp::crc32c(buf.data(), buf.size());
  for (size_t cut : {0, 1, 5, 8, 100, 4095, 4096}) {
    const uint32_t a = rp::crc32c(buf.data(), cut);
    CHECK_EQ(rp::crc32c(buf.data() + cut, buf.size() - cut, a), whole);
    const uint32_t pa = rp::crc32c_portable(buf.data(), cut);
    CHECK_EQ(rp::crc32c_portable(buf.data() + cut, buf.size() - cut, pa), whole);
  }
  const std::string a = "1234", b = "56789";
  CHECK_EQ(rp::crc32c(bytes(b), b.size(), rp::crc32c(bytes(a), a.size())),
           0xE3069283u);
}

RP_TEST_MAIN()
