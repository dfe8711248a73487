#include "esp/esp_result.hpp"

#include <array>

namespace dpvpn::dataplane {

namespace {
constexpr std::array<std::string_view, static_cast<size_t>(EspResult::kCount)> kNames = {
#define DPVPN_ESP_RESULT_NAME(name, text) text,
    DPVPN_ESP_RESULTS(DPVPN_ESP_RESULT_NAME)
#undef DPVPN_ESP_RESULT_NAME
};
}  // namespace

std::string_view esp_result_name(EspResult result) {
  const auto i = static_cast<size_t>(result);
  return i < kNames.size() ? kNames[i] : std::string_view("esp_unknown");
}

}  // namespace dpvpn::dataplane
