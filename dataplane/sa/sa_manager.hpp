#pragma once
// SaManager: the SA-install API (strongSwan's kernel_ipsec seam, in spirit): add an SA, add a
// policy. Static SAs from the config file use it today; the gRPC agent will use the same calls.
// It builds the ESP runtime SA, gives it an sa_index, and publishes it in inbound_SPI /
// outbound_SPI and vpn_routing. Runs on the tables' writer thread.
#include <memory>
#include <unordered_set>
#include <vector>

#include "config/dataplane_config.hpp"
#include "esp/esp_sa.hpp"
#include "net/next_hops.hpp"
#include "tables/kernel_table_set.hpp"
#include "util/clock.hpp"
#include "worker/esp_stage.hpp"

namespace dpvpn::dataplane {

class SaManager {
 public:
  // next_hops: the dataplane's own routes (static while it runs), for the outbound SAs' outer next hop.
  SaManager(tables::KernelTableSet& tables, const CryptoEngine& engine, const Clock& clock, tables::RcuDomain& rcu,
            const NextHops& next_hops, uint32_t max_sas);
  ~SaManager();

  Status add_sa(const SaParams& params, uint32_t* sa_index);
  // add_sa in two steps, for all-or-nothing batches: prepare validates and builds the SA (no
  // change visible to anyone), publish gives it an index and puts it in its table.
  Status prepare_sa(const SaParams& params, std::unique_ptr<EspSa>* out) const;
  Status publish_sa(std::unique_ptr<EspSa> sa, uint32_t* sa_index);
  uint32_t free_slots();
  bool inbound_spi_live(uint32_t spi) const { return live_inbound_spis_.count(spi) != 0; }
  bool spi_in_use(const SaParams& params) const;
  bool find_inbound(uint32_t spi, const IpAddr& local, uint32_t* sa_index) const;
  bool find_outbound(const IpAddr& remote, uint32_t spi, uint32_t* sa_index) const;
  // Unpublishes the SA at once (its inbound_SPI / outbound_SPI entry; routes naming its SPI then
  // raise acquires); the SA itself — keys wiped, cryptodev session freed — and its index go away
  // only after every worker has passed a quiescent state (reclaim()).
  Status delete_sa(uint32_t sa_index);
  // UpdateSa: new lifetime and selectors for an installed SA; its table entry's expiry follows the
  // new hard time limit (still counted from the SA's creation). The old selectors are freed after
  // a grace period (reclaim()).
  Status update_sa(uint32_t sa_index, const SaLifetime& lifetime, std::vector<TrafficSelector> local_ts,
                   std::vector<TrafficSelector> remote_ts);
  void reclaim();
  uint32_t pending_deletes() const { return static_cast<uint32_t>(retired_.size()); }
  // protect: remote prefix -> the outbound SA's peer and SPI; bypass: remote prefix in clear.
  Status add_policy(const IpPrefix& remote, PolicyAction action, int32_t outbound_sa_index, uint32_t tunnel_id);

  const SaSlot* slots() const { return slots_.data(); }
  uint32_t slot_count() const { return static_cast<uint32_t>(slots_.size()); }
  EspSa* sa(uint32_t sa_index) const { return sa_index < sas_.size() ? sas_[sa_index].get() : nullptr; }
  uint32_t installed() const { return installed_; }

 private:
  tables::KernelTableSet& tables_;
  const CryptoEngine& engine_;
  const Clock& clock_;
  std::vector<SaSlot> slots_;                 // what workers read, sized once
  std::vector<std::unique_ptr<EspSa>> sas_;   // owners, same index
  std::vector<bool> busy_;                    // index in use, or waiting for its grace period
  std::vector<uint32_t> free_indexes_;        // not busy: a stack, so installs are O(1)
  std::unordered_multiset<uint32_t> live_inbound_spis_;  // AllocateSpi never hands these out
  struct Retired {
    uint64_t token;  // rte_rcu_qsbr_start() when it was unpublished
    uint32_t index;
    std::unique_ptr<EspSa> sa;
  };
  std::vector<Retired> retired_;
  struct RetiredSelectors {
    uint64_t token;
    std::unique_ptr<const EspSaSelectors> selectors;
  };
  std::vector<RetiredSelectors> retired_selectors_;
  tables::RcuDomain& rcu_;
  const NextHops& next_hops_;
  uint32_t installed_ = 0;
};

// Bytes an SA may add to an inner packet at most (outer IP, UDP, ESP, IV, padding, trailer, ICV).
uint16_t esp_max_overhead(const SaParams& params);

}  // namespace dpvpn::dataplane
