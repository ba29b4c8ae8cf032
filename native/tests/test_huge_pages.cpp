// allocate_huge_pages: zeroed, writable, aligned to a huge page on Linux, for
// sizes on and off page boundaries; bad sizes throw rather than crash.
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <new>

#include "check.h"
#include "rp/huge_pages.h"

namespace {

TEST(zeroed_writable_and_aligned) {
  for (size_t bytes : {size_t{1}, size_t{4096}, size_t{5000},
                       rp::kHugePageBytes, rp::kHugePageBytes * 3 + 17}) {
    auto* p = static_cast<uint8_t*>(rp::allocate_huge_pages(bytes));
    REQUIRE(p != nullptr);
#if defined(__linux__)
    CHECK_EQ(reinterpret_cast<uintptr_t>(p) % rp::kHugePageBytes, uintptr_t{0});
#endif
    bool zero = true;
    for (size_t i = 0; i < bytes; ++i) zero = zero && p[i] == 0;
    CHECK_MSG(zero, "size " + std::to_string(bytes));
    std::memset(p, 0xAB, bytes);
    CHECK_EQ(p[bytes - 1], uint8_t{0xAB});
    rp::free_huge_pages(p, bytes);
  }
}

// The process's mapped address space in kB (VmSize in /proc/self/status).
static long vm_size_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmSize:", 0) == 0) return std::stol(line.substr(7));
  }
  return -1;
}

TEST(many_allocations_reuse_address_space) {
  // Each one maps a huge page extra and trims it: a leak of even the trimmed
  // part would grow the address space by about 2 MiB a round.
  const long before = vm_size_kb();
  REQUIRE(before > 0);
  for (int i = 0; i < 4096; ++i) {
    void* p = rp::allocate_huge_pages(size_t{8} << 20);
    rp::free_huge_pages(p, size_t{8} << 20);
  }
  const long grown = vm_size_kb() - before;
  CHECK_MSG(grown < 8 * 1024, "address space grew by " + std::to_string(grown) + " kB");
}

TEST(refuses_impossible_sizes) {
  CHECK_THROWS(std::bad_alloc, rp::allocate_huge_pages(0));
  CHECK_THROWS(std::bad_alloc, rp::allocate_huge_pages(SIZE_MAX - 4096));
}

}  // namespace

TEST(advice_keeps_bytes_and_stays_inside_the_range) {
  const size_t bytes = rp::kHugePageBytes * 5;
  auto* base = static_cast<uint8_t*>(rp::allocate_huge_pages(bytes));
  for (size_t i = 0; i < bytes; ++i) base[i] = static_cast<uint8_t>(i * 31 + (i >> 12));
  // An unaligned range: only its whole huge pages are advised.
  uint8_t* p = base + 4096 + 3;
  const size_t len = bytes - 3 * 4096;
  const rp::HugePageAdvice a = rp::advise_huge_pages(p, len, true);
#if defined(__linux__)
  CHECK(a != rp::HugePageAdvice::kNone);
#endif
  bool same = true;
  for (size_t i = 0; i < bytes; ++i) same = same && base[i] == static_cast<uint8_t>(i * 31 + (i >> 12));
  CHECK(same);
  // Too small to hold a whole huge page: nothing to do.
  CHECK(rp::advise_huge_pages(base + 1, rp::kHugePageBytes, true) == rp::HugePageAdvice::kNone);
  CHECK(rp::advise_huge_pages(base, 0, false) == rp::HugePageAdvice::kNone);
  rp::free_huge_pages(base, bytes);
}

RP_TEST_MAIN()
