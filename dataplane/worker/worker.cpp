#include "worker/worker.hpp"

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <emmintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>

#include "net/forwardable.hpp"
#include "net/ip_checksum.hpp"
#include "net/local_responder.hpp"
#include "net/packet_parse.hpp"
#include "net/packet_view.hpp"
#include "net/too_big.hpp"
#include "worker/burst_scratch.hpp"

namespace dpvpn::dataplane {

namespace {

constexpr uint8_t kIcmp6NeighborSolicit = 135, kIcmp6NeighborAdvert = 136;
constexpr uint16_t kIkePort = 500, kNattPort = 4500;
constexpr uint64_t kTxDrainMicros = 100;
constexpr uint32_t kIcmpErrorsPerSecond = 100;  // per worker: an error storm must not become a flood
constexpr uint16_t kMaxFragments = 8;

// The source or destination address of the IP header at l3, built in a vector register and stored
// whole: the burst keeps it on the stack and reads it back as 16 bytes, which cannot be forwarded
// from two 8-byte stores (IpAddr::v4's form) — a stall per packet.
inline IpAddr ip_address(const uint8_t* l3, bool v6, bool source) {
  __m128i x;
  if (!v6) {
    uint32_t a;
    std::memcpy(&a, l3 + (source ? 12 : 16), 4);
    x = _mm_set_epi64x(static_cast<long long>(uint64_t{0xffff0000u} | (uint64_t{a} << 32)), 0);  // ::ffff:a.b.c.d
  } else {
    x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(l3 + (source ? 8 : 24)));
  }
  IpAddr b;
  _mm_storeu_si128(reinterpret_cast<__m128i*>(b.bytes.data()), x);
  return b;
}
// One bulk lookup for a burst whose consecutive packets mostly name the same key (a burst of one
// tunnel names one): a key per run of packets, made by key_at(i) for the run's first packet i;
// same_as_previous(i) says packet i belongs to the run of packet i - 1. values[i] is packet i's
// answer (nullptr: a miss). Returns the packets that start a run and hit, as a bit mask.
template <uint16_t kMax, class Table, class SameAsPrevious, class KeyAt>
uint64_t lookup_runs(const Table& table, uint16_t n, SameAsPrevious same_as_previous, KeyAt key_at,
                     const typename Table::Value** values) {
  static_assert(kMax <= tables::kMaxBulk);
  using Key = typename Table::Key;
  struct alignas(8) AlignedKey {  // rte_hash_crc reads 8-byte words: every key on an 8-byte boundary
    Key key;
  };
  BurstScratch<AlignedKey, kMax> keys;
  const Key* key_ptrs[kMax];
  const typename Table::Value* distinct[kMax];
  uint8_t run_of[kMax];  // packet -> its run
  uint8_t head[kMax];    // run -> its first packet
  uint16_t n_keys = 0;
  for (uint16_t i = 0; i < n; ++i) {
    if (n_keys == 0 || !same_as_previous(i)) {
      // Made in place: a key built in a temporary and copied was read back across its field
      // stores, a store-forwarding stall per key (18 % of inbound_esp at 1000 SAs).
      ::new (static_cast<void*>(&keys[n_keys].key)) Key(key_at(i));
      key_ptrs[n_keys] = &keys[n_keys].key;
      head[n_keys] = static_cast<uint8_t>(i);
      ++n_keys;
    }
    run_of[i] = static_cast<uint8_t>(n_keys - 1);
  }
  const uint64_t hits = table.lookup_bulk(key_ptrs, n_keys, distinct);
  for (uint16_t i = 0; i < n; ++i) values[i] = distinct[run_of[i]];
  uint64_t head_hits = 0;
  for (uint64_t h = hits; h != 0; h &= h - 1) head_hits |= uint64_t{1} << head[std::countr_zero(h)];
  return head_hits;
}

IpAddr ip_src(const uint8_t* l3, bool v6) { return ip_address(l3, v6, true); }
IpAddr ip_dst(const uint8_t* l3, bool v6) { return ip_address(l3, v6, false); }

// Decrements TTL / hop limit of the IP packet at the mbuf's data; false when it would reach 0.
bool decrement_ttl(rte_mbuf* m, bool v6) {
  uint8_t* l3 = rte_pktmbuf_mtod(m, uint8_t*);
  if (v6) {
    auto* ip = reinterpret_cast<rte_ipv6_hdr*>(l3);
    if (ip->hop_limits <= 1) return false;
    --ip->hop_limits;
    return true;
  }
  if (l3[8] <= 1) return false;
  ipv4_decrement_ttl(l3);  // RFC 1624 incremental checksum update
  return true;
}

// The connections key of the IP packet at `ip` (ports for TCP/UDP, the echo id for ICMP), as the
// key's five 8-byte words, built in registers: the key is stored once, whole (building it field by
// field and reading it back as words stalls on store forwarding); and its ConfirmedFlows::hash.
[[gnu::always_inline]] inline void flow_key(const uint8_t* ip, uint32_t len, uint8_t direction, FlowKey* k) {
  uint64_t* w = k->w;
  static_assert(sizeof(tables::ConnectionsKey) == 40 && offsetof(tables::ConnectionsKey, sport) == 32 &&
                offsetof(tables::ConnectionsKey, dport) == 34 && offsetof(tables::ConnectionsKey, proto) == 36 &&
                offsetof(tables::ConnectionsKey, direction) == 37);
  const bool v6 = (ip[0] >> 4) == 6;
  uint32_t hdr;
  uint8_t proto;
  if (!v6) {
    uint32_t s4, d4;
    std::memcpy(&s4, ip + 12, 4);
    std::memcpy(&d4, ip + 16, 4);
    w[0] = 0;
    w[1] = uint64_t{0xffff0000u} | (uint64_t{s4} << 32);  // ::ffff:a.b.c.d, as IpAddr::v4
    w[2] = 0;
    w[3] = uint64_t{0xffff0000u} | (uint64_t{d4} << 32);
    hdr = (ip[0] & 0x0fu) * 4u;
    proto = ip[9];
  } else {
    std::memcpy(w, ip + 8, 32);  // source and destination, adjacent
    hdr = 40;
    proto = ip[6];
  }
  uint32_t sport = 0, dport = 0;
  if (len >= hdr + 8) {
    const uint8_t* l4 = ip + hdr;
    if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
      sport = static_cast<uint32_t>(l4[0] << 8 | l4[1]);
      dport = static_cast<uint32_t>(l4[2] << 8 | l4[3]);
    } else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
      dport = static_cast<uint32_t>(l4[4] << 8 | l4[5]);
    }
  }
  w[4] = uint64_t{sport} | uint64_t{dport} << 16 | uint64_t{proto} << 32 | uint64_t{direction} << 40;
  k->hash = ConfirmedFlows::hash(w);
}

