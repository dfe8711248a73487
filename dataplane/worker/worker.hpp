#pragma once
// Worker: one poll-mode lcore. Per loop: RX bursts from its queues, classify, answer local
// traffic, decrypt ESP for us, encrypt protected traffic, forward clear traffic, transmit through
// per-port TX buffers (drained by TSC), send what the main thread injects, report a quiescent
// state. No locks, no allocation, no syscalls (except the sleep of the idle mode for tests).
#include <atomic>
#include <cstdint>
#include <vector>

#include "config/dataplane_config.hpp"  // IdleMode, RxQueueRef
#include "control/control_event.hpp"
#include "net/next_hops.hpp"
#include "port/port_info.hpp"
#include "tables/kernel_table_set.hpp"
#include "worker/confirmed_flows.hpp"
#include "worker/own_addresses.hpp"
#include "worker/esp_stage.hpp"
#include "worker/worker_counters.hpp"

struct rte_mempool;
struct rte_ring;
struct rte_eth_dev_tx_buffer;

namespace dpvpn::dataplane {

// Shared, read-only while workers run (tables and SA slots change only through RCU).
struct DataplaneView {
  const std::vector<PortInfo>* ports = nullptr;
  const NextHops* next_hops = nullptr;
  tables::KernelTableSet* tables = nullptr;
  const SaSlot* sa_slots = nullptr;  // indexed by sa_index
  uint32_t sa_slot_count = 0;
  rte_ring* control_ring = nullptr;  // workers -> main: ControlEvent
  rte_ring* hold_ring = nullptr;     // workers -> main: HoldItem
  const std::atomic<uint64_t>* now_seconds = nullptr;
  const std::atomic<bool>* stop = nullptr;
  tables::RcuDomain* rcu = nullptr;  // workers are its readers, reader id = worker index
  rte_mempool* mbufs = nullptr;      // for fragments and ICMP errors
  IdleMode idle = IdleMode::kPoll;
  uint32_t idle_sleep_us = 100;
};

class Worker {
 public:
  static constexpr uint32_t kNoSa = UINT32_MAX;  // a clear flow's SA index in kNewConnection

  Worker(uint32_t index, const DataplaneView& view, std::vector<RxQueueRef> rx, rte_ring* inject, EspStage& esp);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Allocates the TX buffers (before launch: no allocation once running).
  bool init();
  // The lcore loop; returns when view.stop is set.
  int run();
  // One pass over all queues; returns packets received. Public for tests that drive it by hand.
  uint32_t poll_once();

  uint32_t index() const { return index_; }
  const WorkerCounters& counters() const { return counters_; }

