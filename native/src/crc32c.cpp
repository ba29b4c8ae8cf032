// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) with the usual
// pre/post inversion, so crc32c("123456789") == 0xE3069283 and a running crc
// can be passed back in to extend it. Two implementations: slicing-by-8 tables
// (portable, ~1 byte/cycle) and the SSE4.2 crc32 instruction (~8 bytes/3
// cycles), chosen once at run time so one binary runs on any x86-64.
#include "rp/crc32c.h"

#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RP_CRC32C_X86 1
#include <nmmintrin.h>
#endif

namespace rp {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // Castagnoli, bit-reflected

struct Tables {
  uint32_t t[8][256];
};

// t[0] is the classic byte table; t[k][b] is the crc of byte b followed by k
// zero bytes, which lets eight table lookups consume eight bytes at once.
constexpr Tables make_tables() {
  Tables tb{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    tb.t[0][b] = c;
  }
  for (int k = 1; k < 8; ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      const uint32_t prev = tb.t[k - 1][b];
      tb.t[k][b] = (prev >> 8) ^ tb.t[0][prev & 0xFF];
    }
  }
  return tb;
}

constexpr Tables kTables = make_tables();

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // unaligned-safe; compiles to one load
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

// Raw (un-inverted) slicing-by-8 update.
uint32_t update_portable(uint32_t c, const uint8_t* p, size_t len) {
  const auto& t = kTables.t;
  while (len >= 8) {
    const uint64_t v = load_le64(p) ^ c;
    c = t[7][v & 0xFF] ^ t[6][(v >> 8) & 0xFF] ^ t[5][(v >> 16) & 0xFF] ^
        t[4][(v >> 24) & 0xFF] ^ t[3][(v >> 32) & 0xFF] ^
        t[2][(v >> 40) & 0xFF] ^ t[1][(v >> 48) & 0xFF] ^ t[0][v >> 56];
    p += 8;
    len -= 8;
  }
  while (len--) c = (c >> 8) ^ t[0][(c ^ *p++) & 0xFF];
  return c;
}

#if RP_CRC32C_X86
// Raw update with the crc32 instruction, 8 bytes per step. Kept to a single
// dependency chain: simple, and already several times the table speed.
__attribute__((target("sse4.2"))) uint32_t update_sse42(uint32_t c,
                                                         const uint8_t* p,
                                                         size_t len) {
  uint64_t c64 = c;
  while (len >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c64 = _mm_crc32_u64(c64, v);
    p += 8;
    len -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c64);
  while (len--) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}

bool have_sse42() {
  __builtin_cpu_init();  // needed if we run before libgcc's own constructor
  return __builtin_cpu_supports("sse4.2");
}
#endif

using UpdateFn = uint32_t (*)(uint32_t, const uint8_t*, size_t);

UpdateFn pick_update() {
#if RP_CRC32C_X86
  if (have_sse42()) return update_sse42;
#endif
  return update_portable;
}

}  // namespace

uint32_t crc32c(const uint8_t* data, size_t len, uint32_t crc) {
  static const UpdateFn update = pick_update();
  return ~update(~crc, data, len);
}

uint32_t crc32c_portable(const uint8_t* data, size_t len, uint32_t crc) {
  return ~update_portable(~crc, data, len);
}

}  // namespace rp
