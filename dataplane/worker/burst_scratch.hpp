// Per-burst arrays on the worker's stack, left uninitialized.
#pragma once

#include <cstddef>
#include <type_traits>

namespace dpvpn::dataplane {

// An array of a type with default member initializers (IpAddr, PacketView, table keys) is
// zero-filled on every construction: a memset of ~0.5-1.5 KB per burst, on the data path. This
// one is not; every element must be written before it is read.
template <class T, size_t N>
struct BurstScratch {
  static_assert(std::is_trivially_destructible_v<T>);
  union {
    T at[N];
  };
  BurstScratch() {}  // NOLINT: deliberately leaves `at` uninitialized
  T& operator[](size_t i) { return at[i]; }
  const T& operator[](size_t i) const { return at[i]; }
};

}  // namespace dpvpn::dataplane