 private:
  static constexpr uint16_t kBurst = 32;
  static_assert(kBurst <= EspStage::kMaxBurst);
  static constexpr uint16_t kPrefetchAhead = 2;  // packets between a packet's data prefetch and its parse
  // Room in a burst's ESP output for every packet plus the fragments of a few large ones.
  static constexpr size_t kOutMax = kBurst * 4;
  // More route changes than this in an inside burst: the next one defers its packets to a tunnel
  // (encrypt_deferred finds their SAs together).
  static constexpr uint16_t kSpreadRouteChanges = 2;
  void process_burst(uint16_t port_index, rte_mbuf** pkts, uint16_t n);
  // What ESP needs of a packet's IP header, from its parse.
  struct InnerIp {
    uint16_t l2_len;
    uint16_t ip_total;
    uint8_t ttl;
    bool v6;
  };
  // A packet from the inside waiting for its route's SA (spread mode), as process_burst saw it.
  struct DeferredPacket {
    rte_mbuf* m;
    const tables::VpnRoutingValue* route;
    FlowKey flow;
    InnerIp ip;
  };
  // slot: the route's outbound SA (nullptr: none installed; the control plane is asked for one).
  void encrypt_inside(rte_mbuf* m, const struct PacketView& v, const uint8_t* l3, bool v6, const IpAddr& dst,
                      const tables::VpnRoutingValue& route, const SaSlot* slot, uint16_t port_index,
                      rte_mbuf** esp_out, const SaSlot** esp_out_sa, uint16_t& n_out);
  // The route's outbound SA through its sa_index hint; nullptr when the hint is absent or stale.
  const SaSlot* hinted_sa(const tables::VpnRoutingValue& route) const;
  // The slot an outbound_SPI value names (nullptr for a miss or an index out of range).
  const SaSlot* slot_of(const tables::OutboundSpiValue* value) const;
  uint16_t encrypt_deferred(const DeferredPacket* d, uint16_t n, uint16_t port_index, rte_mbuf** esp_out,
                            const SaSlot** esp_out_sa, uint16_t n_out);
  void request_sa(rte_mbuf* m, const struct PacketView& v, const uint8_t* l3, bool v6, const IpAddr& dst,
                  const tables::VpnRoutingValue& route, uint16_t port_index);
  void queue_for_esp(rte_mbuf* m, const InnerIp& ip, const FlowKey& flow, const SaSlot& slot,
                     uint16_t port_index, rte_mbuf** esp_out, const SaSlot** esp_out_sa, uint16_t& n_out);
  // Answers or punts traffic to our own addresses; false (with the SPI) when it is ESP to decrypt.
  // ESP (to decrypt): false, with its SPI and where its ESP header starts after the outer IP header
  // (0: the ESP stage checks the outer headers itself); anything else answered, punted or dropped: true.
  bool handle_local(uint16_t port_index, rte_mbuf* m, const struct PacketView& v, uint32_t* spi,
                    uint16_t* esp_offset);
  // Is addr one of the ports' own addresses? (A flat copy of them: no vector walk per packet.)
  bool is_own(const IpAddr& addr) const;
  // in_port: where m came in (the source of an ICMP error); kFromTunnel: decrypted, no ICMP error.
  static constexpr uint16_t kFromTunnel = UINT16_MAX;
  // True when m (or its fragments) went on towards its next hop (sent, or held for its MAC).
  bool route_and_send(rte_mbuf* m, const IpAddr& dst, bool ipv6, uint16_t in_port);
  bool route_and_send_slow(rte_mbuf* m, const IpAddr& dst, bool ipv6, uint16_t in_port);
  bool memo_fits(const rte_mbuf* m, const IpAddr& dst, bool ipv6) const;  // m may take the memo's header
  bool push_memo_l2(rte_mbuf* m);
  void send_with_memo_l2(rte_mbuf* m);  // the memo's Ethernet header, out of its port
  // Packets behind the burst memo's next hop, given the memo's Ethernet header and handed to its
  // port's TX buffer together: one counter update and one copy per run, not per packet (each
  // packet's counter and buffer-length stores were a chain through memory).
  struct TxRun {
    rte_mbuf* pkts[kBurst];  // runs are made from one burst's packets
    uint16_t n = 0;
    uint64_t bytes = 0;
  };
  // Adds m (its length checked against the memo's MTU) with the memo's Ethernet header to run
  // (dropped when there is no headroom for it).
  void add_with_memo_l2(rte_mbuf* m, TxRun& run);
  // Hands run to the memo's port; before anything else is sent or the memo changes.
  void send_run(TxRun& run);
  // route_and_send, its usual case (the memo's destination) added to run.
  void route_into_run(rte_mbuf* m, const IpAddr& dst, bool ipv6, uint16_t in_port, TxRun& run);
  bool memo_via(const NextHop& hop, bool ipv6) const;
  bool memo_fits_peer(const SaSlot& sa) const;  // the memo's Ethernet header is right for ESP to sa's peer
  void send_resolved(rte_mbuf* m, const IpAddr& dst, bool ipv6, const NextHop& hop, uint16_t mtu);
  // m (data at IP) is larger than `limit`: IPv4 without DF is fragmented into out[] (returns the
  // count); otherwise the sender gets an ICMP error (rate-limited) and m is dropped (returns 0).
  uint16_t handle_too_big(rte_mbuf* m, uint16_t limit, uint16_t in_port, rte_mbuf** out, uint16_t max_out);
  // connections: refresh the flow's entry, or ask the writer to create it. The packet's data is
  // at its IP header; with its PacketView (the packet as parse_packet saw it) the header is not
  // parsed again.
  void track(const rte_mbuf* m, const struct PacketView& v, uint8_t direction, uint32_t sa_index);
  void track_key(const FlowKey& flow, uint8_t direction, uint32_t sa_index);
  void send(uint16_t port_index, rte_mbuf* m);
  void drop(rte_mbuf* m, DropReason reason);
  void punt(rte_mbuf* m, ControlEventType type, uint16_t port_index);
  void outbound_esp(rte_mbuf** pkts, const SaSlot** sas, uint16_t n);
  void inbound_esp(rte_mbuf** pkts, const IpAddr* dsts, const uint32_t* spis, const uint16_t* esp_offsets, uint16_t n);
  void drain_tx(bool force);
  void idle();
  // NextHops is static while workers run: the last answer is kept (an ESP burst has one remote).
  const NextHop* next_hop(const IpAddr& dst);
  // connections lookups of a burst are queued by track() and done in one bulk lookup.
  void flush_tracked();

