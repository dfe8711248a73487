#pragma once
// The real DataplaneBackend: every call runs on the dataplane's writer thread.
#include <unordered_set>

#include "agent/dataplane_backend.hpp"
#include "runtime/dataplane.hpp"

namespace dpvpn::dataplane {

class DataplaneBackendImpl final : public DataplaneBackend {
 public:
  explicit DataplaneBackendImpl(Dataplane& dataplane) : dp_(dataplane) {}

  Status allocate_spi(uint32_t member, uint32_t member_bits, uint32_t* spi) override;
  Status add_sa(const SaParams& params, uint32_t* sa_index) override;
  Status update_sa(const SaKey& key, const SaLifetime& lifetime, const std::vector<TrafficSelector>& local_ts,
                   const std::vector<TrafficSelector>& remote_ts) override;
  Status query_sa(const SaKey& key, SaSnapshot* out) override;
  Status delete_sa(const SaKey& key) override;
  Status apply_batch(const SaBatchRequest& batch, std::vector<uint32_t>* added_sa_indexes) override;
  Status add_policy(const PolicyRequest& policy) override;
  Status delete_policy(const PolicyRequest& policy) override;
  Status read_table(std::string_view name_or_id, bool summary, const tables::DumpOptions& options,
                    std::string* out) override;
  Status stats(bool per_lcore, const std::vector<uint32_t>& spis, StatsSnapshot* out) override;
  std::optional<PuntedEvent> next_event(std::chrono::milliseconds wait) override;
  Status inject(std::string_view port, std::vector<uint8_t> frame) override;
  Status inject_udp(const RoutedUdpRequest& request) override;
  Status sync_ike_sa(const tables::IkeSaKey& key, const tables::IkeSaValue& value, uint32_t lifetime_s,
                     bool remove) override;
  std::vector<std::string> port_names() override;

 private:
  // Writer thread only.
  Status find(const SaKey& key, uint32_t* sa_index) const;
  SaSnapshot snapshot(uint32_t sa_index) const;
  Status check_policy(const PolicyRequest& policy) const;
  SaParams with_defaults(const SaParams& params) const;  // what 0 means in the API

  Dataplane& dp_;
  std::unordered_set<uint32_t> allocated_spis_;  // handed out, not yet (or still) installed
};

}  // namespace dpvpn::dataplane
