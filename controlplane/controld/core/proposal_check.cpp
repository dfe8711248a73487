#include "core/proposal_check.hpp"

#include "ike/crypto/proposal.hpp"

namespace dpvpn::controld {

std::string check_proposal(std::string_view proposal, bool esp) {
  ike::Proposal parsed;
  const Status s = ike::parse_proposal(esp ? ike::Protocol::kEsp : ike::Protocol::kIke, proposal, &parsed);
  return s.is_ok() ? "" : s.message();
}

}  // namespace dpvpn::controld
