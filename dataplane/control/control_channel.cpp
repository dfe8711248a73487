#include "control/control_channel.hpp"

namespace dpvpn::dataplane {

void ControlChannel::publish(PuntedEvent event) {
  std::lock_guard lock(mutex_);
  if (events_.size() >= capacity_) {
    events_.pop_front();
    ++dropped_;
  }
  events_.push_back(std::move(event));
}

std::optional<InjectRequest> ControlChannel::next_inject() {
  std::lock_guard lock(mutex_);
  if (injects_.empty()) return std::nullopt;
  InjectRequest r = std::move(injects_.front());
  injects_.pop_front();
  return r;
}

std::optional<PuntedEvent> ControlChannel::poll() {
  std::lock_guard lock(mutex_);
  if (events_.empty()) return std::nullopt;
  PuntedEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void ControlChannel::inject(uint16_t port_index, std::vector<uint8_t> frame) {
  std::lock_guard lock(mutex_);
  injects_.push_back({port_index, std::move(frame)});
}

uint64_t ControlChannel::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

}  // namespace dpvpn::dataplane
