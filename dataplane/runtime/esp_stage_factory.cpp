#include "runtime/esp_stage_factory.hpp"

#include "esp/esp_inbound.hpp"
#include "esp/esp_outbound.hpp"
#include "esp/esp_result.hpp"
#include "esp/ipsec_mb_engine.hpp"

namespace dpvpn::dataplane {

namespace {

// EspStage over dataplane/esp with one crypto engine (one IMB_MGR) owned by the worker.
class LibraryEspStage final : public EspStage {
 public:
  explicit LibraryEspStage(std::unique_ptr<CryptoEngine> engine) : engine_(std::move(engine)) {}

  void encrypt(const SaSlot* const* sas, rte_mbuf** pkts, uint16_t n, uint8_t* results) override {
    run(sas, pkts, n, results, &esp_outbound_burst);
  }
  void decrypt(const SaSlot* const* sas, rte_mbuf** pkts, uint16_t n, uint8_t* results) override {
    run(sas, pkts, n, results, &esp_inbound_burst);
  }
  std::string_view result_name(uint8_t result) const override {
    return esp_result_name(static_cast<EspResult>(result));
  }
  uint8_t result_count() const override { return static_cast<uint8_t>(EspResult::kCount); }

 private:
  using Burst = void (*)(CryptoEngine&, rte_mbuf* const*, EspSa* const*, uint32_t, EspResult*);
  void run(const SaSlot* const* slots, rte_mbuf** pkts, uint16_t n, uint8_t* results, Burst burst) {
    EspSa* sas[64] = {};
    EspResult out[64];
    for (uint16_t i = 0; i < n; ++i) sas[i] = static_cast<EspSa*>(slots[i]->esp);
    burst(*engine_, pkts, sas, n, out);
    static_assert(static_cast<uint8_t>(EspResult::kOk) == kEspOk);
    for (uint16_t i = 0; i < n; ++i) results[i] = static_cast<uint8_t>(out[i]);
  }
  std::unique_ptr<CryptoEngine> engine_;
};

}  // namespace

std::unique_ptr<CryptoEngine> make_crypto_engine(const DataplaneConfig& config) {
  static_cast<void>(config);  // cryptodev: a later issue; the config parser accepts the setting
  std::unique_ptr<IpsecMbEngine> engine;
  if (!IpsecMbEngine::create(&engine).is_ok()) return nullptr;
  return engine;
}

std::unique_ptr<EspStage> make_esp_stage(const DataplaneConfig& config) {
  auto engine = make_crypto_engine(config);
  if (engine == nullptr) return nullptr;
  return std::make_unique<LibraryEspStage>(std::move(engine));
}

}  // namespace dpvpn::dataplane
