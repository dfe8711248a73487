#pragma once
// Seconds clocks for table expiry. Injected so that tests control time exactly.
#include <atomic>
#include <cstdint>

namespace dpvpn {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t now_seconds() const = 0;
};

// CLOCK_MONOTONIC: expiry must not jump when an operator sets the wall clock.
class MonotonicClock final : public Clock {
 public:
  uint64_t now_seconds() const override;
};

// A clock that moves only when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t start = 1000) : now_(start) {}
  uint64_t now_seconds() const override { return now_.load(std::memory_order_relaxed); }
  void advance(uint64_t seconds) { now_.fetch_add(seconds, std::memory_order_relaxed); }
  void set(uint64_t seconds) { now_.store(seconds, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> now_;
};

}  // namespace dpvpn
