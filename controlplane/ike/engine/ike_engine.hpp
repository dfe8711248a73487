#pragma once
// IkeEngine: the IKE SAs of one iked instance (RFC 7296) — IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA,
// INFORMATIONAL as initiator and responder, retransmissions, rekeys, DPD — over the seams of
// engine_io.hpp. Single-threaded: the caller (an instance process) feeds it datagrams and ticks and
// reads its status; nothing inside blocks or sleeps.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "controld_config.hpp"
#include "ike/engine/engine_io.hpp"

namespace spdlog {
class logger;
}

namespace dpvpn::ike {

struct EngineOptions {
  uint32_t instance = 0;               // this iked's index (logs, status)
  uint32_t cookie_threshold = 64;      // half-open IKE SAs before COOKIEs are demanded
  uint32_t retransmit_tries = 5;
  uint32_t retransmit_timeout_ms = 1000;  // doubles on each try
  uint32_t nat_keepalive_ms = 20000;      // behind a NAT (RFC 3948 §4): a keepalive this often; 0 = off
};

struct ChildStatus {
  std::string name;
  uint32_t spi_in = 0, spi_out = 0;
  std::string suite;             // "aes128gcm16"
  std::vector<SelectorRange> local_ts, remote_ts;
  uint64_t established_ms = 0;
};

struct TunnelStatus {
  std::string connection;
  Endpoint local, remote;
  uint64_t spi_i = 0, spi_r = 0;
  bool initiator = false;
  std::string state;             // "CONNECTING", "ESTABLISHED", "REKEYING", "DELETING"
  std::string suite;             // "aes128gcm16-prfsha256-x25519"
  uint32_t instance = 0;
  uint64_t established_ms = 0;
  std::vector<ChildStatus> children;
};

namespace engine_internal {
class EngineState;
}

class IkeEngine {
 public:
  IkeEngine(EngineOptions options, std::vector<controld::ConnectionConfig> connections, PacketSender& sender,
            SaInstaller& installer, std::shared_ptr<spdlog::logger> log);
  ~IkeEngine();
  IkeEngine(const IkeEngine&) = delete;
  IkeEngine& operator=(const IkeEngine&) = delete;

  // A datagram for one of our addresses (UDP 500, or 4500 without the non-ESP marker).
  void receive(const Datagram& datagram, uint64_t now_ms);
  // Retransmissions, rekeys, DPD, half-open and dead SAs: call at next_timer_ms() or sooner.
  void tick(uint64_t now_ms);
  uint64_t next_timer_ms() const;

  // Brings up `child` of `connection` (an IKE SA first if there is none). "" = every child.
  Status initiate(const std::string& connection, const std::string& child, uint64_t now_ms);
  // The dataplane saw traffic for a policy without an SA (encryption_requests): start the
  // on-demand child whose selectors cover src -> dst.
  void acquire(const IpAddr& src, const IpAddr& dst, uint64_t now_ms);
  // The dataplane's lifetime events for an inbound or outbound child SPI: soft = rekey now,
  // hard = the SA is gone (delete it from the peer too).
  void child_expired(uint32_t spi, bool hard, uint64_t now_ms);
  // Deletes every IKE SA with this peer (INFORMATIONAL delete, then local cleanup).
  Status delete_peer(const IpAddr& peer, uint64_t now_ms);
  // New connection list: connections whose config is unchanged keep their SAs; changed and
  // removed ones are deleted; start_action: start children of new/changed ones are initiated.
  void reload(std::vector<controld::ConnectionConfig> connections, uint64_t now_ms);

  std::vector<TunnelStatus> tunnels() const;
  size_t ike_sa_count() const;
  size_t half_open_count() const;

 private:
  std::unique_ptr<engine_internal::EngineState> state_;
};

}  // namespace dpvpn::ike
