// Counts every allocation of a test binary: replaces the global operator new and delete. Include
// it in one file of the binary only (the definitions are not inline, as replacements must be).
// GCC 12 at -O2 takes an inlined new/delete pair for a mismatch: such a test is built with
// -Wno-mismatched-new-delete (a false positive).
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

namespace smppd::test {
inline std::atomic<long> g_allocations{0};
}  // namespace smppd::test

void* operator new(std::size_t size) {
  smppd::test::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
