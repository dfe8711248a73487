#pragma once
// The crypto engine and ESP stage the config asks for: intel-ipsec-mb directly, or a DPDK
// cryptodev device (crypto_aesni_mb, crypto_openssl, QAT) with one queue pair per worker.
#include <memory>

#include "config/dataplane_config.hpp"
#include "esp/crypto_engine.hpp"
#include "worker/esp_stage.hpp"

namespace dpvpn::dataplane {

std::unique_ptr<CryptoEngine> make_crypto_engine(const DataplaneConfig& config);
// One per worker lcore: it owns that lcore's crypto engine.
std::unique_ptr<EspStage> make_esp_stage(const DataplaneConfig& config);

}  // namespace dpvpn::dataplane