// The same key from what parse_packet already found (protocol, ports, ICMP id): only the addresses
// are read from the header at ip. parse_packet guarantees 8 bytes of TCP/UDP/ICMP header.
[[gnu::always_inline]] inline void flow_key(const uint8_t* ip, const PacketView& v, uint8_t direction, FlowKey* k) {
  uint64_t* w = k->w;
  if (v.l3 == L3::kIpv4) {
    uint32_t s4, d4;
    std::memcpy(&s4, ip + 12, 4);
    std::memcpy(&d4, ip + 16, 4);
    w[0] = 0;
    w[1] = uint64_t{0xffff0000u} | (uint64_t{s4} << 32);
    w[2] = 0;
    w[3] = uint64_t{0xffff0000u} | (uint64_t{d4} << 32);
  } else {
    std::memcpy(w, ip + 8, 32);
  }
  uint64_t ports = 0;
  if (v.proto == IPPROTO_TCP || v.proto == IPPROTO_UDP) {
    ports = uint64_t{v.sport} | uint64_t{v.dport} << 16;
  } else if (v.proto == IPPROTO_ICMP || v.proto == IPPROTO_ICMPV6) {
    ports = uint64_t{v.dport} << 16;  // the echo id; type/code are not part of the key
  }
  w[4] = ports | uint64_t{v.proto} << 32 | uint64_t{direction} << 40;
  k->hash = ConfirmedFlows::hash(w);
}

// The lines of a received packet its processing touches first, asked for a few packets ahead: the
// first (the headers) and the last two (ESP: the 16-byte ICV, copied before decryption, often
// straddles them; outbound: where the ESP trailer goes). The rest of a large packet is read in order
// by the cipher, which the hardware prefetcher follows.
[[gnu::always_inline]] inline void prefetch_packet(const rte_mbuf* m) {
  const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint32_t len = rte_pktmbuf_data_len(m);
  rte_prefetch0(d);
  rte_prefetch0(d + (len > 17 ? len - 17 : 0));
  rte_prefetch0(d + (len != 0 ? len - 1 : 0));
}

// Leaves exactly the IP packet in the mbuf: no L2 header, no Ethernet padding.
void strip_to_ip(rte_mbuf* m, uint16_t l2_len, uint16_t ip_total) {
  rte_pktmbuf_adj(m, l2_len);
  const uint32_t extra = rte_pktmbuf_data_len(m) - ip_total;
  if (extra != 0) rte_pktmbuf_trim(m, static_cast<uint16_t>(extra));
}
void strip_to_ip(rte_mbuf* m, const PacketView& v) { strip_to_ip(m, v.l2_len, v.ip_total); }

}  // namespace

Worker::Worker(uint32_t index, const DataplaneView& view, std::vector<RxQueueRef> rx, rte_ring* inject, EspStage& esp)
    : index_(index),
      view_(view),
      connections_(view.tables->typed<tables::TableId::connections>()),
      outbound_spi_(view.tables->typed<tables::TableId::outbound_SPI>()),
      inbound_spi_(view.tables->typed<tables::TableId::inbound_SPI>()),
      neighbors_(view.tables->typed<tables::TableId::neighbors>()),
      encryption_requests_(view.tables->typed<tables::TableId::encryption_requests>()),
      vpn_routing_(view.tables->vpn_routing()),
      rx_(std::move(rx)),
      inject_(inject),
      esp_(esp) {
  for (const PortInfo& p : *view_.ports) {
    for (const PortAddress& a : p.addresses) {
      if (!own_.add(a.addr)) {
        own_fallback_ = true;
        return;
      }
    }
  }
}

Worker::~Worker() {
  for (rte_eth_dev_tx_buffer* b : tx_buffers_) rte_free(b);
}

bool Worker::init() {
  for (size_t p = 0; p < view_.ports->size(); ++p) {
    auto* buffer = static_cast<rte_eth_dev_tx_buffer*>(
        rte_zmalloc("tx_buffer", RTE_ETH_TX_BUFFER_SIZE(kBurst), RTE_CACHE_LINE_SIZE));
    if (buffer == nullptr) return false;
    rte_eth_tx_buffer_init(buffer, kBurst);
    rte_eth_tx_buffer_set_err_callback(buffer, rte_eth_tx_buffer_count_callback,
                                       &counters_.drops[static_cast<size_t>(DropReason::kTxFull)]);
    tx_buffers_.push_back(buffer);
  }
  drain_interval_tsc_ = rte_get_tsc_hz() * kTxDrainMicros / 1000000;
  return true;
}

int Worker::run() {
  while (!view_.stop->load(std::memory_order_relaxed)) {
    if (poll_once() == 0) idle();
  }
  drain_tx(true);
  return 0;
}

uint32_t Worker::poll_once() {
  rte_mbuf* pkts[kBurst];
  uint32_t total = 0;
  // The main thread's clock, read once per pass: its cache line is written by another core.
  now_ = view_.now_seconds->load(std::memory_order_relaxed);
  for (const RxQueueRef& q : rx_) {
    const uint16_t port_id = (*view_.ports)[q.port].port_id;
    const uint16_t n = rte_eth_rx_burst(port_id, q.queue, pkts, kBurst);
    if (n == 0) continue;
    total += n;
    bump(counters_.bursts);
    process_burst(q.port, pkts, n);
  }
  InjectItem items[kBurst];
  const unsigned injected = rte_ring_sc_dequeue_burst_elem(inject_, items, sizeof(InjectItem), kBurst, nullptr);
  for (unsigned i = 0; i < injected; ++i) send(items[i].port_index, items[i].packet);
  drain_tx(total == 0 && injected != 0);
  view_.rcu->quiescent(index_);  // nothing looked up in this pass is held any more
  return total + injected;
}

