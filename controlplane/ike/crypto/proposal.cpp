#include "ike/crypto/proposal.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "ike/crypto/suite.hpp"

namespace dpvpn::ike {

namespace {

struct Keyword {
  std::string_view name;
  Transform transform;
};

// The first keyword of a transform is the one proposal_to_string() prints.
constexpr std::array<Keyword, 21> kKeywords = {{
    {"aes128", {TransformType::kEncr, encr::kAesCbc, 128}},
    {"aes256", {TransformType::kEncr, encr::kAesCbc, 256}},
    {"aes128gcm16", {TransformType::kEncr, encr::kAesGcm16, 128}},
    {"aes128gcm128", {TransformType::kEncr, encr::kAesGcm16, 128}},
    {"aes256gcm16", {TransformType::kEncr, encr::kAesGcm16, 256}},
    {"aes256gcm128", {TransformType::kEncr, encr::kAesGcm16, 256}},
    {"chacha20poly1305", {TransformType::kEncr, encr::kChaCha20Poly1305, 0}},
    {"sha256", {TransformType::kInteg, integ::kHmacSha256_128, 0}},
    {"sha384", {TransformType::kInteg, integ::kHmacSha384_192, 0}},
    {"sha512", {TransformType::kInteg, integ::kHmacSha512_256, 0}},
    {"prfsha256", {TransformType::kPrf, prf::kHmacSha256, 0}},
    {"prfsha384", {TransformType::kPrf, prf::kHmacSha384, 0}},
    {"prfsha512", {TransformType::kPrf, prf::kHmacSha512, 0}},
    {"modp2048", {TransformType::kDh, dh::kModp2048, 0}},
    {"modp3072", {TransformType::kDh, dh::kModp3072, 0}},
    {"ecp256", {TransformType::kDh, dh::kEcp256, 0}},
    {"ecp384", {TransformType::kDh, dh::kEcp384, 0}},
    {"x25519", {TransformType::kDh, dh::kCurve25519, 0}},
    {"curve25519", {TransformType::kDh, dh::kCurve25519, 0}},
    {"esn", {TransformType::kEsn, esn::kYes, 0}},
    {"noesn", {TransformType::kEsn, esn::kNo, 0}},
}};

std::optional<Transform> lookup(std::string_view name) {
  for (const Keyword& k : kKeywords) {
    if (k.name == name) return k.transform;
  }
  return std::nullopt;
}

std::vector<Transform> of_type(const std::vector<Transform>& all, TransformType type) {
  std::vector<Transform> out;
  for (const Transform& t : all) {
    if (t.type == type) out.push_back(t);
  }
  return out;
}

Status invalid(std::string_view text, std::string why) {
  return Status(StatusCode::kInvalidArgument, "proposal '" + std::string(text) + "': " + why);
}

// Cross-type rules; `transforms` holds the keywords as written, deduplicated.
Status complete(Protocol protocol, std::string_view text, std::vector<Transform>* transforms) {
  const std::vector<Transform> encrs = of_type(*transforms, TransformType::kEncr);
  const std::vector<Transform> integs = of_type(*transforms, TransformType::kInteg);
  if (encrs.empty()) return invalid(text, "no encryption algorithm");
  const bool aead = is_aead(encrs.front().id);
  for (const Transform& e : encrs) {
    if (is_aead(e.id) != aead) return invalid(text, "mixes AEAD and non-AEAD encryption algorithms");
  }
  if (aead && !integs.empty()) {
    const std::string integ = transform_keyword(integs.front());
    return invalid(text, "integrity algorithm '" + integ + "' with an AEAD cipher" +
                             (protocol == Protocol::kIke ? " (for a PRF, write prf" + integ + ")" : ""));
  }
  if (!aead && integs.empty()) return invalid(text, "no integrity algorithm for a non-AEAD cipher");

  if (protocol == Protocol::kIke) {
    if (!of_type(*transforms, TransformType::kEsn).empty()) return invalid(text, "esn/noesn in an IKE proposal");
    if (of_type(*transforms, TransformType::kPrf).empty()) {
      for (const Transform& i : integs) transforms->push_back({TransformType::kPrf, prf_for_integ(i.id), 0});
    }
    if (of_type(*transforms, TransformType::kPrf).empty()) return invalid(text, "no PRF (add prfsha256 or similar)");
    if (of_type(*transforms, TransformType::kDh).empty()) return invalid(text, "no Diffie-Hellman group");
  } else {
    const std::vector<Transform> prfs = of_type(*transforms, TransformType::kPrf);
    if (!prfs.empty()) return invalid(text, "PRF '" + transform_keyword(prfs.front()) + "' in an ESP proposal");
    if (of_type(*transforms, TransformType::kEsn).empty()) transforms->push_back({TransformType::kEsn, esn::kNo, 0});
  }
  std::stable_sort(transforms->begin(), transforms->end(),
                   [](const Transform& a, const Transform& b) { return a.type < b.type; });
  return Status::ok();
}

}  // namespace

Status parse_proposal(Protocol protocol, std::string_view text, Proposal* out) {
  if (protocol != Protocol::kIke && protocol != Protocol::kEsp) {
    return Status(StatusCode::kInvalidArgument, "proposals are for IKE or ESP");
  }
  Proposal proposal{protocol, {}};
  size_t start = 0;
  while (true) {
    const size_t dash = text.find('-', start);
    const std::string_view token = text.substr(start, dash == std::string_view::npos ? dash : dash - start);
    if (token.empty()) return invalid(text, "empty algorithm name");
    const std::optional<Transform> t = lookup(token);
    if (!t) return invalid(text, "unknown algorithm '" + std::string(token) + "'");
    if (std::find(proposal.transforms.begin(), proposal.transforms.end(), *t) == proposal.transforms.end()) {
      proposal.transforms.push_back(*t);
    }
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  if (Status st = complete(protocol, text, &proposal.transforms); !st) return st;
  *out = std::move(proposal);
  return Status::ok();
}

Status parse_proposals(Protocol protocol, std::span<const std::string> texts, std::vector<Proposal>* out) {
  if (texts.empty()) return Status(StatusCode::kInvalidArgument, "no proposals");
  std::vector<Proposal> proposals;
  for (const std::string& text : texts) {
    Proposal p;
    if (Status st = parse_proposal(protocol, text, &p); !st) return st;
    proposals.push_back(std::move(p));
  }
  *out = std::move(proposals);
  return Status::ok();
}

std::string transform_keyword(const Transform& transform) {
  for (const Keyword& k : kKeywords) {
    if (k.transform == transform) return std::string(k.name);
  }
  std::string out = std::string(transform_type_name(transform.type)) + ":" + std::to_string(transform.id);
  if (transform.key_bits != 0) out += "/" + std::to_string(transform.key_bits);
  return out;
}

std::string proposal_to_string(const Proposal& proposal) {
  std::string out;
  for (const Transform& t : proposal.transforms) {
    if (!out.empty()) out += '-';
    out += transform_keyword(t);
  }
  return out;
}

}  // namespace dpvpn::ike
