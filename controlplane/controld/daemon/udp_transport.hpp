#pragma once
// --no-dataplane: IKE over kernel UDP sockets, 500 and 4500 bound on each listen address (binding
// the address itself, not the wildcard, lets two daemons share a host on different addresses).
// Port 4500: the non-ESP marker is stripped on receive and added on send; keepalives and ESP dropped.
#include <memory>
#include <vector>

#include "daemon/transport.hpp"
#include "net/ip_addr.hpp"

namespace spdlog {
class logger;
}

namespace dpvpn::controld {

class UdpTransport final : public Transport {
 public:
  static Status open(const std::vector<IpAddr>& listen, TransportEvents events, std::shared_ptr<spdlog::logger> log,
                     std::unique_ptr<UdpTransport>* out);
  ~UdpTransport() override;

  void send(const ike::Datagram& datagram) override;
  std::vector<int> fds() const override;
  void on_readable(int fd) override;

 private:
  struct Socket {
    int fd;
    ike::Endpoint local;
  };
  UdpTransport(TransportEvents events, std::shared_ptr<spdlog::logger> log)
      : events_(std::move(events)), log_(std::move(log)) {}

  TransportEvents events_;
  std::shared_ptr<spdlog::logger> log_;
  std::vector<Socket> sockets_;
};

}  // namespace dpvpn::controld