void Worker::idle() {
  bump(counters_.idle_polls);
  drain_tx(true);
  switch (view_.idle) {
    case IdleMode::kPoll: break;
    case IdleMode::kPause:
      for (int i = 0; i < 64; ++i) rte_pause();
      break;
    case IdleMode::kSleep:
      view_.rcu->offline(index_);  // a sleeping reader must not hold back reclamation
      rte_delay_us_sleep(view_.idle_sleep_us);
      view_.rcu->online(index_);
      break;
  }
}

void Worker::drain_tx(bool force) {
  const uint64_t now = rte_get_tsc_cycles();
  if (!force && now - last_drain_tsc_ < drain_interval_tsc_) return;
  last_drain_tsc_ = now;
  for (size_t p = 0; p < tx_buffers_.size(); ++p) {
    rte_eth_tx_buffer_flush((*view_.ports)[p].port_id, static_cast<uint16_t>(index_), tx_buffers_[p]);
  }
}

// The per-packet helpers below are forced inline: as calls they cost their prologue and epilogue
// (callee-saved registers) on every packet, about as much as their bodies.
[[gnu::always_inline]] inline void Worker::send(uint16_t port_index, rte_mbuf* m) {
  bump(counters_.tx_packets[port_index]);
  bump(counters_.tx_bytes[port_index], rte_pktmbuf_pkt_len(m));
  rte_eth_tx_buffer((*view_.ports)[port_index].port_id, static_cast<uint16_t>(index_), tx_buffers_[port_index], m);
}

void Worker::drop(rte_mbuf* m, DropReason reason) {
  bump(counters_.drops[static_cast<size_t>(reason)]);
  rte_pktmbuf_free(m);
}

void Worker::punt(rte_mbuf* m, ControlEventType type, uint16_t port_index) {
  ControlEvent ev;
  ev.packet = m;
  ev.type = type;
  ev.port_index = port_index;
  if (rte_ring_mp_enqueue_elem(view_.control_ring, &ev, sizeof ev) != 0) {
    drop(m, DropReason::kIkePuntFull);
    return;
  }
  if (type == ControlEventType::kIkePacket) bump(counters_.ike_punted);
}

namespace {
bool same_key(const tables::ConnectionsKey& a, const tables::ConnectionsKey& b) {
  static_assert(sizeof(tables::ConnectionsKey) == 40);
  uint64_t x[5], y[5];
  std::memcpy(x, &a, 40);
  std::memcpy(y, &b, 40);
  return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4])) == 0;
}
}  // namespace

[[gnu::always_inline]] inline void Worker::track(const rte_mbuf* m, const PacketView& v, uint8_t direction,
                                                 uint32_t sa_index) {
  FlowKey flow;
  flow_key(rte_pktmbuf_mtod(m, const uint8_t*), v, direction, &flow);
  track_key(flow, direction, sa_index);
}

[[gnu::always_inline]] inline void Worker::track_key(const FlowKey& flow, uint8_t direction, uint32_t sa_index) {
  if (n_tracked_ == kTrackMax) flush_tracked();
  // Found (and touched) this second already: nothing to do until the clock moves on.
  const uint64_t* w = flow.w;
  const uint64_t h = flow.hash;
  if (confirmed_.contains(w, h, now_)) return;
  static_assert(sizeof(tables::ConnectionsKey) == 5 * sizeof(uint64_t));
  std::memcpy(static_cast<void*>(&tracked_keys_[n_tracked_]), w, sizeof(tables::ConnectionsKey));
  tracked_[n_tracked_] = {h, sa_index, direction};
  ++n_tracked_;
}

void Worker::flush_tracked() {
  const uint16_t n = n_tracked_;
  if (n == 0) return;
  n_tracked_ = 0;
  // A burst usually carries several packets of one flow: each distinct key is looked up (and its
  // entry touched, or its creation asked for) once. Distinct keys are found through a small
  // open-addressed index on the key's hash (the top bits of ConfirmedFlows::hash).
  static constexpr uint32_t kIndexSize = 128;  // > 2 * kTrackMax
  static_assert(kIndexSize >= 2 * kTrackMax && kTrackMax < 255);
  uint8_t index[kIndexSize];
  std::memset(index, 0xff, sizeof index);
  uint16_t distinct[kTrackMax];
  uint16_t n_distinct = 0;
  const uint64_t now = now_;
  const tables::ConnectionsKey* keys[kTrackMax];
  uint16_t n_keys = 0;
  for (uint16_t i = 0; i < n; ++i) {
    uint32_t h = static_cast<uint32_t>(tracked_[i].hash >> 57);
    while (index[h] != 0xff && !same_key(tracked_keys_[distinct[index[h]]], tracked_keys_[i])) h = (h + 1) % kIndexSize;
    if (index[h] != 0xff) continue;
    index[h] = static_cast<uint8_t>(n_distinct);
    distinct[n_distinct++] = i;
    keys[n_keys++] = &tracked_keys_[i];
  }
  if (n_keys == 0) return;
  const tables::ConnectionsValue* values[kTrackMax];
  const uint64_t hits = connections_.lookup_bulk(keys, n_keys, values);
  for (uint16_t d = 0; d < n_keys; ++d) {
    const auto i = static_cast<uint16_t>(keys[d] - tracked_keys_);
    if (((hits >> d) & 1) != 0) {
      connections_.touch(values[d], now);
      uint64_t w[5];
      std::memcpy(w, keys[d], sizeof w);
      confirmed_.insert(w, tracked_[i].hash, now);
      continue;
    }
    const tables::ConnectionsKey& key = *keys[d];
    ControlEvent ev;
    ev.type = ControlEventType::kNewConnection;
    ev.src = key.src;
    ev.dst = key.dst;
    ev.sport = key.sport;
    ev.dport = key.dport;
    ev.proto = key.proto;
    ev.direction = tracked_[i].direction;
    ev.sa_index = tracked_[i].sa_index;
    // A full ring only delays the entry: the flow's next packet asks again.
    rte_ring_mp_enqueue_elem(view_.control_ring, &ev, sizeof ev);
  }
}

