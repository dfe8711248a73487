#include "ike/crypto/proposal_selection.hpp"

#include <algorithm>
#include <array>

namespace dpvpn::ike {

namespace {

constexpr std::array<TransformType, 5> kTypes = {TransformType::kEncr, TransformType::kPrf, TransformType::kInteg,
                                                 TransformType::kDh, TransformType::kEsn};

// ID 0 means "none" for integrity and DH only; for ESN it means "no extended sequence numbers".
bool is_none(const Transform& t) {
  return t.id == 0 && (t.type == TransformType::kInteg || t.type == TransformType::kDh);
}

std::optional<Proposal> match(const Proposal& ours, const Proposal& theirs) {
  if (ours.protocol != theirs.protocol) return std::nullopt;
  Proposal chosen{ours.protocol, {}};
  for (TransformType type : kTypes) {
    bool ours_has_type = false;
    bool theirs_has_type = false;
    bool theirs_offers_none = false;
    for (const Transform& t : theirs.transforms) {
      if (t.type != type) continue;
      theirs_has_type = true;
      theirs_offers_none |= is_none(t);
    }
    std::optional<Transform> pick;
    for (const Transform& t : ours.transforms) {
      if (t.type != type) continue;
      ours_has_type = true;
      if (!pick && std::find(theirs.transforms.begin(), theirs.transforms.end(), t) != theirs.transforms.end()) {
        pick = t;
      }
    }
    if (!ours_has_type) {
      if (!theirs_has_type) continue;
      if (!theirs_offers_none) return std::nullopt;
      pick = Transform{type, 0, 0};  // echo their NONE
    }
    if (!pick) return std::nullopt;
    chosen.transforms.push_back(*pick);
  }
  return chosen;
}

}  // namespace

std::optional<ProposalMatch> select_proposal(std::span<const Proposal> configured, std::span<const Proposal> offered) {
  for (const Proposal& ours : configured) {
    for (size_t i = 0; i < offered.size(); ++i) {
      if (std::optional<Proposal> chosen = match(ours, offered[i])) return ProposalMatch{std::move(*chosen), i};
    }
  }
  return std::nullopt;
}

}  // namespace dpvpn::ike
