// allocate_huge_pages: zeroed, writable, aligned to a huge page on Linux, for
// sizes on and off page boundaries; bad sizes throw rather than crash.
#include <cstdint>
#include <cstring>
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

TEST(many_allocations_reuse_address_space) {
  // Each one maps a huge page extra and trims it: nothing may leak, or 4096
  // rounds of 8 MiB would exhaust a 32 GiB address-space limit.
  for (int i = 0; i < 4096; ++i) {
    void* p = rp::allocate_huge_pages(size_t{8} << 20);
    rp::free_huge_pages(p, size_t{8} << 20);
  }
  CHECK(true);
}

TEST(refuses_impossible_sizes) {
  CHECK_THROWS(std::bad_alloc, rp::allocate_huge_pages(0));
  CHECK_THROWS(std::bad_alloc, rp::allocate_huge_pages(SIZE_MAX - 4096));
}

}  // namespace

RP_TEST_MAIN()
