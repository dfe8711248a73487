#include "agent/dataplane_backend_impl.hpp"

#include <rte_ethdev.h>
#include <rte_random.h>

#include <fmt/format.h>

#include <thread>

#include "esp/esp_result.hpp"
#include "esp/replay_window.hpp"
#include "tables/table_dump.hpp"

namespace dpvpn::dataplane {

namespace {

std::string sa_name(const SaKey& key) {
  return fmt::format("{} SA 0x{:08x} {} {}", key.direction == SaDirection::kInbound ? "inbound" : "outbound", key.spi,
                     key.direction == SaDirection::kInbound ? "for" : "to", key.address.to_string());
}

tables::VpnRoutingKey route_key(const PolicyRequest& p) {
  return tables::vpn_route_key(p.remote.addr, p.remote.len);
}

// The route's SA slot hint comes from the SA installed for (gateway, SPI) now, if any; a policy
// set before its SA keeps no hint, and its packets look the SA up.
tables::VpnRoutingValue route_value(const PolicyRequest& p, const SaManager& sas) {
  tables::VpnRoutingValue value{};
  value.tunnel_id = p.tunnel_id;
  value.sa_index = tables::kNoSaIndex;
  if (p.action == PolicyAction::kProtect) {
    value.gateway = p.gateway;
    value.outbound_spi = p.spi;
    value.flags = tables::kRouteEncrypt;
    if (uint32_t index = 0; sas.find_outbound(p.gateway, p.spi, &index)) value.sa_index = index;
  }
  return value;
}

}  // namespace

Status DataplaneBackendImpl::find(const SaKey& key, uint32_t* sa_index) const {
  const bool found = key.direction == SaDirection::kInbound ? dp_.sas().find_inbound(key.spi, key.address, sa_index)
                                                            : dp_.sas().find_outbound(key.address, key.spi, sa_index);
  if (!found) return {StatusCode::kNotFound, "no " + sa_name(key)};
  return Status::ok();
}

SaSnapshot DataplaneBackendImpl::snapshot(uint32_t sa_index) const {
  EspSa* sa = dp_.sas().sa(sa_index);
  SaSnapshot s;
  s.params = sa->params();  // keys were never copied into it
  s.sa_index = sa_index;
  const EspSaCounters c = sa->counters();
  s.packets = c.packets;
  s.bytes = c.bytes;
  s.replay_drops = c.replay_drops;
  s.auth_failures = c.auth_failures;
  s.ts_drops = c.ts_drops;
  s.other_drops = c.other_drops;
  if (sa->inbound()) {
    s.replay_top = sa->replay_window()->top();
  } else {
    s.next_seq = sa->next_seq();
  }
  s.soft_expired = sa->soft_expired();
  s.hard_expired = sa->hard_expired();
  const uint64_t now = dp_.tables().table(tables::TableId::inbound_SPI).now_seconds();
  s.age_seconds = now > sa->created_seconds() ? now - sa->created_seconds() : 0;
  return s;
}

Status DataplaneBackendImpl::allocate_spi(uint32_t member, uint32_t member_bits, uint32_t* spi) {
  if (member_bits > 8 || (member_bits < 32 && member >= (1u << member_bits) && member_bits != 0) ||
      (member_bits == 0 && member != 0)) {
    return {StatusCode::kInvalidArgument, fmt::format("member {} does not fit in {} bits", member, member_bits)};
  }
  return dp_.run_on_writer([&] {
    for (int attempt = 0; attempt < 64; ++attempt) {
      uint32_t candidate = static_cast<uint32_t>(rte_rand());
      if (member_bits != 0) {
        candidate = (member << (32 - member_bits)) | (candidate & (0xffffffffu >> member_bits));
      }
      if (candidate < 256) continue;  // 1..255 are reserved by IANA (RFC 4303 2.1)
      if (dp_.sas().inbound_spi_live(candidate) || !allocated_spis_.insert(candidate).second) continue;
      *spi = candidate;
      return Status::ok();
    }
    return Status{StatusCode::kResourceExhausted, "no free SPI found"};
  });
}

SaParams DataplaneBackendImpl::with_defaults(const SaParams& params) const {
  SaParams p = params;
  if (p.replay_window == 0) p.replay_window = dp_.config().replay_window;  // 0: the dataplane's default
  if (p.natt_local_port == 0) p.natt_local_port = 4500;
  if (p.natt_remote_port == 0) p.natt_remote_port = 4500;
  return p;
}

Status DataplaneBackendImpl::add_sa(const SaParams& params, uint32_t* sa_index) {
  const SaParams p = with_defaults(params);
  return dp_.run_on_writer([&] { return dp_.sas().add_sa(p, sa_index); });
}

Status DataplaneBackendImpl::update_sa(const SaKey& key, const SaLifetime& lifetime,
                                       const std::vector<TrafficSelector>& local_ts,
                                       const std::vector<TrafficSelector>& remote_ts) {
  return dp_.run_on_writer([&]() -> Status {
    uint32_t index = 0;
    if (Status s = find(key, &index); !s) return s;
    if (Status s = dp_.sas().update_sa(index, lifetime, local_ts, remote_ts); !s) {
      return {s.code(), sa_name(key) + ": " + s.message()};
    }
    return Status::ok();
  });
}

Status DataplaneBackendImpl::query_sa(const SaKey& key, SaSnapshot* out) {
  return dp_.run_on_writer([&] {
    uint32_t index = 0;
    if (Status s = find(key, &index); !s) return s;
    *out = snapshot(index);
    return Status::ok();
  });
}

Status DataplaneBackendImpl::delete_sa(const SaKey& key) {
  return dp_.run_on_writer([&] {
    uint32_t index = 0;
    if (Status s = find(key, &index); !s) return s;
    return dp_.sas().delete_sa(index);
  });
}

Status DataplaneBackendImpl::check_policy(const PolicyRequest& policy) const {
  if (Status s = tables::VpnRouting::validate(route_key(policy)); !s) return s;
  if (policy.action == PolicyAction::kProtect && policy.gateway == IpAddr{}) {
    return {StatusCode::kInvalidArgument, "a protect policy needs the peer gateway"};
  }
  return Status::ok();
}

Status DataplaneBackendImpl::add_policy(const PolicyRequest& policy) {
  if (Status s = check_policy(policy); !s) return s;
  return dp_.run_on_writer([&] { return dp_.tables().vpn_routing().add(route_key(policy), route_value(policy, dp_.sas())); });
}

Status DataplaneBackendImpl::delete_policy(const PolicyRequest& policy) {
  return dp_.run_on_writer([&] { return dp_.tables().vpn_routing().remove(route_key(policy)); });
}

Status DataplaneBackendImpl::apply_batch(const SaBatchRequest& batch, std::vector<uint32_t>* added) {
  return dp_.run_on_writer([&]() -> Status {
    SaManager& sas = dp_.sas();
    // 1. Everything that can fail is checked before anything changes.
    std::vector<uint32_t> del_index(batch.del.size());
    for (size_t i = 0; i < batch.del.size(); ++i) {
      if (Status s = find(batch.del[i], &del_index[i]); !s) return {s.code(), fmt::format("del[{}]: {}", i, s.message())};
    }
    std::vector<std::unique_ptr<EspSa>> prepared(batch.add.size());
    for (size_t i = 0; i < batch.add.size(); ++i) {
      const SaParams p = with_defaults(batch.add[i]);
      if (Status s = sas.prepare_sa(p, &prepared[i]); !s) return {s.code(), fmt::format("add[{}]: {}", i, s.message())};
      bool deleted_here = false;  // a batch may replace an SA: delete + add with the same SPI
      for (const SaKey& d : batch.del) {
        deleted_here = deleted_here || (d.spi == p.spi && d.direction == p.direction &&
                                        d.address == (p.direction == SaDirection::kInbound ? p.local : p.remote));
      }
      if (!deleted_here && sas.spi_in_use(p)) {
        return {StatusCode::kAlreadyExists, fmt::format("add[{}]: SPI 0x{:08x} is already installed", i, p.spi)};
      }
      for (size_t j = 0; j < i; ++j) {
        const SaParams& q = batch.add[j];
        if (q.spi == p.spi && q.direction == p.direction && q.local == p.local && q.remote == p.remote) {
          return {StatusCode::kAlreadyExists, fmt::format("add[{}]: same SPI as add[{}]", i, j)};
        }
      }
    }
    if (batch.add.size() > sas.free_slots() + batch.del.size()) {
      return {StatusCode::kResourceExhausted, fmt::format("batch adds {} SAs; room for {}", batch.add.size(),
                                                          sas.free_slots())};
    }
    for (size_t i = 0; i < batch.add_policy.size(); ++i) {
      if (Status s = check_policy(batch.add_policy[i]); !s) {
        return {s.code(), fmt::format("add_policy[{}]: {}", i, s.message())};
      }
    }
    for (size_t i = 0; i < batch.del_policy.size(); ++i) {
      const tables::VpnRoutingKey key = route_key(batch.del_policy[i]);
      if (dp_.tables().table(tables::TableId::vpn_routing).lookup(&key) == nullptr) {
        return {StatusCode::kNotFound, fmt::format("del_policy[{}]: no policy for {}", i,
                                                   batch.del_policy[i].remote.to_string())};
      }
    }
    // 2. Apply. Deleted SAs' indexes come back only after their grace period, so adds use free ones.
    for (uint32_t index : del_index) {
      if (Status s = sas.delete_sa(index); !s) return {StatusCode::kInternal, "batch half applied: " + s.message()};
    }
    for (auto& sa : prepared) {
      uint32_t index = 0;
      if (Status s = sas.publish_sa(std::move(sa), &index); !s) {
        return {StatusCode::kInternal, "batch half applied: " + s.message()};
      }
      added->push_back(index);
    }
    for (const PolicyRequest& p : batch.del_policy) {
      if (Status s = dp_.tables().vpn_routing().remove(route_key(p)); !s) {
        return {StatusCode::kInternal, "batch half applied: " + s.message()};
      }
    }
    for (const PolicyRequest& p : batch.add_policy) {
      if (Status s = dp_.tables().vpn_routing().add(route_key(p), route_value(p, dp_.sas())); !s) {
        return {StatusCode::kInternal, "batch half applied: " + s.message()};
      }
    }
    return Status::ok();
  });
}

Status DataplaneBackendImpl::read_table(std::string_view name_or_id, bool summary, const tables::DumpOptions& options,
                                        std::string* out) {
  return dp_.run_on_writer([&] { return dp_.tables().read(name_or_id, summary, options, out); });
}

Status DataplaneBackendImpl::stats(bool per_lcore, const std::vector<uint32_t>& spis, StatsSnapshot* out) {
  return dp_.run_on_writer([&] {
    const auto workers = dp_.worker_counters();
    const auto& ports = dp_.ports();
    for (size_t p = 0; p < ports.size(); ++p) {
      PortStatsSnapshot ps;
      ps.name = ports[p].name;
      for (const WorkerCounters* c : workers) {
        ps.rx_packets += read_counter(c->rx_packets[p]);
        ps.tx_packets += read_counter(c->tx_packets[p]);
        ps.rx_bytes += read_counter(c->rx_bytes[p]);
        ps.tx_bytes += read_counter(c->tx_bytes[p]);
      }
      rte_eth_stats d{};
      rte_eth_stats_get(ports[p].port_id, &d);
      ps.imissed = d.imissed;
      ps.ierrors = d.ierrors;
      ps.rx_nombuf = d.rx_nombuf;
      ps.oerrors = d.oerrors;
      out->ports.push_back(ps);
    }
    for (size_t w = 0; w < workers.size(); ++w) {
      const WorkerCounters& c = *workers[w];
      LcoreStatsSnapshot ls;
      ls.worker = static_cast<uint32_t>(w);
      ls.lcore = dp_.config().workers[w].lcore;
      for (size_t p = 0; p < ports.size(); ++p) {
        ls.rx_packets += read_counter(c.rx_packets[p]);
        ls.tx_packets += read_counter(c.tx_packets[p]);
      }
      ls.encrypted = read_counter(c.encrypted);
      ls.decrypted = read_counter(c.decrypted);
      for (const uint64_t& d : c.drops) ls.drops += read_counter(d);
      out->encrypted += ls.encrypted;
      out->decrypted += ls.decrypted;
      out->forwarded_clear += read_counter(c.forwarded_clear);
      out->ike_punted += read_counter(c.ike_punted);
      out->acquires += read_counter(c.acquires);
      for (size_t i = 1; i < c.drops.size(); ++i) {
        if (static_cast<DropReason>(i) == DropReason::kEsp) continue;
        out->drops[std::string(drop_reason_name(static_cast<DropReason>(i)))] += read_counter(c.drops[i]);
      }
      for (size_t i = 1; i < static_cast<size_t>(EspResult::kCount) && i < c.esp_drops.size(); ++i) {
        out->drops[std::string(esp_result_name(static_cast<EspResult>(i)))] += read_counter(c.esp_drops[i]);
      }
      if (per_lcore) out->lcores.push_back(ls);
    }
    for (uint32_t i = 0; i < dp_.sas().slot_count(); ++i) {
      const EspSa* sa = dp_.sas().sa(i);
      if (sa == nullptr) continue;
      if (!spis.empty() && std::find(spis.begin(), spis.end(), sa->spi()) == spis.end()) continue;
      out->sas.push_back(snapshot(i));
    }
    return Status::ok();
  });
}

std::optional<PuntedEvent> DataplaneBackendImpl::next_event(std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  do {
    if (auto event = dp_.control().poll()) return event;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

Status DataplaneBackendImpl::inject(std::string_view port, std::vector<uint8_t> frame) {
  const auto& ports = dp_.ports();
  for (size_t i = 0; i < ports.size(); ++i) {
    if (ports[i].name == port) {
      if (frame.size() < 14 || frame.size() > 9600) {
        return {StatusCode::kInvalidArgument, fmt::format("frame: {} bytes is not an Ethernet frame", frame.size())};
      }
      dp_.control().inject(static_cast<uint16_t>(i), std::move(frame));
      return Status::ok();
    }
  }
  return {StatusCode::kNotFound, fmt::format("port: no port named '{}'", port)};
}

Status DataplaneBackendImpl::inject_udp(const RoutedUdpRequest& r) {
  return dp_.run_on_writer([&] { return dp_.send_udp(r.src, r.dst, r.sport, r.dport, r.payload); });
}

Status DataplaneBackendImpl::sync_ike_sa(const tables::IkeSaKey& key, const tables::IkeSaValue& value,
                                         uint32_t lifetime_s, bool remove) {
  return dp_.run_on_writer([&]() -> Status {
    auto table = dp_.tables().typed<tables::TableId::IKE_SA_table>();
    if (remove) {
      const Status s = table.remove(key);
      return s.code() == StatusCode::kNotFound ? Status::ok() : s;  // already expired: fine
    }
    tables::EntryOptions options;
    if (lifetime_s != 0) options.ttl_s = lifetime_s;
    return table.upsert(key, value, options);
  });
}

std::vector<std::string> DataplaneBackendImpl::port_names() {
  std::vector<std::string> names;
  for (const PortInfo& p : dp_.ports()) names.push_back(p.name);
  return names;
}

}  // namespace dpvpn::dataplane
