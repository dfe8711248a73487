#pragma once
// Responder-side proposal selection (RFC 7296 2.7): pick one transform of each type from one of
// the peer's proposals. Like strongSwan by default (charon.prefer_configured_proposals = yes), our
// configured order wins: the first of our proposals that any of theirs matches, and within a type
// our most preferred transform that they also offer. A type must be in both proposals or in
// neither, except that an offered NONE (integrity or DH ID 0) matches our not having that type.
#include <cstddef>
#include <optional>
#include <span>

#include "ike/crypto/proposal.hpp"

namespace dpvpn::ike {

struct ProposalMatch {
  Proposal chosen;    // one transform per type, in type order
  size_t peer_index;  // index into `offered`; the codec answers with that proposal's Proposal Num
};

// nullopt means NO_PROPOSAL_CHOSEN.
std::optional<ProposalMatch> select_proposal(std::span<const Proposal> configured, std::span<const Proposal> offered);

}  // namespace dpvpn::ike
