#pragma once
// The IKE engine's seams: how it sends datagrams and how it installs child SAs. controld gives it
// kernel UDP sockets or the dataplane (punt/Inject, Dataplane gRPC); tests give it fakes. The engine
// itself has no threads, sockets or clocks: time comes in as now_ms on every call.
#include <cstdint>
#include <string>
#include <vector>

#include "ike/crypto/key_derivation.hpp"
#include "ike/crypto/suite.hpp"
#include "net/ip_addr.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

struct Endpoint {
  IpAddr address;
  uint16_t port = 500;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// One IKE message on the wire. On port 4500 the non-ESP marker is not part of `bytes`: the
// transport strips it on receive and adds it on send.
struct Datagram {
  Endpoint local, remote;
  std::vector<uint8_t> bytes;
};

// A Datagram whose bytes are exactly this one octet is a NAT-T keepalive (RFC 3948 §2.3), not an
// IKE message (which is never shorter than its 28-octet header): transports send it as is, without
// the non-ESP marker.
inline constexpr uint8_t kNatKeepalive = 0xff;

class PacketSender {
 public:
  virtual ~PacketSender() = default;
  virtual void send(const Datagram& datagram) = 0;
};

// An inclusive address range with protocol and ports: one traffic selector.
struct SelectorRange {
  IpAddr start, end;
  uint8_t protocol = 0;  // 0 = any
  uint16_t port_lo = 0, port_hi = 65535;
  friend bool operator==(const SelectorRange&, const SelectorRange&) = default;
};

// One direction of a negotiated child SA, as the dataplane installs it (Dataplane.AddSa).
struct ChildSaHalf {
  uint32_t spi = 0;
  bool inbound = false;
  IpAddr local, remote;  // outer (tunnel) addresses
  bool natt = false;     // ESP in UDP (RFC 3948)
  uint16_t local_port = 4500, remote_port = 4500;
  EspSuite suite;
  EspKeys keys;
  std::vector<SelectorRange> local_ts, remote_ts;  // negotiated (narrowed) selectors
  uint64_t soft_seconds = 0, hard_seconds = 0;     // the dataplane raises expiry events
};

// A child SA pair with its names, for installing, rekeying and deleting.
struct ChildSaPair {
  std::string connection, child;
  ChildSaHalf inbound, outbound;
  // A rekey we answered: the peer cannot decrypt the new SA until it has our response, so the
  // policy keeps sending on the old SA and moves to this one when the old one is removed.
  bool policy_later = false;
};

// An IKE SA as the dataplane's IKE_SA_table records it (the cluster finds IKE SAs there).
struct IkeSaRecord {
  uint64_t spi_i = 0, spi_r = 0;
  IpAddr local, remote;
  uint32_t instance = 0;
  uint32_t next_send_msgid = 0, next_recv_msgid = 0;
  uint64_t lifetime_seconds = 0;  // until the rekey (plus a margin); 0 = the table's default
  bool gone = false;              // deleted: remove the entry
};

class SaInstaller {
 public:
  virtual ~SaInstaller() = default;
  // An inbound SPI that collides with no live SA (the dataplane's AllocateSpi).
  virtual Status allocate_spi(const IpAddr& local, uint32_t* spi) = 0;
  // Inbound first, then outbound, then the policy (local_ts -> remote_ts via the outbound SA). A
  // rekey installs the new pair this way and the policy moves to the new outbound SA.
  virtual Status install(const ChildSaPair& pair) = 0;
  // Deletes both halves (the policy stays if a newer pair of the same child owns it).
  virtual Status remove(const ChildSaPair& pair) = 0;
  // An on-demand child with no SA yet: its policy (local_ts -> remote_ts, protect via `outbound`'s
  // remote) with SPI 0, so the dataplane raises an acquire for the first packet that needs it.
  // `outbound` has no SPI and no keys; install() later replaces the policy's SPI.
  virtual Status install_trap(const std::string& connection, const std::string& child, const ChildSaHalf& outbound) = 0;
  // An IKE SA was established (or rekeyed into existence), or is gone. Best effort: the IKE SA
  // works without its table entry.
  virtual void ike_sa_changed(const IkeSaRecord& record) = 0;
};

}  // namespace dpvpn::ike
