#include "runtime/esp_stage_factory.hpp"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>

#include "esp/cryptodev_engine.hpp"
#include "esp/esp_inbound.hpp"
#include "esp/esp_outbound.hpp"
#include "esp/esp_result.hpp"
#include "esp/ipsec_mb_engine.hpp"

namespace dpvpn::dataplane {

namespace {

// EspStage over dataplane/esp with one crypto engine (one IMB_MGR, or one cryptodev queue pair)
// owned by the worker.
class LibraryEspStage final : public EspStage {
 public:
  explicit LibraryEspStage(std::unique_ptr<CryptoEngine> engine) : engine_(std::move(engine)) {}

  void encrypt(const SaSlot* const* sas, rte_mbuf** pkts, uint16_t n, uint8_t* results) override {
    run(sas, n, results, [&](EspSa* const* esp_sas, EspResult* out) {
      esp_outbound_burst(*engine_, pkts, esp_sas, n, out, /*inner_checked=*/true);
    });
  }
  void decrypt(const SaSlot* const* sas, rte_mbuf** pkts, const uint16_t* esp_offsets, uint16_t n,
               uint8_t* results) override {
    run(sas, n, results, [&](EspSa* const* esp_sas, EspResult* out) {
      esp_inbound_burst(*engine_, pkts, esp_sas, n, out, esp_offsets);
    });
  }
  std::string_view result_name(uint8_t result) const override {
    return esp_result_name(static_cast<EspResult>(result));
  }
  uint8_t result_count() const override { return static_cast<uint8_t>(EspResult::kCount); }

 private:
  // burst(sas, out): the library's burst over the slots' SAs.
  template <class Burst>
  void run(const SaSlot* const* slots, uint16_t n, uint8_t* results, Burst&& burst) {
    EspSa* sas[kMaxBurst];  // [0, n) filled below: no zeroing of the rest per burst
    EspResult out[kMaxBurst];
    for (uint16_t i = 0; i < n; ++i) sas[i] = static_cast<EspSa*>(slots[i]->esp);
    burst(sas, out);
    static_assert(static_cast<uint8_t>(EspResult::kOk) == kEspOk && sizeof(EspResult) == 1);
    std::memcpy(results, out, n);  // the same bytes
  }
  std::unique_ptr<CryptoEngine> engine_;
};

// Cryptodev: every worker's engine gets its own queue pair of config.crypto_device (numbered in
// creation order, 0, 1, ...); the key engine (writer thread, make_crypto_engine) takes none. The
// sessions it creates in prepare_keys belong to the device and are valid on every queue pair of
// it, so workers use the SAs' key blocks as they are.
std::unique_ptr<CryptoEngine> make_engine(const DataplaneConfig& config, bool data_path) {
  if (config.crypto == CryptoKind::kCryptodev) {
    static std::atomic<uint16_t> next_queue_pair{0};
    const uint16_t qp = data_path ? next_queue_pair.fetch_add(1) : CryptodevEngine::kNoQueuePair;
    std::unique_ptr<CryptodevEngine> engine;
    if (Status s = CryptodevEngine::create(config.crypto_device, qp, &engine); !s) {
      std::fprintf(stderr, "dpvpn-dataplane: crypto: %s\n", s.message().c_str());
      return nullptr;
    }
    return engine;
  }
  std::unique_ptr<IpsecMbEngine> engine;
  if (Status s = IpsecMbEngine::create(&engine); !s) {
    std::fprintf(stderr, "dpvpn-dataplane: crypto: %s\n", s.message().c_str());
    return nullptr;
  }
  if (!data_path) {  // once, at start-up: which code paths this CPU got
    std::fprintf(stderr, "dpvpn-dataplane: crypto: intel-ipsec-mb %s\n", engine->code_paths().c_str());
  }
  return engine;
}

}  // namespace

std::unique_ptr<CryptoEngine> make_crypto_engine(const DataplaneConfig& config) {
  return make_engine(config, false);
}

std::unique_ptr<EspStage> make_esp_stage(const DataplaneConfig& config) {
  auto engine = make_engine(config, true);
  if (engine == nullptr) return nullptr;
  return std::make_unique<LibraryEspStage>(std::move(engine));
}

}  // namespace dpvpn::dataplane