  // Per burst (reset at the start of each process_burst; pointers stay valid until this worker's
  // next quiescent report): the last outbound_SPI and neighbors answers, so a burst of one tunnel
  // looks each of them up once instead of once per packet.
  struct BurstMemo {
    // The last destination looked up in vpn_routing from the inside, and its answer (may be nullptr).
    IpAddr route_dst{};
    const tables::VpnRoutingValue* route_value = nullptr;
    bool route_valid = false;
    const void* route = nullptr;  // the vpn_routing value the SA below was found for
    const SaSlot* outbound_sa = nullptr;
    tables::NeighborKey neighbor_key{};
    const tables::NeighborValue* neighbor = nullptr;  // reachable neighbour for neighbor_key
    // The last destination sent to a reachable neighbour: its port, MTU and the Ethernet header
    // written, so the next packet to it is one compare, one 14/18-byte copy and a TX enqueue.
    IpAddr tx_dst{};
    bool tx_valid = false;
    bool tx_ipv6 = false;
    uint8_t tx_l2_len = 0;
    uint16_t tx_port_index = 0;
    uint16_t tx_mtu = 0;
    const NextHop* tx_hop = nullptr;  // the next hop it went through
    alignas(8) uint8_t tx_l2[24] = {};
  };
  static constexpr uint16_t kTrackMax = 64;
  struct Tracked {
    uint64_t hash;  // ConfirmedFlows::hash of the key
    uint32_t sa_index;
    uint8_t direction;
  };

  const uint32_t index_;
  const DataplaneView view_;
  // The tables a worker reads, resolved once (KernelTableSet::typed() is a map lookup).
  tables::TypedTable<tables::TableId::connections> connections_;
  tables::TypedTable<tables::TableId::outbound_SPI> outbound_spi_;
  tables::TypedTable<tables::TableId::inbound_SPI> inbound_spi_;
  tables::TypedTable<tables::TableId::neighbors> neighbors_;
  tables::TypedTable<tables::TableId::encryption_requests> encryption_requests_;
  const tables::VpnRouting& vpn_routing_;
  BurstMemo memo_;
  bool inside_spread_ = false;  // the last inside burst changed route more than kSpreadRouteChanges times
  IpAddr hop_dst_{};
  const NextHop* hop_ = nullptr;  // next_hop()'s last answer, for hop_dst_
  bool hop_valid_ = false;
  uint16_t n_tracked_ = 0;
  Tracked tracked_[kTrackMax];
  alignas(8) tables::ConnectionsKey tracked_keys_[kTrackMax];  // rte_hash_crc reads 8-byte words
  ConfirmedFlows confirmed_;  // flows found in connections this second: their packets skip the lookup
  // The ports' own addresses (they do not change while workers run); more than OwnAddresses::kMax:
  // own_fallback_, and is_own() walks the ports.
  OwnAddresses own_;
  bool own_fallback_ = false;
  const std::vector<RxQueueRef> rx_;
  rte_ring* inject_;
  EspStage& esp_;
  std::vector<rte_eth_dev_tx_buffer*> tx_buffers_;  // per port index
  uint64_t last_drain_tsc_ = 0;
  uint64_t drain_interval_tsc_ = 0;
  uint64_t now_ = 0;  // view_.now_seconds, read at the start of each poll_once
  uint64_t icmp_second_ = 0;
  uint32_t icmp_sent_this_second_ = 0;
  WorkerCounters counters_;
};

}  // namespace dpvpn::dataplane
