#pragma once
// The crypto engine and ESP stage the config asks for (today: intel-ipsec-mb).
#include <memory>

#include "config/dataplane_config.hpp"
#include "esp/crypto_engine.hpp"
#include "worker/esp_stage.hpp"

namespace dpvpn::dataplane {

std::unique_ptr<CryptoEngine> make_crypto_engine(const DataplaneConfig& config);
// One per worker lcore: it owns that lcore's crypto engine.
std::unique_ptr<EspStage> make_esp_stage(const DataplaneConfig& config);

}  // namespace dpvpn::dataplane
