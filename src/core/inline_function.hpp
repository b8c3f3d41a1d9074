// A move-only std::function that keeps its callable inline (no heap) when it fits in
// `Capacity` bytes, as the completions of the message path do; a larger one goes to the heap.
#pragma once

#include <cassert>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace smppd {

template <class Signature, std::size_t Capacity = 192>
class InlineFunction;

template <class R, class... Args, std::size_t Capacity>
class InlineFunction<R(Args...), Capacity> {
  static_assert(Capacity >= sizeof(void*), "room for the heap fallback's pointer");

 public:
  // Whether a callable of type F is kept inline (no allocation): for static_asserts where
  // the hot path builds its completions.
  template <class F>
  static constexpr bool stores_inline = sizeof(std::decay_t<F>) <= Capacity &&
                                        alignof(std::decay_t<F>) <= alignof(std::max_align_t) &&
                                        std::is_nothrow_move_constructible_v<std::decay_t<F>>;

  InlineFunction() = default;
  InlineFunction(std::nullptr_t) {}  // NOLINT(google-explicit-constructor)

  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, InlineFunction> &&
                                              std::is_invocable_r_v<R, std::decay_t<F>&, Args...>>>
  InlineFunction(F&& f) {  // NOLINT(google-explicit-constructor): reads like std::function
    using T = std::decay_t<F>;
    if constexpr (stores_inline<T>) {
      ::new (static_cast<void*>(buffer_)) T(std::forward<F>(f));
      ops_ = &inline_ops<T>;
    } else {
      ::new (static_cast<void*>(buffer_)) T*(new T(std::forward<F>(f)));
      ops_ = &heap_ops<T>;
    }
  }

  InlineFunction(InlineFunction&& other) noexcept { take(other); }
  InlineFunction& operator=(InlineFunction&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  InlineFunction(const InlineFunction&) = delete;
  InlineFunction& operator=(const InlineFunction&) = delete;
  ~InlineFunction() { reset(); }

  explicit operator bool() const { return ops_ != nullptr; }

  R operator()(Args... args) {
    assert(ops_ != nullptr && "called an empty InlineFunction");
    return ops_->call(buffer_, std::forward<Args>(args)...);
  }

  void reset() {
    if (ops_ != nullptr) {
      ops_->destroy(buffer_);
      ops_ = nullptr;
    }
  }

 private:
  struct Ops {
    R (*call)(void*, Args&&...);
    void (*move)(void* from, void* to);  // into raw storage; `from` is then destroyed
    void (*destroy)(void*);
  };

  template <class T>
  static T* object(void* p) {
    return std::launder(static_cast<T*>(p));
  }
  template <class T>
  static T*& pointer(void* p) {
    return *std::launder(static_cast<T**>(p));
  }

  template <class T>
  static constexpr Ops inline_ops = {
      [](void* p, Args&&... args) -> R { return (*object<T>(p))(std::forward<Args>(args)...); },
      [](void* from, void* to) {
        ::new (to) T(std::move(*object<T>(from)));
        object<T>(from)->~T();
      },
      [](void* p) { object<T>(p)->~T(); },
  };

  template <class T>
  static constexpr Ops heap_ops = {
      [](void* p, Args&&... args) -> R { return (*pointer<T>(p))(std::forward<Args>(args)...); },
      [](void* from, void* to) { ::new (to) T*(pointer<T>(from)); },
      [](void* p) { delete pointer<T>(p); },
  };

  void take(InlineFunction& other) noexcept {
    if (other.ops_ == nullptr) return;
    other.ops_->move(other.buffer_, buffer_);
    ops_ = other.ops_;
    other.ops_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char buffer_[Capacity];
  const Ops* ops_ = nullptr;
};

}  // namespace smppd
