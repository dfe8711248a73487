// Shared-key AUTH (RFC 7296 2.15) against gen_vectors.py.
#include <catch2/catch.hpp>

#include <vector>

#include "ike/crypto/auth.hpp"
#include "ike/crypto/transforms.hpp"
#include "ike_crypto/vector_file.hpp"

namespace dpvpn::ike {
namespace {

using test::to_hex;

TEST_CASE("AUTH method numbers") {
  CHECK(auth_method::kRsaSignature == 1);
  CHECK(auth_method::kSharedKeyMic == 2);
  CHECK(auth_method::kDigitalSignature == 14);
}

TEST_CASE("PSK AUTH: signed octets and AUTH data match the independent implementation") {
  for (const auto& v : test::load_vectors("psk_auth")) {
    INFO(v.name());
    const auto prf = Prf::from_id(static_cast<uint16_t>(v.number("prf")));
    REQUIRE(prf);
    std::vector<uint8_t> signed_octets;
    REQUIRE(auth_signed_octets(*prf, v.bytes("sk_p"), v.bytes("real_message"), v.bytes("peer_nonce"),
                               v.bytes("id_body"), &signed_octets)
                .is_ok());
    CHECK(to_hex(signed_octets) == v.text("signed_octets"));
    std::vector<uint8_t> auth;
    REQUIRE(psk_auth_data(*prf, v.bytes("psk"), signed_octets, &auth).is_ok());
    CHECK(to_hex(auth) == v.text("auth"));
    CHECK(verify_psk_auth_data(*prf, v.bytes("psk"), signed_octets, auth).is_ok());

    auto wrong = auth;
    wrong.back() ^= 0x80;
    CHECK(verify_psk_auth_data(*prf, v.bytes("psk"), signed_octets, wrong).code() == StatusCode::kInvalidArgument);
    wrong = auth;
    wrong.pop_back();
    CHECK(verify_psk_auth_data(*prf, v.bytes("psk"), signed_octets, wrong).code() == StatusCode::kInvalidArgument);
    auto other_psk = v.bytes("psk");
    other_psk[0] ^= 1;
    CHECK(verify_psk_auth_data(*prf, other_psk, signed_octets, auth).code() == StatusCode::kInvalidArgument);
    signed_octets[0] ^= 1;
    CHECK(verify_psk_auth_data(*prf, v.bytes("psk"), signed_octets, auth).code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("PSK AUTH: an empty shared secret is refused") {
  const auto sha256 = Prf::from_id(prf::kHmacSha256);
  std::vector<uint8_t> auth;
  CHECK(psk_auth_data(*sha256, ByteView(), std::vector<uint8_t>(10, 1), &auth).code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dpvpn::ike
