#pragma once
// --no-dataplane: IKE over kernel UDP sockets, in the iked instance that owns the peers (the
// parent opens them: shard_sockets.hpp). Port 4500: the non-ESP marker is stripped on receive and
// added on send; keepalives and ESP are dropped. Reads are batched (recvmmsg) until the sockets
// are drained, so a busy instance makes one poll() per batch, not per datagram; the replies the
// engine makes while a batch is handled leave together (sendmmsg) when it is done.
#include <cstdint>
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
  // Takes over bound UDP sockets (closed with the transport); their local addresses come from
  // getsockname().
  static Status adopt(const std::vector<int>& fds, TransportEvents events, std::shared_ptr<spdlog::logger> log,
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
  struct Outgoing {
    int fd;
    ike::Endpoint remote;
    std::vector<uint8_t> payload;
  };
  UdpTransport(TransportEvents events, std::shared_ptr<spdlog::logger> log);
  void flush();

  TransportEvents events_;
  std::shared_ptr<spdlog::logger> log_;
  std::vector<Socket> sockets_;
  std::unique_ptr<uint8_t[]> buffers_;  // kBatch datagrams of up to 64 KiB, untouched until used
  bool batching_ = false;               // inside on_readable: send() queues into outbox_
  std::vector<Outgoing> outbox_;
};

}  // namespace dpvpn::controld
