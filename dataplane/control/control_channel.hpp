#pragma once
// ControlChannel: the dataplane's internal punt/inject API for the control plane. The main thread
// pushes punted IKE packets and events (acquire, SA soft/hard expiry) in; a consumer (the gRPC
// agent later, a test harness now) takes them out and may queue frames to inject out of a port.
// Bounded: when the consumer lags, the oldest event is dropped and counted.
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "control/control_event.hpp"

namespace dpvpn::dataplane {

// An event as the control plane receives it: the packet, if any, copied out of its mbuf.
struct PuntedEvent {
  ControlEventType type;
  uint16_t port_index = 0;
  std::vector<uint8_t> frame;  // kIkePacket: the whole frame as received
  IpAddr src, dst, gateway;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
  uint32_t spi = 0;
  uint32_t sa_index = 0;
};

struct InjectRequest {
  uint16_t port_index;
  std::vector<uint8_t> frame;  // complete Ethernet frame
};

class ControlChannel {
 public:
  explicit ControlChannel(size_t capacity = 4096) : capacity_(capacity) {}
  // Main thread.
  void publish(PuntedEvent event);
  std::optional<InjectRequest> next_inject();
  // Consumer (any thread).
  std::optional<PuntedEvent> poll();
  void inject(uint16_t port_index, std::vector<uint8_t> frame);
  uint64_t dropped() const;

 private:
  // Control-path only (never touched by workers), so a mutex is fine here.
  mutable std::mutex mutex_;
  size_t capacity_;
  std::deque<PuntedEvent> events_;
  std::deque<InjectRequest> injects_;
  uint64_t dropped_ = 0;
};

}  // namespace dpvpn::dataplane
