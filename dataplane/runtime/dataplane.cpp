#include "runtime/dataplane.hpp"

#include <netinet/in.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "net/local_responder.hpp"
#include "net/packet_view.hpp"
#include "runtime/esp_stage_factory.hpp"
#include "runtime/udp_packet.hpp"

namespace dpvpn::dataplane {

namespace {

constexpr uint16_t kRxDescriptors = 1024, kTxDescriptors = 1024;
constexpr uint32_t kHoldRing = 1024, kInjectRing = 1024;
constexpr auto kSolicitInterval = std::chrono::seconds(1);
constexpr auto kNeighborGiveUp = std::chrono::seconds(3);

std::string device_name(const PortConfig& port) {
  return port.is_pci ? port.device : port.device.substr(0, port.device.find(','));
}

int worker_main(void* arg) { return static_cast<Worker*>(arg)->run(); }

template <class T>
rte_ring* create_elem_ring(const std::string& name, uint32_t count, unsigned flags) {
  return rte_ring_create_elem(name.c_str(), sizeof(T), rte_align32pow2(count), static_cast<int>(rte_socket_id()),
                              flags);
}

}  // namespace

std::vector<std::string> eal_args_for(const DataplaneConfig& config) {
  std::vector<std::string> args;
  for (const PortConfig& port : config.ports) {
    args.push_back(port.is_pci ? "-a" : "--vdev");
    args.push_back(port.device);
  }
  // A PCI crypto device (QAT) must be allowed explicitly once ports use -a; vdevs are probed by
  // the cryptodev engine itself.
  // (The config accepts crypto_* vdev names or PCI addresses only.)
  if (config.crypto == CryptoKind::kCryptodev && !config.crypto_device.starts_with("crypto_")) {
    args.push_back("-a");
    args.push_back(config.crypto_device);
  }
  return args;
}

Status Dataplane::create(const DataplaneConfig& config, std::unique_ptr<Dataplane>* out) {
  std::unique_ptr<Dataplane> dp(new Dataplane());
  dp->config_ = config;
  dp->now_seconds_ = dp->clock_.now_seconds();
  if (Status s = dp->init_ports(); !s) return s;
  if (Status s = dp->init_tables_and_sas(); !s) return s;
  if (Status s = dp->init_static_neighbors(); !s) return s;
  if (Status s = dp->init_workers(); !s) return s;
  *out = std::move(dp);
  return Status::ok();
}

Status Dataplane::init_ports() {
  if (config_.ports.size() > kMaxPorts) return {StatusCode::kInvalidArgument, "too many ports"};
  mbufs_ = rte_pktmbuf_pool_create("dpvpn_mbufs", config_.mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   static_cast<int>(rte_socket_id()));
  if (mbufs_ == nullptr) {
    return {StatusCode::kResourceExhausted, fmt::format("mbuf pool of {}: {}", config_.mbufs, rte_strerror(rte_errno))};
  }
  const auto tx_queues = static_cast<uint16_t>(config_.workers.size());
  for (const PortConfig& pc : config_.ports) {
    PortInfo info;
    info.name = pc.name;
    info.role = pc.role;
    info.mtu = pc.mtu;
    info.vlan = pc.vlan;
    info.rx_queues = pc.rx_queues;
    for (const IpPrefix& a : pc.addresses) info.addresses.push_back({a.addr, a.len});
    if (rte_eth_dev_get_port_by_name(device_name(pc).c_str(), &info.port_id) != 0) {
      return {StatusCode::kNotFound, fmt::format("port {}: no DPDK device '{}'", pc.name, device_name(pc))};
    }
    rte_eth_dev_info dev_info{};
    if (rte_eth_dev_info_get(info.port_id, &dev_info) != 0) {
      return {StatusCode::kInternal, fmt::format("port {}: rte_eth_dev_info_get failed", pc.name)};
    }
    rte_eth_conf conf{};
    if (pc.rx_queues > 1) {
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & dev_info.flow_type_rss_offloads;
    }
    if (pc.rx_queues > dev_info.max_rx_queues || tx_queues > dev_info.max_tx_queues) {
      return {StatusCode::kInvalidArgument,
              fmt::format("port {}: needs {} RX / {} TX queues (one TX queue per worker), device has {} / {}",
                          pc.name, pc.rx_queues, tx_queues, dev_info.max_rx_queues, dev_info.max_tx_queues)};
    }
    if (int rc = rte_eth_dev_configure(info.port_id, pc.rx_queues, tx_queues, &conf); rc != 0) {
      return {StatusCode::kInternal, fmt::format("port {}: configure: {}", pc.name, rte_strerror(-rc))};
    }
    const int socket = rte_eth_dev_socket_id(info.port_id);
    for (uint16_t q = 0; q < pc.rx_queues; ++q) {
      if (int rc = rte_eth_rx_queue_setup(info.port_id, q, kRxDescriptors, socket, nullptr, mbufs_); rc != 0) {
        return {StatusCode::kInternal, fmt::format("port {}: RX queue {}: {}", pc.name, q, rte_strerror(-rc))};
      }
    }
    for (uint16_t q = 0; q < tx_queues; ++q) {
      if (int rc = rte_eth_tx_queue_setup(info.port_id, q, kTxDescriptors, socket, nullptr); rc != 0) {
        return {StatusCode::kInternal, fmt::format("port {}: TX queue {}: {}", pc.name, q, rte_strerror(-rc))};
      }
    }
    rte_eth_dev_set_mtu(info.port_id, pc.mtu);  // virtual devices may not support it; the MTU we enforce is ours
    if (pc.mac) {
      rte_ether_addr mac;
      std::memcpy(mac.addr_bytes, pc.mac->data(), 6);
      rte_eth_dev_default_mac_addr_set(info.port_id, &mac);
      info.mac = *pc.mac;
    } else {
      rte_ether_addr mac;
      rte_eth_macaddr_get(info.port_id, &mac);
      std::memcpy(info.mac.data(), mac.addr_bytes, 6);
    }
    if (int rc = rte_eth_dev_start(info.port_id); rc != 0) {
      return {StatusCode::kInternal, fmt::format("port {}: start: {}", pc.name, rte_strerror(-rc))};
    }
    rte_eth_promiscuous_enable(info.port_id);  // ND uses multicast; our own MAC may be an override
    ports_.push_back(std::move(info));
  }
  for (size_t p = 0; p < config_.ports.size(); ++p) {
    for (const IpPrefix& a : config_.ports[p].addresses) {
      next_hops_.add(a.network().addr, a.len, {static_cast<uint16_t>(p), true, {}});
    }
  }
  for (const RouteConfig& r : config_.routes) next_hops_.add(r.prefix.addr, r.prefix.len, {r.port, false, r.via});
  return Status::ok();
}

Status Dataplane::init_tables_and_sas() {
  rcu_ = std::make_unique<tables::RcuDomain>(static_cast<uint32_t>(config_.workers.size()));
  tables::TableSetOptions options;
  for (const auto& [name, capacity] : config_.tables) options.capacity[name] = capacity;
  if (Status s = tables::KernelTableSet::create(*rcu_, clock_, options, &tables_); !s) return s;
  key_engine_ = make_crypto_engine(config_);
  if (key_engine_ == nullptr) return {StatusCode::kInternal, "no crypto engine"};
  // The SA store holds as many SAs as inbound_SPI and outbound_SPI can name.
  const uint64_t sa_capacity = uint64_t{tables_->table(tables::TableId::inbound_SPI).capacity()} +
                               tables_->table(tables::TableId::outbound_SPI).capacity();
  sa_manager_ = std::make_unique<SaManager>(*tables_, *key_engine_, clock_, *rcu_, next_hops_,
                                             static_cast<uint32_t>(sa_capacity));
  std::vector<uint32_t> index_of(config_.sas.size());
  for (size_t i = 0; i < config_.sas.size(); ++i) {
    if (Status s = sa_manager_->add_sa(config_.sas[i], &index_of[i]); !s) {
      return {s.code(), fmt::format("SA {}: {}", config_.sas[i].name, s.message())};
    }
  }
  for (const PolicyConfig& policy : config_.policies) {
    const int32_t out_index = policy.outbound_sa >= 0 ? static_cast<int32_t>(index_of[policy.outbound_sa]) : -1;
    const uint32_t tunnel = policy.outbound_sa >= 0 ? config_.sas[policy.outbound_sa].tunnel_id : 0;
    if (Status s = sa_manager_->add_policy(policy.remote.network(), policy.action, out_index, tunnel); !s) {
      return {s.code(), fmt::format("policy {} -> {}: {}", policy.local.to_string(), policy.remote.to_string(),
                                    s.message())};
    }
  }
  return Status::ok();
}

// The config's static neighbours: permanent entries (no TTL, so never aged out, hence never
// solicited again; learn_neighbor leaves them as they are).
Status Dataplane::init_static_neighbors() {
  auto neighbors = tables_->typed<tables::TableId::neighbors>();
  for (const NeighborConfig& n : config_.neighbors) {
    const tables::NeighborKey key{n.address, ports_[n.port].port_id, 0};
    if (Status s = neighbors.upsert(key, {n.mac, kNeighborPermanent}, {.ttl_s = 0, .link = false}); !s) {
      return {s.code(), fmt::format("static neighbour {} on port {}: {}", n.address.to_string(), ports_[n.port].name,
                                    s.message())};
    }
  }
  return Status::ok();
}

Status Dataplane::init_workers() {
  control_ring_ = create_elem_ring<ControlEvent>("dpvpn_control", config_.punt_ring, RING_F_SC_DEQ);
  hold_ring_ = create_elem_ring<HoldItem>("dpvpn_hold", kHoldRing, RING_F_SC_DEQ);
  if (control_ring_ == nullptr || hold_ring_ == nullptr) return {StatusCode::kResourceExhausted, "rings"};
  DataplaneView view;
  view.ports = &ports_;
  view.next_hops = &next_hops_;
  view.tables = tables_.get();
  view.sa_slots = sa_manager_->slots();
  view.sa_slot_count = sa_manager_->slot_count();
  view.control_ring = control_ring_;
  view.hold_ring = hold_ring_;
  view.now_seconds = &now_seconds_;
  view.stop = &stop_;
  view.rcu = rcu_.get();
  view.mbufs = mbufs_;
  view.idle = config_.idle;
  view.idle_sleep_us = config_.idle_sleep_us;
  for (uint32_t w = 0; w < config_.workers.size(); ++w) {
    rte_ring* inject = create_elem_ring<InjectItem>(fmt::format("dpvpn_inject{}", w), kInjectRing,
                                                    RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (inject == nullptr) return {StatusCode::kResourceExhausted, "inject ring"};
    inject_rings_.push_back(inject);
    esp_stages_.push_back(make_esp_stage(config_));
    if (esp_stages_.back() == nullptr) {
      return {StatusCode::kResourceExhausted,
              fmt::format("worker {}: no crypto engine ({} {})", w,
                          config_.crypto == CryptoKind::kCryptodev ? "cryptodev" : "ipsec-mb", config_.crypto_device)};
    }
    if (Status s = rcu_->register_reader(w); !s) return s;
    auto worker = std::make_unique<Worker>(w, view, config_.workers[w].rx, inject, *esp_stages_.back());
    if (!worker->init()) return {StatusCode::kResourceExhausted, "worker TX buffers"};
    workers_.push_back(std::move(worker));
  }
  return Status::ok();
}

Status Dataplane::start() {
  for (uint32_t w = 0; w < workers_.size(); ++w) {
    const unsigned lcore = config_.workers[w].lcore;
    if (rte_eal_remote_launch(worker_main, workers_[w].get(), lcore) != 0) {
      stop();
      return {StatusCode::kInvalidArgument, fmt::format("worker {}: lcore {} is not available to EAL", w, lcore)};
    }
  }
  started_ = true;
  return Status::ok();
}

void Dataplane::stop() {
  stop_.store(true);
  if (started_) {
    for (uint32_t w = 0; w < workers_.size(); ++w) rte_eal_wait_lcore(config_.workers[w].lcore);
    started_ = false;
  }
}

Dataplane::~Dataplane() {
  stop();
  for (auto& [key, pending] : pending_) {
    for (rte_mbuf* m : pending.packets) rte_pktmbuf_free(m);
  }
  for (const PortInfo& port : ports_) {
    rte_eth_dev_stop(port.port_id);
    rte_eth_dev_close(port.port_id);
  }
  workers_.clear();
  esp_stages_.clear();
  sa_manager_.reset();
  tables_.reset();
  rcu_.reset();
  for (rte_ring* r : inject_rings_) rte_ring_free(r);
  rte_ring_free(control_ring_);
  rte_ring_free(hold_ring_);
  rte_mempool_free(mbufs_);
}

Status Dataplane::run_on_writer(std::function<Status()> task) {
  if (!main_loop_running_.load() || std::this_thread::get_id() == writer_thread_) return task();
  std::packaged_task<Status()> packaged(std::move(task));
  std::future<Status> result = packaged.get_future();
  {
    std::lock_guard lock(writer_tasks_mutex_);
    writer_tasks_.push_back(std::move(packaged));
  }
  return result.get();
}

std::vector<const WorkerCounters*> Dataplane::worker_counters() const {
  std::vector<const WorkerCounters*> out;
  for (const auto& w : workers_) out.push_back(&w->counters());
  return out;
}

uint32_t Dataplane::poll_workers_once() {
  uint32_t n = 0;
  for (auto& w : workers_) n += w->poll_once();
  return n;
}

uint64_t Dataplane::rx_total() const {
  uint64_t total = 0;
  for (const auto& w : workers_) {
    for (size_t p = 0; p < ports_.size(); ++p) total += read_counter(w->counters().rx_packets[p]);
  }
  return total;
}

void Dataplane::inject_frame(uint16_t port_index, rte_mbuf* frame) {
  InjectItem item{frame, port_index, {}};
  if (inject_rings_.empty() || rte_ring_sp_enqueue_elem(inject_rings_[0], &item, sizeof item) != 0) {
    rte_pktmbuf_free(frame);
    ++hold_drops_;
  }
}

void Dataplane::solicit(uint16_t port_index, const IpAddr& addr) {
  rte_mbuf* m = rte_pktmbuf_alloc(mbufs_);
  if (m == nullptr) return;
  const PortInfo& port = ports_[port_index];
  const bool built = addr.is_v4() ? build_arp_request(m, port, addr) : build_neighbor_solicitation(m, port, addr);
  if (!built) {
    rte_pktmbuf_free(m);
    return;
  }
  inject_frame(port_index, m);
}

void Dataplane::learn_neighbor(uint16_t port_index, const IpAddr& addr, const std::array<uint8_t, 6>& mac) {
  const PortInfo& port = ports_[port_index];
  tables::NeighborKey key{addr, port.port_id, 0};
  auto neighbors = tables_->typed<tables::TableId::neighbors>();
  // A static neighbour keeps its configured MAC whatever the network says (ARP / ND are not
  // authenticated); held packets, if any, go to the configured MAC.
  std::array<uint8_t, 6> to = mac;
  if (const auto* n = neighbors.lookup(key); n != nullptr && n->state == kNeighborPermanent) {
    to = n->mac;
  } else {
    if (!neighbors.upsert(key, {mac, tables::kNeighborReachable}).is_ok()) return;
    ++neighbors_learned_;
  }
  auto it = pending_.find({port_index, addr});
  if (it == pending_.end()) return;
  for (rte_mbuf* m : it->second.packets) {
    const bool v6 = (rte_pktmbuf_mtod(m, const uint8_t*)[0] >> 4) == 6;
    if (push_ethernet(m, port, to, v6)) {
      inject_frame(port_index, m);
    } else {
      rte_pktmbuf_free(m);
    }
  }
  pending_.erase(it);
}

void Dataplane::handle_hold(HoldItem& item) {
  const PortInfo& port = ports_[item.port_index];
  tables::NeighborKey key{item.next_hop, port.port_id, 0};
  if (const auto* n = tables_->typed<tables::TableId::neighbors>().lookup(key); n != nullptr) {
    const bool v6 = (rte_pktmbuf_mtod(item.packet, const uint8_t*)[0] >> 4) == 6;
    if (push_ethernet(item.packet, port, n->mac, v6)) return inject_frame(item.port_index, item.packet);
    rte_pktmbuf_free(item.packet);
    return;
  }
  const SteadyTime now = std::chrono::steady_clock::now();
  auto [it, inserted] = pending_.try_emplace({item.port_index, item.next_hop});
  Pending& pending = it->second;
  if (pending.packets.size() >= config_.hold_queue) {
    rte_pktmbuf_free(item.packet);  // bounded: the oldest waiters stay, newcomers are dropped
    ++hold_drops_;
  } else {
    pending.packets.push_back(item.packet);
  }
  if (inserted) {
    pending.first_held = pending.last_solicit = now;
    solicit(item.port_index, item.next_hop);
  }
}

// A next hop that has not answered 3 solicitations (one a second) is unreachable: drop its packets.
void Dataplane::retry_pending_neighbors() {
  if (pending_.empty()) return;
  const SteadyTime now = std::chrono::steady_clock::now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& pending = it->second;
    if (now - pending.first_held < kNeighborGiveUp) {
      if (now - pending.last_solicit >= kSolicitInterval) {  // ask again
        pending.last_solicit = now;
        solicit(it->first.first, it->first.second);
      }
      ++it;
      continue;
    }
    for (rte_mbuf* m : pending.packets) rte_pktmbuf_free(m);
    hold_drops_ += pending.packets.size();
    it = pending_.erase(it);
  }
}

Status Dataplane::send_udp(const IpAddr& src, const IpAddr& dst, uint16_t sport, uint16_t dport,
                           const std::vector<uint8_t>& payload) {
  if (src.is_v4() != dst.is_v4()) return {StatusCode::kInvalidArgument, "udp.dst: not the family of udp.src"};
  const bool ours = std::any_of(ports_.begin(), ports_.end(), [&](const PortInfo& p) { return p.owns(src); });
  if (!ours) {
    return {StatusCode::kInvalidArgument, fmt::format("udp.src: {} is not an address of this dataplane", src.to_string())};
  }
  const NextHop* hop = next_hops_.lookup(dst);
  if (hop == nullptr) return {StatusCode::kNotFound, fmt::format("udp.dst: no route to {}", dst.to_string())};
  const PortInfo& port = ports_[hop->port_index];
  const size_t ip_len = (src.is_v4() ? 20 : 40) + 8 + payload.size();
  if (ip_len > port.mtu) {
    return {StatusCode::kInvalidArgument, fmt::format("udp.payload: a {}-byte packet exceeds port {}'s MTU {}", ip_len,
                                                      port.name, port.mtu)};
  }
  const std::vector<uint8_t> packet = build_udp_packet(src, dst, sport, dport, payload);
  rte_mbuf* m = rte_pktmbuf_alloc(mbufs_);
  if (m == nullptr) return {StatusCode::kResourceExhausted, "no mbuf"};
  void* data = rte_pktmbuf_append(m, static_cast<uint16_t>(packet.size()));
  if (data == nullptr) {
    rte_pktmbuf_free(m);
    return {StatusCode::kInvalidArgument, "udp.payload: does not fit an mbuf"};
  }
  std::memcpy(data, packet.data(), packet.size());
  // The same way as a forwarded packet waiting for its next hop: sent now if the neighbour is
  // known, otherwise held while ARP / ND asks.
  HoldItem item{m, hop->port_index, {}, NextHops::neighbor_for(*hop, dst)};
  handle_hold(item);
  return Status::ok();
}

void Dataplane::handle_control_event(ControlEvent& ev) {
  switch (ev.type) {
    case ControlEventType::kNeighborPacket: {
      PacketView v;
      IpAddr addr;
      std::array<uint8_t, 6> mac{};
      if (parse_packet(ev.packet, &v) == DropReason::kNone && neighbor_from_packet(ev.packet, v, &addr, &mac)) {
        learn_neighbor(ev.port_index, addr, mac);
      }
      rte_pktmbuf_free(ev.packet);
      return;
    }
    case ControlEventType::kIkePacket: {
      PuntedEvent out{ev.type, ev.port_index, {}, {}, {}, {}, 0, 0, 0, 0, 0};
      const auto* data = rte_pktmbuf_mtod(ev.packet, const uint8_t*);
      out.frame.assign(data, data + rte_pktmbuf_data_len(ev.packet));
      // The control plane answers to these: addresses and ports as received.
      PacketView v;
      if (parse_packet(ev.packet, &v) == DropReason::kNone && (v.l3 == L3::kIpv4 || v.l3 == L3::kIpv6)) {
        const uint8_t* l3 = data + v.l2_len;
        std::array<uint8_t, 16> a{}, b{};
        if (v.l3 == L3::kIpv4) {
          out.src = IpAddr::v4(uint32_t{l3[12]} << 24 | uint32_t{l3[13]} << 16 | uint32_t{l3[14]} << 8 | l3[15]);
          out.dst = IpAddr::v4(uint32_t{l3[16]} << 24 | uint32_t{l3[17]} << 16 | uint32_t{l3[18]} << 8 | l3[19]);
        } else {
          std::memcpy(a.data(), l3 + 8, 16);
          std::memcpy(b.data(), l3 + 24, 16);
          out.src = IpAddr::v6(a);
          out.dst = IpAddr::v6(b);
        }
        out.sport = v.sport;
        out.dport = v.dport;
        out.proto = v.proto;
      }
      rte_pktmbuf_free(ev.packet);
      control_.publish(std::move(out));
      return;
    }
    case ControlEventType::kAcquire: {
      tables::FiveTupleKey flow{ev.src, ev.dst, ev.sport, ev.dport, ev.proto, {}};
      const Status s = tables_->typed<tables::TableId::encryption_requests>().insert(
          flow, {ev.gateway, 1, 1, 1, 0});
      if (s.is_ok()) {
        ++acquires_recorded_;
        control_.publish({ev.type, ev.port_index, {}, ev.src, ev.dst, ev.gateway, ev.sport, ev.dport, ev.proto,
                          ev.spi, 0});
      }
      return;
    }
    case ControlEventType::kNewConnection: {
      tables::ConnectionsKey key{ev.src, ev.dst, ev.sport, ev.dport, ev.proto, ev.direction, 0};
      tables::ConnectionsValue value{};
      value.state = 1;
      // The SA handle is sa_index + 1, so that 0 keeps meaning "in clear".
      const uint32_t handle = ev.sa_index == Worker::kNoSa ? 0 : ev.sa_index + 1;
      const bool in = ev.direction == tables::kDirInbound;
      value.inbound_sa = in ? handle : 0;
      value.outbound_sa = in ? 0 : handle;
      // Idle timeouts by protocol, as stateful gateways usually default them.
      const uint32_t ttl = ev.proto == IPPROTO_TCP ? 3600 : ev.proto == IPPROTO_UDP ? 40
                         : (ev.proto == IPPROTO_ICMP || ev.proto == IPPROTO_ICMPV6) ? 30 : 60;
      if (tables_->typed<tables::TableId::connections>().insert(key, value, {.ttl_s = ttl, .link = false}).is_ok()) {
        ++connections_created_;
      }
      return;
    }
    default:
      control_.publish({ev.type, ev.port_index, {}, ev.src, ev.dst, ev.gateway, ev.sport, ev.dport, ev.proto,
                        ev.spi, ev.sa_index});
      return;
  }
}

void Dataplane::tick_second() {
  now_seconds_.store(clock_.now_seconds());
  tables_->age(4096);
  check_sa_lifetimes();
}

void Dataplane::check_sa_lifetimes() {
  for (uint32_t i = 0; i < sa_manager_->slot_count(); ++i) {
    EspSa* sa = sa_manager_->sa(i);
    if (sa == nullptr) continue;
    sa->check_time(now_seconds_.load());
    const uint32_t events = sa->take_expiry_events();
    if (events & esp_state::kSoftEvent) {
      control_.publish({ControlEventType::kSaSoftExpire, 0, {}, {}, {}, {}, 0, 0, 0, sa->spi(), i});
    }
    if (events & esp_state::kHardEvent) {
      control_.publish({ControlEventType::kSaHardExpire, 0, {}, {}, {}, {}, 0, 0, 0, sa->spi(), i});
    }
  }
}

bool Dataplane::housekeeping_once() {
  ControlEvent events[64];
  unsigned n = rte_ring_sc_dequeue_burst_elem(control_ring_, events, sizeof(ControlEvent), 64, nullptr);
  bool busy = n != 0;
  for (unsigned i = 0; i < n; ++i) handle_control_event(events[i]);
  HoldItem held[64];
  n = rte_ring_sc_dequeue_burst_elem(hold_ring_, held, sizeof(HoldItem), 64, nullptr);
  busy = busy || n != 0;
  for (unsigned i = 0; i < n; ++i) handle_hold(held[i]);
  while (auto request = control_.next_inject()) {
    busy = true;
    if (request->port_index >= ports_.size()) continue;
    rte_mbuf* m = rte_pktmbuf_alloc(mbufs_);
    if (m == nullptr) continue;
    void* p = rte_pktmbuf_append(m, static_cast<uint16_t>(request->frame.size()));
    if (p == nullptr) {
      rte_pktmbuf_free(m);
      continue;
    }
    std::memcpy(p, request->frame.data(), request->frame.size());
    inject_frame(request->port_index, m);
  }
  std::deque<std::packaged_task<Status()>> tasks;
  {
    std::lock_guard lock(writer_tasks_mutex_);
    tasks.swap(writer_tasks_);
  }
  for (auto& task : tasks) task();
  sa_manager_->reclaim();
  retry_pending_neighbors();
  if (clock_.now_seconds() != now_seconds_.load()) tick_second();
  return busy || !tasks.empty() || !pending_.empty();
}

void Dataplane::run_main_loop(const RunLimits& limits, const std::atomic<bool>& interrupted) {
  writer_thread_ = std::this_thread::get_id();
  main_loop_running_.store(true);
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto last_rx_change = start;
  uint64_t last_rx = 0;
  // After kIdleBeforeBackoff without any work the sleep between passes doubles, up to
  // kIdleSleepMax; any work brings it back to kBusySleep. Each wakeup of this thread costs the
  // workers CPU on a shared machine (measured: a worker got ~55% of its core next to 5000
  // wakeups/s, ~100% next to 20/s); the first 100 ms of quiet keep the short sleep, so traffic
  // that starts (unresolved next hops, new flows) is served as fast as before.
  static constexpr auto kBusySleep = std::chrono::microseconds(200), kIdleSleepMax = std::chrono::microseconds(20000);
  static constexpr auto kIdleBeforeBackoff = std::chrono::milliseconds(100);
  auto sleep = kBusySleep;
  auto last_work = start;
  while (!interrupted.load()) {
    const bool worked = housekeeping_once();
    const auto now = Clock::now();
    if (worked) {
      last_work = now;
      sleep = kBusySleep;
    } else if (now - last_work >= kIdleBeforeBackoff) {
      sleep = std::min(sleep * 2, kIdleSleepMax);
    }
    const uint64_t rx = rx_total();
    if (rx != last_rx) {
      last_rx = rx;
      last_rx_change = now;
    }
    const auto ms = [&](Clock::time_point since) {
      return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count());
    };
    if (limits.duration_ms != 0 && ms(start) >= limits.duration_ms) break;
    if (limits.exit_idle_ms != 0 && ms(last_rx_change) >= limits.exit_idle_ms && pending_.empty()) break;
    std::this_thread::sleep_for(sleep);
  }
  // Let workers send what housekeeping just injected.
  for (int i = 0; i < 5; ++i) {
    housekeeping_once();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // Callers waiting for the writer from now on run inline (the agent is stopped before teardown).
  main_loop_running_.store(false);
  housekeeping_once();
  stop();
}

}  // namespace dpvpn::dataplane
