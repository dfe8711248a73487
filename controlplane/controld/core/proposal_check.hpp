#pragma once
// The config parser's proposal check, backed by the IKE crypto library's parser (the same one the
// engine negotiates with), so a proposal the engine could not use is refused at load time.
#include <string>
#include <string_view>

namespace dpvpn::controld {

// "" when `proposal` parses as an ESP (esp = true) or IKE proposal; otherwise what is wrong.
std::string check_proposal(std::string_view proposal, bool esp);

}  // namespace dpvpn::controld
