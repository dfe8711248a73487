// Proposal strings (strongSwan syntax), responder selection, and suites.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ike/crypto/proposal.hpp"
#include "ike/crypto/proposal_selection.hpp"
#include "ike/crypto/suite.hpp"

namespace dpvpn::ike {
namespace {

using T = TransformType;

Proposal parse(Protocol protocol, const std::string& text) {
  Proposal p;
  const Status st = parse_proposal(protocol, text, &p);
  INFO(text << ": " << st.to_string());
  REQUIRE(st.is_ok());
  return p;
}

Status parse_error(Protocol protocol, const std::string& text) {
  Proposal p;
  return parse_proposal(protocol, text, &p);
}

TEST_CASE("IANA transform numbers") {
  CHECK(encr::kAesCbc == 12);
  CHECK(encr::kAesGcm16 == 20);
  CHECK(encr::kChaCha20Poly1305 == 28);
  CHECK(prf::kHmacSha256 == 5);
  CHECK(prf::kHmacSha384 == 6);
  CHECK(prf::kHmacSha512 == 7);
  CHECK(integ::kHmacSha256_128 == 12);
  CHECK(integ::kHmacSha384_192 == 13);
  CHECK(integ::kHmacSha512_256 == 14);
  CHECK(dh::kModp2048 == 14);
  CHECK(dh::kModp3072 == 15);
  CHECK(dh::kEcp256 == 19);
  CHECK(dh::kEcp384 == 20);
  CHECK(dh::kCurve25519 == 31);
  CHECK(esn::kNo == 0);
  CHECK(esn::kYes == 1);
  CHECK(static_cast<int>(T::kDh) == 4);
  CHECK(static_cast<int>(Protocol::kEsp) == 3);
}

TEST_CASE("IKE proposal strings") {
  CHECK(parse(Protocol::kIke, "aes128gcm16-prfsha256-x25519").transforms ==
        std::vector<Transform>{{T::kEncr, 20, 128}, {T::kPrf, 5, 0}, {T::kDh, 31, 0}});
  CHECK(parse(Protocol::kIke, "aes256gcm16-prfsha384-ecp384").transforms ==
        std::vector<Transform>{{T::kEncr, 20, 256}, {T::kPrf, 6, 0}, {T::kDh, 20, 0}});
  // sha256 without a prf keyword is integrity and PRF.
  CHECK(parse(Protocol::kIke, "aes256-sha256-modp2048").transforms ==
        std::vector<Transform>{{T::kEncr, 12, 256}, {T::kPrf, 5, 0}, {T::kInteg, 12, 0}, {T::kDh, 14, 0}});
  CHECK(parse(Protocol::kIke, "aes128-sha256-prfsha256-ecp256").transforms ==
        std::vector<Transform>{{T::kEncr, 12, 128}, {T::kPrf, 5, 0}, {T::kInteg, 12, 0}, {T::kDh, 19, 0}});
  // An explicit prf wins over the one sha384 would imply.
  CHECK(parse(Protocol::kIke, "aes128-sha384-prfsha256-ecp256").transforms ==
        std::vector<Transform>{{T::kEncr, 12, 128}, {T::kPrf, 5, 0}, {T::kInteg, 13, 0}, {T::kDh, 19, 0}});
  CHECK(parse(Protocol::kIke, "chacha20poly1305-prfsha256-x25519").transforms ==
        std::vector<Transform>{{T::kEncr, 28, 0}, {T::kPrf, 5, 0}, {T::kDh, 31, 0}});
  // Alternatives keep their order; aliases and duplicates collapse.
  CHECK(parse(Protocol::kIke, "aes256-aes128-sha512-sha256-curve25519-x25519-modp3072").transforms ==
        std::vector<Transform>{{T::kEncr, 12, 256}, {T::kEncr, 12, 128}, {T::kPrf, 7, 0}, {T::kPrf, 5, 0},
                               {T::kInteg, 14, 0}, {T::kInteg, 12, 0}, {T::kDh, 31, 0}, {T::kDh, 15, 0}});
  CHECK(parse(Protocol::kIke, "aes256gcm128-prfsha512-ecp384") == parse(Protocol::kIke, "aes256gcm16-prfsha512-ecp384"));
}

TEST_CASE("ESP proposal strings") {
  CHECK(parse(Protocol::kEsp, "aes128gcm16").transforms ==
        std::vector<Transform>{{T::kEncr, 20, 128}, {T::kEsn, 0, 0}});
  CHECK(parse(Protocol::kEsp, "aes256-sha256").transforms ==
        std::vector<Transform>{{T::kEncr, 12, 256}, {T::kInteg, 12, 0}, {T::kEsn, 0, 0}});
  CHECK(parse(Protocol::kEsp, "aes128gcm16-x25519").transforms ==
        std::vector<Transform>{{T::kEncr, 20, 128}, {T::kDh, 31, 0}, {T::kEsn, 0, 0}});
  CHECK(parse(Protocol::kEsp, "aes256-sha512-esn").transforms ==
        std::vector<Transform>{{T::kEncr, 12, 256}, {T::kInteg, 14, 0}, {T::kEsn, 1, 0}});
  CHECK(parse(Protocol::kEsp, "chacha20poly1305").transforms ==
        std::vector<Transform>{{T::kEncr, 28, 0}, {T::kEsn, 0, 0}});
  CHECK(parse(Protocol::kEsp, "aes128gcm16-esn-noesn").transforms ==
        std::vector<Transform>{{T::kEncr, 20, 128}, {T::kEsn, 1, 0}, {T::kEsn, 0, 0}});
}

TEST_CASE("Proposal strings round-trip through proposal_to_string") {
  for (const char* text : {"aes128gcm16-prfsha256-x25519", "aes256-prfsha256-sha256-modp2048",
                           "chacha20poly1305-prfsha384-ecp384-ecp256"}) {
    CHECK(proposal_to_string(parse(Protocol::kIke, text)) == text);
  }
  CHECK(proposal_to_string(parse(Protocol::kEsp, "aes256-sha512-esn")) == "aes256-sha512-esn");
  CHECK(proposal_to_string(parse(Protocol::kEsp, "aes128gcm16")) == "aes128gcm16-noesn");
  CHECK(transform_keyword({T::kEncr, 12, 192}) == "encryption:12/192");
}

TEST_CASE("Proposal string errors name the problem") {
  struct Case {
    Protocol protocol;
    const char* text;
    const char* mentions;
  };
  const Case cases[] = {
      {Protocol::kIke, "aes128-sha256-modp1024", "unknown algorithm 'modp1024'"},
      {Protocol::kIke, "aes128-sha1-x25519", "unknown algorithm 'sha1'"},
      {Protocol::kEsp, "3des-sha256", "unknown algorithm '3des'"},
      {Protocol::kIke, "AES128-sha256-x25519", "unknown algorithm 'AES128'"},
      {Protocol::kIke, "", "empty algorithm name"},
      {Protocol::kIke, "aes128--sha256-x25519", "empty algorithm name"},
      {Protocol::kIke, "aes128-sha256-x25519-", "empty algorithm name"},
      {Protocol::kIke, "aes128gcm16-sha256-x25519", "integrity algorithm 'sha256' with an AEAD"},
      {Protocol::kEsp, "aes256gcm16-sha384", "integrity algorithm 'sha384' with an AEAD"},
      {Protocol::kIke, "aes128gcm16-x25519", "no PRF"},
      {Protocol::kIke, "aes128-sha256", "no Diffie-Hellman group"},
      {Protocol::kIke, "prfsha256-x25519", "no encryption algorithm"},
      {Protocol::kIke, "aes128-prfsha256-x25519", "no integrity algorithm"},
      {Protocol::kEsp, "aes128", "no integrity algorithm"},
      {Protocol::kIke, "aes128-aes128gcm16-sha256-x25519", "mixes AEAD and non-AEAD"},
      {Protocol::kIke, "aes128-sha256-x25519-esn", "esn/noesn in an IKE proposal"},
      {Protocol::kEsp, "aes128gcm16-prfsha256", "PRF 'prfsha256' in an ESP proposal"},
  };
  for (const Case& c : cases) {
    const Status st = parse_error(c.protocol, c.text);
    INFO("'" << c.text << "' -> " << st.to_string());
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK(st.message().find(c.mentions) != std::string::npos);
  }
  CHECK(parse_error(Protocol::kAh, "sha256").code() == StatusCode::kInvalidArgument);
}

TEST_CASE("parse_proposals keeps the order and stops at the first bad string") {
  std::vector<Proposal> out;
  const std::vector<std::string> good = {"aes256gcm16-prfsha384-ecp384", "aes256-sha256-modp2048"};
  REQUIRE(parse_proposals(Protocol::kIke, good, &out).is_ok());
  REQUIRE(out.size() == 2);
  CHECK(out[0] == parse(Protocol::kIke, good[0]));
  CHECK(out[1] == parse(Protocol::kIke, good[1]));

  const std::vector<std::string> bad = {"aes256gcm16-prfsha384-ecp384", "aes256-md5-modp2048"};
  const Status st = parse_proposals(Protocol::kIke, bad, &out);
  CHECK(st.message().find("'md5'") != std::string::npos);
  CHECK(out.size() == 2);  // untouched on error
  CHECK(parse_proposals(Protocol::kEsp, {}, &out).code() == StatusCode::kInvalidArgument);
}

std::vector<Proposal> parse_all(Protocol protocol, const std::vector<std::string>& texts) {
  std::vector<Proposal> out;
  REQUIRE(parse_proposals(protocol, texts, &out).is_ok());
  return out;
}

TEST_CASE("Selection prefers our configured order over the peer's") {
  const auto ours = parse_all(Protocol::kIke, {"aes256gcm16-prfsha384-ecp384", "aes128-sha256-x25519"});
  const auto theirs = parse_all(Protocol::kIke, {"aes128-sha256-x25519", "aes256gcm16-prfsha384-ecp384"});
  const auto match = select_proposal(ours, theirs);
  REQUIRE(match.has_value());
  CHECK(match->peer_index == 1);
  CHECK(proposal_to_string(match->chosen) == "aes256gcm16-prfsha384-ecp384");
}

TEST_CASE("Selection takes our most preferred transform of each type that they offer") {
  const auto ours = parse_all(Protocol::kIke, {"aes256-aes128-sha512-sha256-ecp384-x25519"});
  const auto theirs = parse_all(Protocol::kIke, {"aes128-aes256-sha256-sha512-prfsha256-x25519-ecp384-modp2048"});
  const auto match = select_proposal(ours, theirs);
  REQUIRE(match.has_value());
  // Our PRFs are sha512, sha256 (implied); they offer only prfsha256.
  CHECK(proposal_to_string(match->chosen) == "aes256-prfsha256-sha512-ecp384");
  CHECK(match->chosen.transforms.size() == 4);  // one per type
}

TEST_CASE("Selection fails without a common transform of every type") {
  const auto ours = parse_all(Protocol::kIke, {"aes256gcm16-prfsha384-ecp384"});
  CHECK_FALSE(select_proposal(ours, parse_all(Protocol::kIke, {"aes256gcm16-prfsha384-ecp256"})));
  CHECK_FALSE(select_proposal(ours, parse_all(Protocol::kIke, {"aes128gcm16-prfsha384-ecp384"})));
  CHECK_FALSE(select_proposal(ours, parse_all(Protocol::kIke, {"aes256gcm16-prfsha256-ecp384"})));
  // Same algorithms but a different protocol.
  CHECK_FALSE(select_proposal(ours, std::vector<Proposal>{{Protocol::kEsp, ours[0].transforms}}));
  CHECK_FALSE(select_proposal(ours, std::vector<Proposal>{}));
}

TEST_CASE("ESP selection: PFS and ESN must agree; an offered NONE matches no PFS") {
  const auto no_pfs = parse_all(Protocol::kEsp, {"aes128gcm16"});
  const auto pfs = parse_all(Protocol::kEsp, {"aes128gcm16-x25519"});
  CHECK_FALSE(select_proposal(no_pfs, pfs));
  CHECK_FALSE(select_proposal(pfs, no_pfs));
  CHECK(select_proposal(pfs, pfs));
  CHECK_FALSE(select_proposal(no_pfs, parse_all(Protocol::kEsp, {"aes128gcm16-esn"})));
  const auto either = parse_all(Protocol::kEsp, {"aes128gcm16-esn-noesn"});
  const auto match = select_proposal(either, no_pfs);
  REQUIRE(match);
  CHECK(proposal_to_string(match->chosen) == "aes128gcm16-noesn");

  Proposal optional_pfs = pfs[0];
  optional_pfs.transforms.insert(optional_pfs.transforms.begin() + 1, Transform{T::kDh, dh::kNone, 0});
  const auto none_match = select_proposal(no_pfs, std::vector<Proposal>{optional_pfs});
  REQUIRE(none_match);
  CHECK(none_match->chosen.transforms ==
        std::vector<Transform>{{T::kEncr, 20, 128}, {T::kDh, 0, 0}, {T::kEsn, 0, 0}});
}

TEST_CASE("Suites from chosen proposals and their key sizes") {
  IkeSuite ike;
  REQUIRE(ike_suite_from(parse(Protocol::kIke, "aes128gcm16-prfsha256-x25519"), &ike).is_ok());
  CHECK(ike.encr == 20);
  CHECK(ike.encr_key_size() == 16 + 4);
  CHECK(ike.integ_key_size() == 0);
  CHECK(ike.prf_key_size() == 32);
  CHECK(ike.dh == 31);
  REQUIRE(ike_suite_from(parse(Protocol::kIke, "aes256-sha384-modp3072"), &ike).is_ok());
  CHECK(ike.encr_key_size() == 32);
  CHECK(ike.integ == 13);
  CHECK(ike.integ_key_size() == 48);
  CHECK(integ_icv_size(ike.integ) == 24);
  CHECK(ike.prf_key_size() == 48);
  REQUIRE(ike_suite_from(parse(Protocol::kIke, "chacha20poly1305-prfsha512-ecp256"), &ike).is_ok());
  CHECK(ike.encr_key_size() == 32 + 4);

  EspSuite esp;
  REQUIRE(esp_suite_from(parse(Protocol::kEsp, "aes256gcm16-ecp384-esn"), &esp).is_ok());
  CHECK(esp.encr_key_size() == 36);
  CHECK(esp.integ == integ::kNone);
  CHECK(esp.dh == 20);
  CHECK(esp.esn);
  REQUIRE(esp_suite_from(parse(Protocol::kEsp, "aes128-sha512"), &esp).is_ok());
  CHECK(esp.encr_key_size() == 16);
  CHECK(esp.integ_key_size() == 64);
  CHECK(esp.dh == dh::kNone);
  CHECK_FALSE(esp.esn);

  // Not yet chosen (alternatives left), or the wrong protocol.
  CHECK(ike_suite_from(parse(Protocol::kIke, "aes256-aes128-sha256-x25519"), &ike).code() ==
        StatusCode::kInvalidArgument);
  CHECK(esp_suite_from(parse(Protocol::kIke, "aes256-sha256-x25519"), &esp).code() == StatusCode::kInvalidArgument);
  // A peer's transform we do not implement.
  CHECK(ike_suite_from(Proposal{Protocol::kIke, {{T::kEncr, 12, 192}, {T::kPrf, 5, 0}, {T::kInteg, 12, 0},
                                                 {T::kDh, 31, 0}}},
                       &ike)
            .code() == StatusCode::kInvalidArgument);
  CHECK(ike_suite_from(Proposal{Protocol::kIke, {{T::kEncr, 20, 128}, {T::kPrf, 5, 0}, {T::kDh, 2, 0}}}, &ike)
            .code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dpvpn::ike
