// PRFs against RFC 4231; prf+, SKEYSEED, IKE SA keys, IKE SA rekey and Child SA KEYMAT against
// gen_vectors.py (an independent Python implementation) and a NIST CAVP-format IKEv2 KDF case.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ike/crypto/key_derivation.hpp"
#include "ike/crypto/prf.hpp"
#include "ike/crypto/transforms.hpp"
#include "ike_crypto/vector_file.hpp"

namespace dpvpn::ike {
namespace {

using test::from_hex;
using test::to_hex;

ByteView text(const char* s) { return ByteView(reinterpret_cast<const uint8_t*>(s), std::char_traits<char>::length(s)); }

Prf prf_of(uint64_t id) {
  const auto prf = Prf::from_id(static_cast<uint16_t>(id));
  REQUIRE(prf.has_value());
  return *prf;
}

std::string hmac_hex(uint16_t prf_id, ByteView key, std::initializer_list<ByteView> data) {
  SecureBytes out;
  REQUIRE(prf_of(prf_id).compute(key, data, &out).is_ok());
  return to_hex(out);
}

IkeSuite ike_suite_of(const test::VectorRecord& v) {
  IkeSuite s;
  s.encr = static_cast<uint16_t>(v.number("encr"));
  s.encr_key_bits = static_cast<uint16_t>(v.number("encr_key_bits"));
  s.integ = static_cast<uint16_t>(v.number("integ"));
  s.prf = static_cast<uint16_t>(v.number("prf"));
  return s;
}

// The 8 SPI octets of the vector as ike_spi.hpp's uint64_t.
uint64_t spi_of(const test::VectorRecord& v, const std::string& key) { return std::stoull(v.text(key), nullptr, 16); }

void check_ike_sa_keys(const test::VectorRecord& v, const IkeSaKeys& keys) {
  CHECK(to_hex(keys.sk_d) == v.text("sk_d"));
  CHECK(to_hex(keys.sk_ai) == v.text("sk_ai"));
  CHECK(to_hex(keys.sk_ar) == v.text("sk_ar"));
  CHECK(to_hex(keys.sk_ei) == v.text("sk_ei"));
  CHECK(to_hex(keys.sk_er) == v.text("sk_er"));
  CHECK(to_hex(keys.sk_pi) == v.text("sk_pi"));
  CHECK(to_hex(keys.sk_pr) == v.text("sk_pr"));
}

TEST_CASE("PRF HMAC-SHA2: RFC 4231 test cases 1, 2 and 6") {
  const std::vector<uint8_t> key1(20, 0x0b);
  const std::vector<uint8_t> key6(131, 0xaa);  // longer than the block: hashed first
  const char* data6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  CHECK(hmac_hex(prf::kHmacSha256, key1, {text("Hi There")}) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hmac_hex(prf::kHmacSha256, text("Jefe"), {text("what do ya want for nothing?")}) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(hmac_hex(prf::kHmacSha256, key6, {text(data6)}) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  CHECK(hmac_hex(prf::kHmacSha384, key1, {text("Hi There")}) ==
        "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6");
  CHECK(hmac_hex(prf::kHmacSha384, text("Jefe"), {text("what do ya want for nothing?")}) ==
        "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649");
  CHECK(hmac_hex(prf::kHmacSha384, key6, {text(data6)}) ==
        "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952");
  CHECK(hmac_hex(prf::kHmacSha512, key1, {text("Hi There")}) ==
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
        "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
  CHECK(hmac_hex(prf::kHmacSha512, text("Jefe"), {text("what do ya want for nothing?")}) ==
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
  CHECK(hmac_hex(prf::kHmacSha512, key6, {text(data6)}) ==
        "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
        "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598");
  // Data given in parts is their concatenation.
  CHECK(hmac_hex(prf::kHmacSha256, key1, {text("Hi "), text(""), text("There")}) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST_CASE("PRF identities, sizes and limits") {
  CHECK(prf_of(prf::kHmacSha256).output_size() == 32);
  CHECK(prf_of(prf::kHmacSha384).output_size() == 48);
  CHECK(prf_of(prf::kHmacSha512).output_size() == 64);
  CHECK(prf_of(prf::kHmacSha512).id() == prf::kHmacSha512);
  CHECK_FALSE(Prf::from_id(4).has_value());  // PRF_AES128_XCBC
  CHECK_FALSE(Prf::from_id(0).has_value());
  const Prf prf = prf_of(prf::kHmacSha256);
  SecureBytes out;
  CHECK(prf.compute(ByteView(), {text("x")}, &out).code() == StatusCode::kInvalidArgument);
  REQUIRE(prf.plus(text("key"), text("seed"), 255 * 32, &out).is_ok());
  CHECK(out.size() == 255 * 32);
  CHECK(prf.plus(text("key"), text("seed"), 255 * 32 + 1, &out).code() == StatusCode::kInvalidArgument);
  // prf+ output is a prefix-stable stream: shorter requests are prefixes of longer ones.
  SecureBytes shorter;
  REQUIRE(prf.plus(text("key"), text("seed"), 45, &shorter).is_ok());
  CHECK(std::equal(shorter.begin(), shorter.end(), out.begin()));
}

TEST_CASE("SKEYSEED and IKE SA keys match the independent implementation") {
  for (const auto& v : test::load_vectors("ike_sa")) {
    INFO(v.name());
    const IkeSuite suite = ike_suite_of(v);
    SecureBytes skeyseed;
    REQUIRE(compute_skeyseed(prf_of(suite.prf), v.bytes("ni"), v.bytes("nr"), v.bytes("g_ir"), &skeyseed).is_ok());
    CHECK(to_hex(skeyseed) == v.text("skeyseed"));
    IkeSaKeys keys;
    REQUIRE(derive_ike_sa_keys(suite, skeyseed, v.bytes("ni"), v.bytes("nr"), spi_of(v, "spi_i"), spi_of(v, "spi_r"),
                               &keys)
                .is_ok());
    check_ike_sa_keys(v, keys);
  }
}

TEST_CASE("Rekeyed IKE SA: old PRF and SK_d, new suite and SPIs") {
  for (const auto& v : test::load_vectors("ike_rekey")) {
    INFO(v.name());
    SecureBytes skeyseed;
    REQUIRE(compute_rekey_skeyseed(prf_of(v.number("old_prf")), v.bytes("old_sk_d"), v.bytes("g_ir"), v.bytes("ni"),
                                   v.bytes("nr"), &skeyseed)
                .is_ok());
    CHECK(to_hex(skeyseed) == v.text("skeyseed"));
    IkeSaKeys keys;
    REQUIRE(derive_ike_sa_keys(ike_suite_of(v), skeyseed, v.bytes("ni"), v.bytes("nr"), spi_of(v, "spi_i"),
                               spi_of(v, "spi_r"), &keys)
                .is_ok());
    check_ike_sa_keys(v, keys);
  }
}

TEST_CASE("Child SA KEYMAT: i->r encryption and integrity, then r->i") {
  for (const auto& v : test::load_vectors("child_sa")) {
    INFO(v.name());
    EspSuite suite;
    suite.encr = static_cast<uint16_t>(v.number("encr"));
    suite.encr_key_bits = static_cast<uint16_t>(v.number("encr_key_bits"));
    suite.integ = static_cast<uint16_t>(v.number("integ"));
    ChildSaKeys keys;
    REQUIRE(derive_child_sa_keys(prf_of(v.number("prf")), v.bytes("sk_d"), suite, v.bytes("g_ir"), v.bytes("ni"),
                                 v.bytes("nr"), &keys)
                .is_ok());
    CHECK(to_hex(keys.initiator_to_responder.encr_key) == v.text("encr_i"));
    CHECK(to_hex(keys.initiator_to_responder.integ_key) == v.text("integ_i"));
    CHECK(to_hex(keys.responder_to_initiator.encr_key) == v.text("encr_r"));
    CHECK(to_hex(keys.responder_to_initiator.integ_key) == v.text("integ_r"));
  }
}

// An IKEv2 KDF case in the NIST CAVP SP 800-135 format (HMAC-SHA-1, DKM of 1056 bits) with the
// results libreswan (NSS) computes, recorded in libreswan's IKEv2 KDF CAVS test program.
TEST_CASE("IKEv2 KDF: CAVP-format SHA-1 case") {
  const auto gir = from_hex("4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52");
  const auto gir_new = from_hex("863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330");
  const auto ni = from_hex("32b50d5f4a3763f3");
  const auto nr = from_hex("9206a04b26564cb1");
  const Prf sha1 = prf_of(prf::kHmacSha1);

  SecureBytes skeyseed;
  REQUIRE(compute_skeyseed(sha1, ni, nr, gir, &skeyseed).is_ok());
  CHECK(to_hex(skeyseed) == "a9a7b222b59f8f48645f28a1db5b5f5d7479cba7");

  // 3 x 20 (SK_d, SK_pi, SK_pr) + 2 x 36 (ChaCha20-Poly1305 key and salt) = the 132 octets of DKM.
  IkeSuite suite;
  suite.encr = encr::kChaCha20Poly1305;
  suite.prf = prf::kHmacSha1;
  IkeSaKeys keys;
  REQUIRE(derive_ike_sa_keys(suite, skeyseed, ni, nr, 0x34c9e7c188868785, 0x3ff77d760d2b2199, &keys).is_ok());
  CHECK(to_hex(keys.sk_d) + to_hex(keys.sk_ai) + to_hex(keys.sk_ar) + to_hex(keys.sk_ei) + to_hex(keys.sk_er) +
            to_hex(keys.sk_pi) + to_hex(keys.sk_pr) ==
        "a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002a2a63080e514a062768b76606f9fa5e992204fc5"
        "a670bde3f10d6b027113936a5c55b648a194ae587b0088d52204b702c979fa280870d2ed41efa9c549fd11198af1670b143d384b"
        "d275c5f594cf266b05ebadca855e4249520a441a81157435a7a56cc4");

  // Child SA without and with a new DH: AES-256-CBC + HMAC-SHA2-256 takes the first 128 octets.
  EspSuite esp;
  esp.encr = encr::kAesCbc;
  esp.encr_key_bits = 256;
  esp.integ = integ::kHmacSha256_128;
  auto joined = [](const ChildSaKeys& k) {
    return to_hex(k.initiator_to_responder.encr_key) + to_hex(k.initiator_to_responder.integ_key) +
           to_hex(k.responder_to_initiator.encr_key) + to_hex(k.responder_to_initiator.integ_key);
  };
  ChildSaKeys child;
  REQUIRE(derive_child_sa_keys(sha1, keys.sk_d, esp, ByteView(), ni, nr, &child).is_ok());
  CHECK(joined(child) ==
        "8059e3ee8810e6c3a91bc8bcd2a7a41151b8d0e6ae239c7b38093ad85ef4c5811a8e7b5d1cdabd9560b2d5e092d1f24e2d4b85ec"
        "cdf0ad0dc9abd94b51ee71814ca6dbc8bb51b6309f5b9545c7eb35cf5580b1e521a8fe20754a2d883ba0c2cf285f524aea6545b3"
        "3106bc03e614296d319d41d4b50b3f510b1c0a22f3e66499");
  REQUIRE(derive_child_sa_keys(sha1, keys.sk_d, esp, gir_new, ni, nr, &child).is_ok());
  CHECK(joined(child) ==
        "bb43244c1860ad65ee1e211ffe8bb3661750c8f89cb9f547df7f4fa61d37301628190e38c66232eab4b3ab14c400a5197dd3730e"
        "d4820a8a10394d51e1c0400052f63ebd36b0e7ef53aaed31eba4a5080d7d4b5666023a8bbb5ffb7857240f9a05884d1b7d2f9337"
        "08450b7b3288f1fc863ab49fa901227cffc06e27899c7054");

  SecureBytes rekey;
  REQUIRE(compute_rekey_skeyseed(sha1, keys.sk_d, gir_new, ni, nr, &rekey).is_ok());
  CHECK(to_hex(rekey) == "63e81194946ebd05df7df5ebf5d8750056bf1f1d");
}

TEST_CASE("Key derivation rejects suites it cannot cut keys for") {
  const SecureBytes seed(32, 1);
  IkeSaKeys keys;
  IkeSuite no_integ;
  no_integ.encr = encr::kAesCbc;
  no_integ.encr_key_bits = 128;
  no_integ.prf = prf::kHmacSha256;
  CHECK(derive_ike_sa_keys(no_integ, seed, seed, seed, 1, 2, &keys).code() == StatusCode::kInvalidArgument);
  IkeSuite bad_prf = no_integ;
  bad_prf.integ = integ::kHmacSha256_128;
  bad_prf.prf = 4;
  CHECK(derive_ike_sa_keys(bad_prf, seed, seed, seed, 1, 2, &keys).code() == StatusCode::kInvalidArgument);
  EspSuite esp;
  esp.encr = encr::kAesCbc;
  esp.encr_key_bits = 192;
  esp.integ = integ::kHmacSha256_128;
  ChildSaKeys child;
  CHECK(derive_child_sa_keys(prf_of(prf::kHmacSha256), seed, esp, ByteView(), seed, seed, &child).code() ==
        StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dpvpn::ike