const NextHop* Worker::next_hop(const IpAddr& dst) {
  if (hop_valid_ && hop_dst_ == dst) return hop_;
  hop_ = view_.next_hops->lookup(dst);
  hop_dst_ = dst;
  hop_valid_ = true;
  return hop_;
}

// Does the burst's memo hold the Ethernet header for any destination behind `hop`? (A gateway's
// neighbour, not a connected one: the same header whatever the destination behind it.)
[[gnu::always_inline]] inline bool Worker::memo_via(const NextHop& hop, bool ipv6) const {
  return memo_.tx_valid && memo_.tx_hop == &hop && !hop.connected && memo_.tx_ipv6 == ipv6;
}

[[gnu::always_inline]] inline bool Worker::memo_fits(const rte_mbuf* m, const IpAddr& dst, bool ipv6) const {
  return memo_.tx_valid && rte_pktmbuf_pkt_len(m) <= memo_.tx_mtu && memo_.tx_dst == dst && memo_.tx_ipv6 == ipv6;
}

// The burst's usual case (the destination of the previous packet) inline; the rest out of line.
[[gnu::always_inline]] inline bool Worker::route_and_send(rte_mbuf* m, const IpAddr& dst, bool ipv6, uint16_t in_port) {
  if (memo_fits(m, dst, ipv6)) {
    send_with_memo_l2(m);
    return true;
  }
  return route_and_send_slow(m, dst, ipv6, in_port);
}

[[gnu::always_inline]] inline void Worker::route_into_run(rte_mbuf* m, const IpAddr& dst, bool ipv6, uint16_t in_port,
                                                          TxRun& run) {
  if (memo_fits(m, dst, ipv6)) return add_with_memo_l2(m, run);
  send_run(run);  // before the memo changes, and in order
  route_and_send_slow(m, dst, ipv6, in_port);
}

// Writes the memo's Ethernet header in front of m; false (m dropped) without the headroom.
[[gnu::always_inline]] inline bool Worker::push_memo_l2(rte_mbuf* m) {
  auto* l2 = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, memo_.tx_l2_len));
  if (l2 == nullptr) {
    drop(m, DropReason::kTooBig);  // as send_resolved: counted where it failed
    return false;
  }
  // As two overlapping 8-byte copies (14 bytes) or 16 + 8 (18): a 14-byte memcpy is three of each.
  if (memo_.tx_l2_len == RTE_ETHER_HDR_LEN) {
    std::memcpy(l2, memo_.tx_l2, 8);
    std::memcpy(l2 + 6, memo_.tx_l2 + 6, 8);
  } else {
    std::memcpy(l2, memo_.tx_l2, 16);
    std::memcpy(l2 + 10, memo_.tx_l2 + 10, 8);
  }
  return true;
}

[[gnu::always_inline]] inline void Worker::send_with_memo_l2(rte_mbuf* m) {
  if (push_memo_l2(m)) send(memo_.tx_port_index, m);
}

[[gnu::always_inline]] inline void Worker::add_with_memo_l2(rte_mbuf* m, TxRun& run) {
  if (!push_memo_l2(m)) return;
  run.pkts[run.n++] = m;
  run.bytes += rte_pktmbuf_pkt_len(m);
}

void Worker::send_run(TxRun& run) {
  if (run.n == 0) return;
  const uint16_t port_index = memo_.tx_port_index;
  bump(counters_.tx_packets[port_index], run.n);
  bump(counters_.tx_bytes[port_index], run.bytes);
  // rte_eth_tx_buffer's work for the run at once: fill the buffer, send it when full.
  rte_eth_dev_tx_buffer* buffer = tx_buffers_[port_index];
  for (uint16_t done = 0; done < run.n;) {
    const auto count = std::min<uint16_t>(static_cast<uint16_t>(run.n - done),
                                          static_cast<uint16_t>(buffer->size - buffer->length));
    std::memcpy(&buffer->pkts[buffer->length], run.pkts + done, count * sizeof(rte_mbuf*));
    buffer->length = static_cast<uint16_t>(buffer->length + count);
    done = static_cast<uint16_t>(done + count);
    if (buffer->length == buffer->size) {
      rte_eth_tx_buffer_flush((*view_.ports)[port_index].port_id, static_cast<uint16_t>(index_), buffer);
    }
  }
  run.n = 0;
  run.bytes = 0;
}

// Does the burst's memo hold the Ethernet header for ESP to sa's peer? (The peer itself was the
// last destination, or many peers sit behind the next hop the previous packet went through:
// remote-access clients across the Internet, whose SA slot names that next hop.)
[[gnu::always_inline]] inline bool Worker::memo_fits_peer(const SaSlot& sa) const {
  const bool v6 = !sa.remote.is_v4();
  return memo_.tx_valid && memo_.tx_ipv6 == v6 &&
         (memo_.tx_dst == sa.remote || (sa.outer_hop != nullptr && memo_via(*sa.outer_hop, v6)));
}

bool Worker::route_and_send_slow(rte_mbuf* m, const IpAddr& dst, bool ipv6, uint16_t in_port) {
  const NextHop* hop = next_hop(dst);
  if (hop == nullptr) {
    drop(m, DropReason::kNoRoute);
    return false;
  }
  const uint16_t mtu = (*view_.ports)[hop->port_index].mtu;
  if (rte_pktmbuf_pkt_len(m) <= mtu) {
    // Another destination behind the gateway the previous packet went through (ESP to many peers,
    // one next hop): the same neighbour, so the same Ethernet header.
    if (memo_via(*hop, ipv6)) {
      memo_.tx_dst = dst;
      send_with_memo_l2(m);
    } else {
      send_resolved(m, dst, ipv6, *hop, mtu);
    }
    return true;
  }
  rte_mbuf* frags[kMaxFragments];
  const uint16_t n = handle_too_big(m, mtu, in_port, frags, kMaxFragments);
  for (uint16_t i = 0; i < n; ++i) send_resolved(frags[i], dst, ipv6, *hop, mtu);
  return n != 0;
}

