#pragma once
// What leaves the workers for the main thread (and, through it, the control plane): punted IKE
// packets, acquires for flows without an SA, neighbour packets to learn from, new connections.
// Fixed-size elements on an rte_ring (MP/SC): workers never allocate to report.
#include <cstdint>

#include "net/ip_addr.hpp"

struct rte_mbuf;

namespace dpvpn::dataplane {

enum class ControlEventType : uint8_t {
  kIkePacket,       // UDP 500, or 4500 with the zero non-ESP marker, to one of our addresses
  kAcquire,         // protected flow, no outbound SA yet
  kNeighborPacket,  // ARP / NS / NA to learn a neighbour from
  kNewConnection,   // first packet of a flow: the writer creates the connections entry
  kSaSoftExpire,
  kSaHardExpire,
};

struct ControlEvent {
  rte_mbuf* packet = nullptr;  // kIkePacket, kNeighborPacket: the frame (L2 included); owner: receiver
  ControlEventType type = ControlEventType::kIkePacket;
  uint8_t proto = 0;
  uint8_t direction = 0;
  uint16_t port_index = 0;     // receiving port
  uint16_t sport = 0, dport = 0;
  uint32_t spi = 0;            // acquire: the route's SPI (0 = none); expiry: the SA's SPI
  uint32_t sa_index = 0;
  uint32_t reserved = 0;
  IpAddr src, dst;             // flow / packet addresses; acquire: dst's gateway in `gateway`
  IpAddr gateway;
};
static_assert(sizeof(ControlEvent) % 4 == 0, "rte_ring element size must be a multiple of 4");

// A packet the main thread hands to a worker to send (neighbour resolution, control-plane inject).
struct InjectItem {
  rte_mbuf* packet;  // complete frame
  uint16_t port_index;
  uint16_t reserved[3];
};

// A packet waiting for its next hop's MAC: built up to L3, Ethernet header not yet written.
struct HoldItem {
  rte_mbuf* packet;
  uint16_t port_index;
  uint16_t reserved[3];
  IpAddr next_hop;
};

}  // namespace dpvpn::dataplane
