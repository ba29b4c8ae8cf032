// A std::allocator for arrays that may grow large (a file's line index):
// blocks of 2 MiB or more come from allocate_huge_pages, so touching them
// costs one page fault per huge page rather than one per 4 KiB, which on some
// virtual machines costs more than the work that fills them. Smaller blocks
// come from the heap.
#pragma once
#include <cstddef>
#include <new>

#include "rp/huge_pages.h"

namespace rp {

template <typename T>
struct HugePageAllocator {
  using value_type = T;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T)) throw std::bad_alloc();
    const size_t bytes = n * sizeof(T);
    if (bytes >= kHugePageBytes) return static_cast<T*>(allocate_huge_pages(bytes));
    return static_cast<T*>(::operator new(bytes));
  }

  void deallocate(T* p, size_t n) noexcept {
    const size_t bytes = n * sizeof(T);
    if (bytes >= kHugePageBytes) {
      free_huge_pages(p, bytes);
    } else {
      ::operator delete(p);
    }
  }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
  template <typename U>
  bool operator!=(const HugePageAllocator<U>&) const noexcept { return false; }
};

}  // namespace rp