void Worker::send_resolved(rte_mbuf* m, const IpAddr& dst, bool ipv6, const NextHop& hop, uint16_t mtu) {
  const PortInfo& port = (*view_.ports)[hop.port_index];
  alignas(8) tables::NeighborKey key{};
  key.addr = NextHops::neighbor_for(hop, dst);
  key.port = port.port_id;
  const tables::NeighborValue* neighbor;
  if (memo_.neighbor != nullptr && memo_.neighbor_key.port == key.port && memo_.neighbor_key.addr == key.addr) {
    neighbor = memo_.neighbor;
  } else {
    neighbor = neighbors_.lookup(key);
    if (neighbor != nullptr && neighbor->state != tables::kNeighborIncomplete) {
      memo_.neighbor_key = key;
      memo_.neighbor = neighbor;
    }
  }
  if (neighbor != nullptr && neighbor->state != tables::kNeighborIncomplete) {
    if (!push_ethernet(m, port, neighbor->mac, ipv6)) return drop(m, DropReason::kTooBig);
    memo_.tx_dst = dst;
    memo_.tx_ipv6 = ipv6;
    memo_.tx_port_index = hop.port_index;
    memo_.tx_hop = &hop;
    memo_.tx_mtu = mtu;
    // Written again from its sources, not copied from the packet: reading back bytes just stored
    // one by one stalls on store forwarding (a third of this function's time when every packet
    // goes to another peer, as with 1000 remote-access clients).
    memo_.tx_l2_len = write_ethernet(memo_.tx_l2, port, neighbor->mac, ipv6);
    memo_.tx_valid = true;
    return send(hop.port_index, m);
  }
  HoldItem item{m, hop.port_index, {}, key.addr};
  if (rte_ring_mp_enqueue_elem(view_.hold_ring, &item, sizeof item) != 0) {
    return drop(m, DropReason::kNeighborHoldFull);
  }
  bump(counters_.held);
}

uint16_t Worker::handle_too_big(rte_mbuf* m, uint16_t limit, uint16_t in_port, rte_mbuf** out, uint16_t max_out) {
  const uint8_t* ip = rte_pktmbuf_mtod(m, const uint8_t*);
  const bool v4 = (ip[0] >> 4) == 4;
  const bool df = v4 && (rte_be_to_cpu_16(reinterpret_cast<const rte_ipv4_hdr*>(ip)->fragment_offset) &
                         RTE_IPV4_HDR_DF_FLAG) != 0;
  if (v4 && !df) {
    const uint16_t n = fragment_ipv4(m, limit, view_.mbufs, out, max_out);
    if (n != 0) {
      bump(counters_.fragmented);
      return n;
    }
  } else if (in_port != kFromTunnel) {
    const uint64_t now = view_.now_seconds->load(std::memory_order_relaxed);
    if (now != icmp_second_) {
      icmp_second_ = now;
      icmp_sent_this_second_ = 0;
    }
    const IpAddr* src = (*view_.ports)[in_port].first_address(v4);
    if (src != nullptr && icmp_sent_this_second_ < kIcmpErrorsPerSecond) {
      if (rte_mbuf* error = build_too_big(m, *src, limit, view_.mbufs); error != nullptr) {
        ++icmp_sent_this_second_;
        bump(counters_.icmp_too_big);
        const IpAddr sender = ip_src(ip, !v4);
        route_and_send(error, sender, !v4, kFromTunnel);
      }
    }
  }
  drop(m, DropReason::kTooBig);
  return 0;
}

namespace {
// The SPI of an ESP packet (parse_packet checked its 8-byte header is there).
uint32_t load_spi(const rte_mbuf* m, const PacketView& v) {
  uint32_t spi_be;
  std::memcpy(&spi_be, rte_pktmbuf_mtod_offset(m, const uint8_t*, v.l2_len + v.l3_len), 4);
  return rte_be_to_cpu_32(spi_be);
}
}  // namespace

bool Worker::handle_local(uint16_t port_index, rte_mbuf* m, const PacketView& v, uint32_t* spi,
                          uint16_t* esp_offset) {
  // ESP straight over IP takes process_burst's inline path (load_spi); were it passed here, it would
  // end below like ESP in UDP.
  const uint8_t* l4 = rte_pktmbuf_mtod_offset(m, const uint8_t*, v.l2_len + v.l3_len);
  if (answer_echo(m, v)) {
    bump(counters_.local_replies);
    send(port_index, m);
    return true;
  }
  const uint8_t* esp = l4;
  *esp_offset = v.l3_len;
  if (v.proto == IPPROTO_UDP && (v.dport == kIkePort || v.dport == kNattPort)) {
    const uint16_t payload = static_cast<uint16_t>(v.l4_len - 8);
    const uint8_t* data = l4 + 8;
    if (v.dport == kNattPort && payload == 1 && data[0] == 0xff) {
      drop(m, DropReason::kNattKeepalive);
      return true;
    }
    const bool non_esp_marker = payload >= 4 && data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] == 0;
    if (v.dport == kIkePort || non_esp_marker) {
      punt(m, ControlEventType::kIkePacket, port_index);
      return true;
    }
    if (payload < 8) {
      drop(m, DropReason::kL4Truncated);
      return true;
    }
    esp = data;  // ESP in UDP (RFC 3948)
    // The parser checked the IP lengths; the UDP length field is left to the ESP stage when it
    // disagrees (its reason is counted there, as for any malformed ESP packet).
    const bool udp_length_ok = (l4[4] << 8 | l4[5]) == v.l4_len;
    *esp_offset = udp_length_ok ? static_cast<uint16_t>(v.l3_len + 8) : 0;
  } else if (v.proto != IPPROTO_ESP) {
    drop(m, DropReason::kLocalUnhandled);
    return true;
  }
  uint32_t spi_be;
  std::memcpy(&spi_be, esp, 4);
  *spi = rte_be_to_cpu_32(spi_be);
  return false;  // ESP: the caller batches it for decryption
}

