// Why huge pages: a gather reads rows at random addresses, so nearly every row
// misses the TLB, and with 4 KiB pages each miss is a page walk (two nested
// walks under a hypervisor). On the 2-core bench VM a random 64-byte read costs
// about 100 ns from 4 KiB pages and about 40 ns from 2 MiB pages, while
// software prefetch does not help: the walks, not the loads, are the limit.
// The memory comes straight from mmap, not malloc, so it can be aligned to a
// huge page and advised before its first touch (pages faulted in after the
// advice are huge right away; advising touched memory waits for khugepaged).
#include "rp/huge_pages.h"

#include <cstdint>
#include <new>

#if defined(_WIN32)
#include <windows.h>
#else
#include <sys/mman.h>

#include <unistd.h>

#include <cstdint>
#endif

namespace rp {

#if defined(_WIN32)

void* allocate_huge_pages(size_t bytes) {
  // Large pages on Windows need a privilege few processes hold; plain
  // committed pages are zeroed and 64 KiB-aligned.
  void* p = VirtualAlloc(nullptr, bytes, MEM_RESERVE | MEM_COMMIT,
                         PAGE_READWRITE);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void free_huge_pages(void* p, size_t /*bytes*/) noexcept {
  if (p != nullptr) VirtualFree(p, 0, MEM_RELEASE);
}

#else

void* allocate_huge_pages(size_t bytes) {
  if (bytes == 0) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Map one huge page extra, then unmap the unaligned head and whatever lies
  // past the page holding the last byte, so what stays starts aligned and is
  // exactly what munmap(p, bytes) gives back later.
  if (bytes > SIZE_MAX - 2 * kHugePageBytes) throw std::bad_alloc();
  const size_t span = bytes + kHugePageBytes;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned =
      (start + kHugePageBytes - 1) & ~uintptr_t{kHugePageBytes - 1};
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t end = (aligned + bytes + page - 1) & ~(page - 1);
  if (start + span > end) {
    munmap(reinterpret_cast<void*>(end), start + span - end);
  }
  void* p = reinterpret_cast<void*>(aligned);
  // Advice only: where THP is off or unavailable the memory stays usable.
  madvise(p, bytes, MADV_HUGEPAGE);
  return p;
#else
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
#endif
}

void free_huge_pages(void* p, size_t bytes) noexcept {
  if (p != nullptr && bytes != 0) munmap(p, bytes);
}

#endif

HugePageAdvice advise_huge_pages(void* p, size_t bytes, bool collapse) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const uintptr_t start = reinterpret_cast<uintptr_t>(p);
  if (bytes > UINTPTR_MAX - start) return HugePageAdvice::kNone;
  const uintptr_t first = (start + kHugePageBytes - 1) & ~uintptr_t{kHugePageBytes - 1};
  const uintptr_t last = (start + bytes) & ~uintptr_t{kHugePageBytes - 1};
  if (last <= first) return HugePageAdvice::kNone;
  void* interior = reinterpret_cast<void*>(first);
  const size_t length = last - first;
  if (madvise(interior, length, MADV_HUGEPAGE) != 0) return HugePageAdvice::kNone;
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // Linux 6.1; older headers lack it, older kernels refuse it
#endif
  if (collapse && madvise(interior, length, MADV_COLLAPSE) == 0) return HugePageAdvice::kCollapsed;
  return HugePageAdvice::kAdvised;
#else
  (void)p;
  (void)bytes;
  (void)collapse;
  return HugePageAdvice::kNone;
#endif
}

}  // namespace rp
