#include "sa/sa_manager.hpp"

#include <fmt/format.h>
#include <netinet/in.h>
#include <rte_rcu_qsbr.h>

namespace dpvpn::dataplane {

uint16_t esp_max_overhead(const SaParams& p) {
  const bool cbc = !is_aead(p.algorithm);
  const unsigned outer = (p.local.is_v4() ? 20 : 40) + (p.natt ? 8 : 0);
  const unsigned iv = cbc ? 16 : 8;
  const unsigned max_pad = cbc ? 15 : 3;
  return static_cast<uint16_t>(outer + kEspHeaderLen + iv + max_pad + 2 + kEspIcvLen);
}

SaManager::SaManager(tables::KernelTableSet& tables, const CryptoEngine& engine, const Clock& clock,
                     tables::RcuDomain& rcu, const NextHops& next_hops, uint32_t max_sas)
    : tables_(tables), engine_(engine), clock_(clock), slots_(max_sas), sas_(max_sas), busy_(max_sas, false),
      rcu_(rcu), next_hops_(next_hops) {
  for (uint32_t i = max_sas; i-- > 0;) free_indexes_.push_back(i);  // lowest index first
}

// Workers are stopped by now: nothing can hold an SA any more.
SaManager::~SaManager() = default;

Status SaManager::prepare_sa(const SaParams& params, std::unique_ptr<EspSa>* out) const {
  EspSaOptions options;
  options.now_seconds = clock_.now_seconds();
  return create_esp_sa(params, engine_, options, out);
}

uint32_t SaManager::free_slots() {
  reclaim();
  return static_cast<uint32_t>(free_indexes_.size());
}

bool SaManager::spi_in_use(const SaParams& params) const {
  uint32_t index = 0;
  return params.direction == SaDirection::kInbound ? find_inbound(params.spi, params.local, &index)
                                                   : find_outbound(params.remote, params.spi, &index);
}

Status SaManager::publish_sa(std::unique_ptr<EspSa> sa, uint32_t* sa_index) {
  if (free_indexes_.empty()) {
    return {StatusCode::kResourceExhausted, fmt::format("no room for another SA ({} installed)", installed_)};
  }
  const uint32_t index = free_indexes_.back();
  const SaParams& params = sa->params();
  // An SA with a hard time limit leaves the tables with it; otherwise its entry never expires.
  const tables::EntryOptions entry{.ttl_s = static_cast<uint32_t>(params.lifetime.hard_seconds), .link = false};
  const bool inbound = params.direction == SaDirection::kInbound;
  SaSlot& slot = slots_[index];
  slot.local = params.local;
  slot.remote = params.remote;
  slot.spi = params.spi;
  slot.max_overhead = esp_max_overhead(params);
  slot.outbound = !inbound;
  slot.outer_hop = inbound ? nullptr : next_hops_.lookup(params.remote);
  Status published;
  if (inbound) {
    tables::InboundSpiKey key{params.spi, IPPROTO_ESP, {}, params.local};
    published = tables_.typed<tables::TableId::inbound_SPI>().insert(
        key, {index, params.tunnel_id, 0, 0, params.remote}, entry);
  } else {
    tables::OutboundSpiKey key{params.remote, params.spi};
    published = tables_.typed<tables::TableId::outbound_SPI>().insert(key, {index, params.tunnel_id, 0, 0}, entry);
  }
  if (!published) {
    slot = SaSlot{};
    if (published.code() == StatusCode::kAlreadyExists) {
      return {StatusCode::kAlreadyExists, fmt::format("{} SA with SPI 0x{:08x} already installed",
                                                      inbound ? "inbound" : "outbound", params.spi)};
    }
    return published;
  }
  sas_[index] = std::move(sa);
  // A worker that found the index in the table before this store sees no SA yet and drops the
  // packet as unknown; after it, the slot is complete.
  std::atomic_ref<void*>(slot.esp).store(sas_[index].get(), std::memory_order_release);
  free_indexes_.pop_back();
  busy_[index] = true;
  if (inbound) live_inbound_spis_.insert(params.spi);
  ++installed_;
  *sa_index = index;
  return Status::ok();
}

Status SaManager::add_sa(const SaParams& params, uint32_t* sa_index) {
  reclaim();
  std::unique_ptr<EspSa> sa;
  if (Status s = prepare_sa(params, &sa); !s) return s;
  return publish_sa(std::move(sa), sa_index);
}

bool SaManager::find_inbound(uint32_t spi, const IpAddr& local, uint32_t* sa_index) const {
  const auto* v = tables_.typed<tables::TableId::inbound_SPI>().lookup({spi, IPPROTO_ESP, {}, local});
  if (v == nullptr || sa(v->sa_index) == nullptr) return false;
  *sa_index = v->sa_index;
  return true;
}

bool SaManager::find_outbound(const IpAddr& remote, uint32_t spi, uint32_t* sa_index) const {
  const auto* v = tables_.typed<tables::TableId::outbound_SPI>().lookup({remote, spi});
  if (v == nullptr || sa(v->sa_index) == nullptr) return false;
  *sa_index = v->sa_index;
  return true;
}

Status SaManager::delete_sa(uint32_t sa_index) {
  EspSa* sa = this->sa(sa_index);
  if (sa == nullptr || slots_[sa_index].esp == nullptr) {
    return {StatusCode::kNotFound, fmt::format("no SA with index {}", sa_index)};
  }
  const SaParams& p = sa->params();
  Status removed;
  if (sa->inbound()) {
    removed = tables_.typed<tables::TableId::inbound_SPI>().remove({p.spi, IPPROTO_ESP, {}, p.local});
  } else {
    removed = tables_.typed<tables::TableId::outbound_SPI>().remove({p.remote, p.spi});
  }
  // NotFound: the entry already expired with the SA's hard lifetime; the slot still goes.
  if (!removed && removed.code() != StatusCode::kNotFound) return removed;
  std::atomic_ref<void*>(slots_[sa_index].esp).store(nullptr, std::memory_order_release);
  if (sa->inbound()) live_inbound_spis_.erase(live_inbound_spis_.find(p.spi));
  retired_.push_back({rte_rcu_qsbr_start(rcu_.qsbr()), sa_index, std::move(sas_[sa_index])});
  --installed_;
  return Status::ok();
}

Status SaManager::update_sa(uint32_t sa_index, const SaLifetime& lifetime, std::vector<TrafficSelector> local_ts,
                           std::vector<TrafficSelector> remote_ts) {
  EspSa* sa = this->sa(sa_index);
  if (sa == nullptr || slots_[sa_index].esp == nullptr) {
    return {StatusCode::kNotFound, fmt::format("no SA with index {}", sa_index)};
  }
  if (sa->hard_expired()) {
    return {StatusCode::kInvalidArgument, fmt::format("SA with SPI 0x{:08x} has hard-expired", sa->spi())};
  }
  if (Status s = validate_lifetime(lifetime); !s) return s;
  // The entry expires at creation + hard_seconds, as when it was published.
  uint32_t ttl = 0;
  if (lifetime.hard_seconds != 0) {
    const uint64_t now = clock_.now_seconds();
    const uint64_t age = now > sa->created_seconds() ? now - sa->created_seconds() : 0;
    ttl = static_cast<uint32_t>(lifetime.hard_seconds > age ? lifetime.hard_seconds - age : 1);
  }
  const SaParams& p = sa->params();
  const Status refreshed = sa->inbound()
      ? tables_.typed<tables::TableId::inbound_SPI>().refresh({p.spi, IPPROTO_ESP, {}, p.local}, ttl)
      : tables_.typed<tables::TableId::outbound_SPI>().refresh({p.remote, p.spi}, ttl);
  if (!refreshed) return refreshed;
  std::unique_ptr<const EspSaSelectors> old;
  if (Status s = sa->update(lifetime, std::move(local_ts), std::move(remote_ts), &old); !s) return s;
  retired_selectors_.push_back({rte_rcu_qsbr_start(rcu_.qsbr()), std::move(old)});
  return Status::ok();
}

void SaManager::reclaim() {
  std::erase_if(retired_selectors_, [&](const RetiredSelectors& r) {
    return rte_rcu_qsbr_check(rcu_.qsbr(), r.token, false) == 1;
  });
  std::erase_if(retired_, [&](Retired& r) {
    if (rte_rcu_qsbr_check(rcu_.qsbr(), r.token, false) != 1) return false;
    r.sa.reset();  // wipes the keys, frees the engine's session
    slots_[r.index] = SaSlot{};
    busy_[r.index] = false;
    free_indexes_.push_back(r.index);
    return true;
  });
}

Status SaManager::add_policy(const IpPrefix& remote, PolicyAction action, int32_t outbound_sa_index,
                             uint32_t tunnel_id) {
  tables::VpnRoutingValue value{};
  value.tunnel_id = tunnel_id;
  value.sa_index = tables::kNoSaIndex;
  if (action == PolicyAction::kProtect) {
    const EspSa* sa = outbound_sa_index >= 0 ? this->sa(static_cast<uint32_t>(outbound_sa_index)) : nullptr;
    if (sa == nullptr || sa->inbound()) {
      return {StatusCode::kInvalidArgument, "a protect policy needs an installed outbound SA"};
    }
    value.gateway = sa->params().remote;
    value.outbound_spi = sa->spi();
    value.sa_index = static_cast<uint32_t>(outbound_sa_index);
    value.flags = tables::kRouteEncrypt;
  }
  return tables_.vpn_routing().add(tables::vpn_route_key(remote.addr, remote.len), value);
}

}  // namespace dpvpn::dataplane
