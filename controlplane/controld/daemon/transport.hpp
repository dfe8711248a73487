#pragma once
// How controld's parent exchanges IKE datagrams with peers: kernel UDP sockets (--no-dataplane) or
// the dataplane (punted frames in, routed Inject out). Either way the instances see bare IKE
// messages (ike_udp.hpp) and never the transport.
#include <cstdint>
#include <functional>
#include <vector>

#include "core/ipc_message.hpp"
#include "engine/engine_io.hpp"

namespace dpvpn::controld {

// What a transport hands to the parent (called on the main loop or the transport's own thread).
struct TransportEvents {
  std::function<void(const ike::Datagram&)> datagram;
  std::function<void(const ipc::AcquireBody&)> acquire;
  std::function<void(const ipc::ExpireBody&)> expire;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual void send(const ike::Datagram& datagram) = 0;
  // Sockets the main loop polls for it, and what it does when one is readable.
  virtual std::vector<int> fds() const { return {}; }
  virtual void on_readable(int) {}
};

}  // namespace dpvpn::controld
