#include "core/inline_function.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>

namespace smppd {
namespace {

// Counts live copies, to see that every callable is destroyed exactly once.
struct Tracked {
  static inline int live = 0;
  Tracked() { ++live; }
  Tracked(const Tracked&) { ++live; }
  Tracked(Tracked&&) noexcept { ++live; }
  ~Tracked() { --live; }
};

TEST(InlineFunction, CallsSmallAndLargeCallables) {
  int x = 0;
  InlineFunction<int(int)> small = [&x](int a) { return x += a; };
  EXPECT_EQ(small(2), 2);
  EXPECT_EQ(small(3), 5);
  std::array<char, 1000> big{};
  big[999] = 7;
  InlineFunction<int(int), 64> large = [big](int a) { return big[999] + a; };  // on the heap
  EXPECT_EQ(large(1), 8);
}

TEST(InlineFunction, MovesAndDestroysOnce) {
  Tracked::live = 0;
  {
    InlineFunction<void()> a = [t = Tracked()] {};
    EXPECT_EQ(Tracked::live, 1);
    InlineFunction<void()> b = std::move(a);
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_TRUE(b);
    EXPECT_EQ(Tracked::live, 1);
    InlineFunction<void()> c;
    c = std::move(b);
    EXPECT_EQ(Tracked::live, 1);
    c.reset();
    EXPECT_EQ(Tracked::live, 0);
    InlineFunction<void(), 16> heap = [t = Tracked(), pad = std::array<char, 64>{}] {};
    InlineFunction<void(), 16> heap2 = std::move(heap);
    EXPECT_EQ(Tracked::live, 1);
  }
  EXPECT_EQ(Tracked::live, 0);
}

TEST(InlineFunction, MoveOnlyCaptures) {
  auto p = std::make_unique<std::string>("hello");
  InlineFunction<std::size_t()> f = [p = std::move(p)] { return p->size(); };
  InlineFunction<std::size_t()> g = std::move(f);
  EXPECT_EQ(g(), 5u);
}

}  // namespace
}  // namespace smppd
