#include "ike/crypto/random.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <array>
#include <atomic>
#include <climits>
#include <cstring>

#include "ike/crypto/openssl_util.hpp"

namespace dpvpn::ike {

namespace {

// Small requests (nonces, SPIs) come out of a per-thread pool refilled 4 KiB at a time: one
// RAND_bytes call costs about as much as a nonce's worth of DRBG output times a hundred. The pool
// belongs to the process that filled it: a forked child refills before it draws. Forks are counted
// by a pthread_atfork handler (asking getpid() on every draw was five syscalls per IKE setup).
struct RandomPool {
  static constexpr size_t kSize = 4096;
  std::array<uint8_t, kSize> bytes{};
  size_t used = kSize;
  unsigned generation = 0;
};

std::atomic<unsigned> fork_generation{1};

unsigned current_generation() {
  static const bool counting = pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); }) == 0;
  return counting ? fork_generation.load(std::memory_order_relaxed) : 0;  // 0: not counting, refill every time
}

}  // namespace

Status random_bytes(std::span<uint8_t> out) {
  // RAND_bytes takes an int length; IKE never asks for more than a few hundred bytes at once.
  if (out.size() > static_cast<size_t>(INT_MAX)) {
    return Status(StatusCode::kInvalidArgument, "random_bytes: request too large");
  }
  if (out.empty()) return Status::ok();
  thread_local RandomPool pool;
  if (out.size() > RandomPool::kSize / 8) {
    if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) return openssl_error("RAND_bytes");
    return Status::ok();
  }
  const unsigned generation = current_generation();
  if (pool.used + out.size() > RandomPool::kSize || pool.generation != generation || generation == 0) {
    if (RAND_bytes(pool.bytes.data(), static_cast<int>(pool.bytes.size())) != 1) return openssl_error("RAND_bytes");
    pool.used = 0;
    pool.generation = generation;
  }
  std::memcpy(out.data(), pool.bytes.data() + pool.used, out.size());
  OPENSSL_cleanse(pool.bytes.data() + pool.used, out.size());  // handed out once, kept nowhere else
  pool.used += out.size();
  return Status::ok();
}

Status random_ike_spi(uint64_t* out) {
  uint64_t spi = 0;
  while (spi == 0) {
    if (Status st = random_bytes({reinterpret_cast<uint8_t*>(&spi), sizeof spi}); !st) return st;
  }
  *out = spi;
  return Status::ok();
}

}  // namespace dpvpn::ike