[[gnu::always_inline]] inline bool Worker::is_own(const IpAddr& addr) const {
  if (own_fallback_) {
    bool ours = false;
    for (const PortInfo& p : *view_.ports) ours = ours || p.owns(addr);
    return ours;
  }
  return own_.contains(addr);
}

[[gnu::always_inline]] inline const SaSlot* Worker::hinted_sa(const tables::VpnRoutingValue& route) const {
  if (route.sa_index >= view_.sa_slot_count) return nullptr;
  const SaSlot& slot = view_.sa_slots[route.sa_index];
  // The slot's SA is live (a deleted SA's esp is cleared before its grace period starts, so a pass
  // that still sees it set ends before the slot is reused) and is the one the route names.
  if (__atomic_load_n(&slot.esp, __ATOMIC_ACQUIRE) == nullptr) return nullptr;
  return slot.outbound && slot.spi == route.outbound_spi && slot.remote == route.gateway ? &slot : nullptr;
}

[[gnu::always_inline]] inline const SaSlot* Worker::slot_of(const tables::OutboundSpiValue* value) const {
  return value != nullptr && value->sa_index < view_.sa_slot_count ? &view_.sa_slots[value->sa_index] : nullptr;
}

// From the inside, routed into a tunnel without an SA: the control plane is asked for one (once per
// flow: encryption_requests), and the packet is dropped.
void Worker::request_sa(rte_mbuf* m, const PacketView& v, const uint8_t* l3, bool v6, const IpAddr& dst,
                        const tables::VpnRoutingValue& route, uint16_t port_index) {
  tables::FiveTupleKey flow{ip_src(l3, v6), dst, v.sport, v.dport, v.proto, {}};
  if (encryption_requests_.lookup(flow) == nullptr) {
    ControlEvent ev;
    ev.type = ControlEventType::kAcquire;
    ev.port_index = port_index;
    ev.src = flow.src;
    ev.dst = flow.dst;
    ev.sport = v.sport;
    ev.dport = v.dport;
    ev.proto = v.proto;
    ev.gateway = route.gateway;
    ev.spi = route.outbound_spi;
    if (rte_ring_mp_enqueue_elem(view_.control_ring, &ev, sizeof ev) == 0) bump(counters_.acquires);
  }
  drop(m, DropReason::kNoSa);
}

// From the inside, routed into the tunnel of `slot`'s SA: the packet (or its fragments) goes to
// esp_out[n_out], its flow (connections key words w, hash h) tracked.
[[gnu::always_inline]] inline void Worker::queue_for_esp(rte_mbuf* m, const InnerIp& ip, const FlowKey& flow,
                                                         const SaSlot& slot, uint16_t port_index, rte_mbuf** esp_out,
                                                         const SaSlot** esp_out_sa, uint16_t& n_out) {
  if (ip.ttl <= 1) return drop(m, DropReason::kTtlExceeded);
  strip_to_ip(m, ip.l2_len, ip.ip_total);
  decrement_ttl(m, ip.v6);
  track_key(flow, tables::kDirOutbound, static_cast<uint32_t>(&slot - view_.sa_slots));
  // The inner packet must fit the outer link after ESP (RFC 4459: fragment before encrypting).
  const NextHop* outer_hop = slot.outer_hop;
  const uint16_t outer_mtu = outer_hop != nullptr ? (*view_.ports)[outer_hop->port_index].mtu : 1500;
  const auto limit = static_cast<uint16_t>(outer_mtu - slot.max_overhead);
  if (rte_pktmbuf_pkt_len(m) > limit) {
    const uint16_t n_frags = handle_too_big(m, limit, port_index, esp_out + n_out,
                                            static_cast<uint16_t>(std::min<size_t>(kMaxFragments, kOutMax - n_out)));
    for (uint16_t f = 0; f < n_frags; ++f) esp_out_sa[n_out++] = &slot;
    return;
  }
  esp_out[n_out] = m;
  esp_out_sa[n_out] = &slot;
  ++n_out;
}

[[gnu::always_inline]] inline void Worker::encrypt_inside(rte_mbuf* m, const PacketView& v, const uint8_t* l3, bool v6,
                                                          const IpAddr& dst, const tables::VpnRoutingValue& route,
                                                          const SaSlot* slot, uint16_t port_index,
                                                          rte_mbuf** esp_out, const SaSlot** esp_out_sa,
                                                          uint16_t& n_out) {
  if (slot == nullptr || slot->esp == nullptr) return request_sa(m, v, l3, v6, dst, route, port_index);
  FlowKey flow;
  flow_key(l3, v, tables::kDirOutbound, &flow);
  queue_for_esp(m, {v.l2_len, v.ip_total, v.ttl, v6}, flow, *slot, port_index, esp_out, esp_out_sa, n_out);
}

// Traffic spread over many tunnels: each route's SA through its hint, and the burst's remaining
// outbound_SPI lookups (routes without a valid hint) in one bulk lookup, whose bucket and key misses
// overlap (one at a time, each was a dependent DRAM miss per packet with 100k SAs), then the values
// and SA slots prefetched a stage ahead of their use. The packets were parsed, checked and keyed in
// process_burst (DeferredPacket); only one without an SA is parsed again, for its acquire.
uint16_t Worker::encrypt_deferred(const DeferredPacket* d, uint16_t n, uint16_t port_index, rte_mbuf** esp_out,
                                  const SaSlot** esp_out_sa, uint16_t n_out) {
  const SaSlot* slots[kBurst];
  const tables::VpnRoutingValue* unhinted[kBurst];  // routes to look up, and where their packets are
  uint8_t unhinted_at[kBurst];
  uint16_t n_unhinted = 0;
  for (uint16_t i = 0; i < n; ++i) {
    const tables::VpnRoutingValue& route = *d[i].route;
    slots[i] = route.outbound_spi != 0 ? hinted_sa(route) : nullptr;
    if (slots[i] == nullptr && route.outbound_spi != 0) {
      unhinted[n_unhinted] = &route;
      unhinted_at[n_unhinted++] = static_cast<uint8_t>(i);
    }
  }
  if (n_unhinted != 0) {
    const tables::OutboundSpiValue* values[kBurst];
    const uint64_t heads = lookup_runs<kBurst>(
        outbound_spi_, n_unhinted, [&](uint16_t j) { return unhinted[j] == unhinted[j - 1]; },
        [&](uint16_t j) { return tables::OutboundSpiKey{unhinted[j]->gateway, unhinted[j]->outbound_spi}; }, values);
    outbound_spi_.prefetch_values(values, heads);
    for (uint64_t h = heads; h != 0; h &= h - 1) {
      const tables::OutboundSpiValue* sa = values[std::countr_zero(h)];
      if (sa->sa_index < view_.sa_slot_count) rte_prefetch0(&view_.sa_slots[sa->sa_index]);
    }
    for (uint16_t j = 0; j < n_unhinted; ++j) slots[unhinted_at[j]] = slot_of(values[j]);
  }
  for (uint16_t i = 0; i < n; ++i) {
    const DeferredPacket& p = d[i];
    if (slots[i] == nullptr || slots[i]->esp == nullptr) {
      PacketView v;
      parse_packet(p.m, &v);  // succeeded in process_burst; the packet is unchanged since
      const uint8_t* l3 = rte_pktmbuf_mtod_offset(p.m, const uint8_t*, v.l2_len);
      request_sa(p.m, v, l3, p.ip.v6, ip_dst(l3, p.ip.v6), *p.route, port_index);
      continue;
    }
    queue_for_esp(p.m, p.ip, p.flow, *slots[i], port_index, esp_out, esp_out_sa, n_out);
  }
  return n_out;
}

