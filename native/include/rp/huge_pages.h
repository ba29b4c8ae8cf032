// Memory for large in-memory sources that rows are gathered from at random.
#pragma once
#include <cstddef>

namespace rp {

// Alignment of allocate_huge_pages() memory: one x86-64/arm64 huge page.
constexpr size_t kHugePageBytes = size_t{2} << 20;

// Zeroed, writable memory of `bytes` bytes (> 0), from the OS rather than the
// heap. On Linux it is aligned to kHugePageBytes and advised for transparent
// huge pages (MADV_HUGEPAGE), so the kernel backs it with 2 MiB pages when it
// can; elsewhere it is page-aligned memory with ordinary pages. Throws
// std::bad_alloc when the OS refuses. Release with free_huge_pages(p, bytes).
void* allocate_huge_pages(size_t bytes);

// Gives back memory from allocate_huge_pages; `bytes` as allocated.
void free_huge_pages(void* p, size_t bytes) noexcept;

// What advise_huge_pages achieved.
enum class HugePageAdvice {
  kNone,       // nothing: too small, not Linux, or the kernel refused
  kAdvised,    // MADV_HUGEPAGE took; the kernel backs it with huge pages over time
  kCollapsed,  // and MADV_COLLAPSE turned it into huge pages now (Linux >= 6.1)
};

// Advises memory that already exists (a caller's buffer, a file mapping) for
// transparent huge pages: only the whole 2 MiB pages inside [p, p + bytes),
// so no memory outside the range is touched. With `collapse`, also asks the
// kernel to back it with huge pages at once rather than waiting for
// khugepaged. Advice never changes the bytes, and a refusal changes nothing.
HugePageAdvice advise_huge_pages(void* p, size_t bytes, bool collapse) noexcept;

}  // namespace rp
