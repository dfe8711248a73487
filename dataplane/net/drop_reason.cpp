#include "net/drop_reason.hpp"

#include <array>

namespace dpvpn::dataplane {

std::string_view drop_reason_name(DropReason reason) {
  static constexpr std::array<std::string_view, static_cast<size_t>(DropReason::kCount)> kNames = {
#define DPVPN_DROP_NAME(name, text) text,
      DPVPN_DROP_REASONS(DPVPN_DROP_NAME)
#undef DPVPN_DROP_NAME
  };
  const auto i = static_cast<size_t>(reason);
  return i < kNames.size() ? kNames[i] : "unknown";
}

}  // namespace dpvpn::dataplane