void Worker::process_burst(uint16_t port_index, rte_mbuf** pkts, uint16_t n) {
  const PortInfo& port = (*view_.ports)[port_index];
  rte_mbuf* esp_in[kBurst];
  BurstScratch<IpAddr, kBurst> esp_dst;
  uint32_t esp_spi[kBurst];
  uint16_t esp_offset[kBurst];  // ESP header after the outer IP header (the parser checked them)
  uint16_t n_in = 0;
  rte_mbuf* esp_out[kOutMax];
  const SaSlot* esp_out_sa[kOutMax];
  uint16_t n_out = 0;
  // With traffic spread over many tunnels (the previous inside burst changed route more than a
  // few times), packets to a tunnel wait until after the loop (encrypt_deferred), where their SAs
  // are found together.
  const bool spread = inside_spread_;
  DeferredPacket deferred[kBurst];
  uint16_t n_deferred = 0;
  uint16_t route_changes = 0;
  memo_ = BurstMemo{};

  // Port counters once per burst (the bytes summed in a register).
  uint64_t rx_bytes = 0;
  for (uint16_t i = 0; i < n; ++i) rx_bytes += rte_pktmbuf_pkt_len(pkts[i]);
  bump(counters_.rx_packets[port_index], n);
  bump(counters_.rx_bytes[port_index], rx_bytes);

  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (i + kPrefetchAhead < n) prefetch_packet(pkts[i + kPrefetchAhead]);
    PacketView v;
    if (const DropReason r = parse_packet_inline(m, &v); r != DropReason::kNone) {
      drop(m, r);
      continue;
    }
    if (v.vlan != port.vlan) {
      drop(m, DropReason::kVlanMismatch);
      continue;
    }
    if (v.l3 == L3::kArp) {
      switch (classify_arp(m, v, port)) {
        case ArpKind::kRequestForUs:
          make_arp_reply(m, v, port);
          bump(counters_.local_replies);
          send(port_index, m);
          break;
        case ArpKind::kLearnOnly: punt(m, ControlEventType::kNeighborPacket, port_index); break;
        case ArpKind::kMalformed: drop(m, DropReason::kArpMalformed); break;
      }
      continue;
    }
    const bool v6 = v.l3 == L3::kIpv6;
    const uint8_t* l3 = rte_pktmbuf_mtod_offset(m, const uint8_t*, v.l2_len);
    const IpAddr dst = ip_dst(l3, v6);
    if (v6 && v.proto == IPPROTO_ICMPV6) {
      const uint8_t type = static_cast<uint8_t>(v.sport >> 8);
      if (type == kIcmp6NeighborSolicit || type == kIcmp6NeighborAdvert) {
        if (answer_neighbor_solicitation(m, v, port)) {
          bump(counters_.local_replies);
          send(port_index, m);
        } else {
          punt(m, ControlEventType::kNeighborPacket, port_index);
        }
        continue;
      }
    }
    if (is_own(dst)) {
      uint32_t spi = 0;
      uint16_t offset = 0;
      bool to_decrypt;
      if (v.proto == IPPROTO_ESP) {  // the common case: nothing to answer or punt, only the SPI
        spi = load_spi(m, v);
        offset = v.l3_len;
        to_decrypt = true;
      } else {
        to_decrypt = !handle_local(port_index, m, v, &spi, &offset);
      }
      if (to_decrypt) {
        strip_to_ip(m, v);
        esp_in[n_in] = m;
        esp_dst[n_in] = dst;
        esp_spi[n_in] = spi;
        esp_offset[n_in] = offset;
        ++n_in;
      }
      continue;
    }
    // Transit traffic. From the inside, a vpn_routing match with encrypt means ESP.
    if (!forwardable(rte_pktmbuf_mtod(m, const uint8_t*), l3, v6)) {
      drop(m, DropReason::kNotForwardable);
      continue;
    }
    if (port.role == PortRole::kInside) {
      // A burst usually carries several packets to one destination: its route is looked up once.
      const tables::VpnRoutingValue* route;
      if (memo_.route_valid && memo_.route_dst == dst) {
        route = memo_.route_value;
      } else {
        route = dst.is_v4() ? vpn_routing_.route_v4(dst.v4_host_order()) : vpn_routing_.route_v6(dst.bytes);
        memo_.route_dst = dst;
        memo_.route_value = route;
        memo_.route_valid = true;
      }
      if (route != nullptr && (route->flags & tables::kRouteEncrypt) != 0) {
        if (route != memo_.route) {
          ++route_changes;
          memo_.route = route;
          memo_.outbound_sa = nullptr;
          if (!spread && route->outbound_spi != 0) {
            memo_.outbound_sa = hinted_sa(*route);
            if (memo_.outbound_sa == nullptr) {
              alignas(8) const tables::OutboundSpiKey key{route->gateway, route->outbound_spi};
              memo_.outbound_sa = slot_of(outbound_spi_.lookup(key));
            }
          }
        }
        if (spread) {  // its SA is looked up after the loop (encrypt_deferred)
          DeferredPacket& d = deferred[n_deferred++];
          d.m = m;
          d.route = route;
          d.ip = {v.l2_len, v.ip_total, v.ttl, v6};
          flow_key(l3, v, tables::kDirOutbound, &d.flow);
          confirmed_.prefetch(d.flow.hash);  // read in encrypt_deferred: the line arrives meanwhile
          continue;
        }
        encrypt_inside(m, v, l3, v6, dst, *route, memo_.outbound_sa, port_index, esp_out, esp_out_sa, n_out);
        continue;
      }
    }
    strip_to_ip(m, v);
    if (!decrement_ttl(m, v6)) {
      drop(m, DropReason::kTtlExceeded);
      continue;
    }
    track(m, v, port.role == PortRole::kInside ? tables::kDirOutbound : tables::kDirInbound, kNoSa);
    if (route_and_send(m, dst, v6, port_index)) bump(counters_.forwarded_clear);
  }
  if (n_deferred != 0) n_out = encrypt_deferred(deferred, n_deferred, port_index, esp_out, esp_out_sa, n_out);
  if (route_changes != 0) inside_spread_ = route_changes > kSpreadRouteChanges;
  for (uint16_t done = 0; done < n_out; done += kBurst) {
    outbound_esp(esp_out + done, esp_out_sa + done, std::min<uint16_t>(kBurst, static_cast<uint16_t>(n_out - done)));
  }
  if (n_in != 0) inbound_esp(esp_in, esp_dst.at, esp_spi, esp_offset, n_in);
  flush_tracked();
}

