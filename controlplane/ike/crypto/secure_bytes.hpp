#pragma once
// SecureBytes: a byte vector for key material. Its allocator wipes every buffer it releases
// (including the old buffer when the vector grows), so keys do not linger in freed heap memory.
#include <openssl/crypto.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <vector>

namespace dpvpn::ike {

using ByteView = std::span<const uint8_t>;

template <class T>
struct CleansingAllocator {
  using value_type = T;
  CleansingAllocator() = default;
  template <class U>
  CleansingAllocator(const CleansingAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept {
    OPENSSL_cleanse(p, n * sizeof(T));
    ::operator delete(p);
  }
  friend bool operator==(const CleansingAllocator&, const CleansingAllocator&) { return true; }
};

using SecureBytes = std::vector<uint8_t, CleansingAllocator<uint8_t>>;

inline SecureBytes secure_copy(ByteView bytes) { return SecureBytes(bytes.begin(), bytes.end()); }

}  // namespace dpvpn::ike
