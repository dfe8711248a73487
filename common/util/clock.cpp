#include "util/clock.hpp"

#include <ctime>

namespace dpvpn {

uint64_t MonotonicClock::now_seconds() const {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec);
}

}  // namespace dpvpn