void Worker::outbound_esp(rte_mbuf** pkts, const SaSlot** sas, uint16_t n) {
  uint8_t results[kBurst];
  esp_.encrypt(sas, pkts, n, results);
  uint64_t encrypted = 0;  // one counter store per burst
  TxRun run;
  const SaSlot* fits = nullptr;  // an SA whose peer the memo's Ethernet header fits (asked once per run)
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (results[i] != kEspOk) {
      bump(counters_.esp_drops[results[i] % kMaxEspReasons]);
      drop(m, DropReason::kEsp);
      continue;
    }
    ++encrypted;
    const SaSlot& sa = *sas[i];
    if (&sa != fits) fits = memo_fits_peer(sa) ? &sa : nullptr;
    if (fits != nullptr && rte_pktmbuf_pkt_len(m) <= memo_.tx_mtu) {
      add_with_memo_l2(m, run);
      continue;
    }
    send_run(run);  // before the memo changes, and in order
    route_and_send_slow(m, sa.remote, !sa.remote.is_v4(), kFromTunnel);
    fits = nullptr;  // the memo may now hold another neighbour's header: asked again
  }
  send_run(run);
  bump(counters_.encrypted, encrypted);
}

void Worker::inbound_esp(rte_mbuf** pkts, const IpAddr* dsts, const uint32_t* spis, const uint16_t* esp_offsets,
                         uint16_t n) {
  // A burst of one tunnel names one SA again and again: consecutive equal keys share one lookup.
  const tables::InboundSpiValue* values[kBurst];
  lookup_runs<kBurst>(
      inbound_spi_, n, [&](uint16_t i) { return spis[i] == spis[i - 1] && dsts[i] == dsts[i - 1]; },
      [&](uint16_t i) { return tables::InboundSpiKey{spis[i], IPPROTO_ESP, {}, dsts[i]}; }, values);
  rte_mbuf* known[kBurst];
  const SaSlot* sas[kBurst];
  uint16_t known_offsets[kBurst];
  uint32_t values_sa[kBurst];
  uint16_t n_known = 0;
  for (uint16_t i = 0; i < n; ++i) {
    const SaSlot* slot = values[i] != nullptr && values[i]->sa_index < view_.sa_slot_count
                             ? &view_.sa_slots[values[i]->sa_index]
                             : nullptr;
    if (slot == nullptr || slot->esp == nullptr) {
      drop(pkts[i], DropReason::kUnknownSpi);
      continue;
    }
    known[n_known] = pkts[i];
    known_offsets[n_known] = esp_offsets[i];
    sas[n_known] = slot;
    values_sa[n_known] = values[i]->sa_index;
    ++n_known;
  }
  if (n_known == 0) return;
  uint8_t results[kBurst];
  esp_.decrypt(sas, known, known_offsets, n_known, results);
  // The decrypted flows' keys first, and their confirmed-flows entries asked for: with many tunnels
  // each is a line not read since the flow's previous packet, which arrives while the rest is done.
  BurstScratch<FlowKey, kBurst> flows;
  for (uint16_t i = 0; i < n_known; ++i) {
    if (results[i] != kEspOk) continue;
    flow_key(rte_pktmbuf_mtod(known[i], const uint8_t*), rte_pktmbuf_data_len(known[i]), tables::kDirInbound, &flows[i]);
    confirmed_.prefetch(flows[i].hash);
  }
  uint64_t decrypted = 0;  // one counter store per burst
  TxRun run;
  for (uint16_t i = 0; i < n_known; ++i) {
    if (results[i] != kEspOk) {
      bump(counters_.esp_drops[results[i] % kMaxEspReasons]);
      drop(known[i], DropReason::kEsp);
      continue;
    }
    ++decrypted;
    const uint8_t* inner = rte_pktmbuf_mtod(known[i], const uint8_t*);
    const bool v6 = (inner[0] >> 4) == 6;
    // The gateway forwards the inner packet like a router: one hop (RFC 4301 5.2).
    if (!decrement_ttl(known[i], v6)) {
      drop(known[i], DropReason::kTtlExceeded);
      continue;
    }
    track_key(flows[i], tables::kDirInbound, values_sa[i]);
    route_into_run(known[i], ip_dst(inner, v6), v6, kFromTunnel, run);
  }
  send_run(run);
  bump(counters_.decrypted, decrypted);
}

}  // namespace dpvpn::dataplane
