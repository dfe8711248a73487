// SK payload protection: byte-exact layout against gen_vectors.py and against strongSwan's
// encoding of the RFC 7634 Appendix B example; the AEAD primitives against the GCM spec (NIST)
// and RFC 8439; round trips, tampering and malformed input.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "ike/crypto/sk_cipher.hpp"
#include "ike/crypto/transforms.hpp"
#include "ike_crypto/vector_file.hpp"

namespace dpvpn::ike {
namespace {

using test::from_hex;
using test::to_hex;

IkeSuite suite_of(uint16_t encr, uint16_t bits, uint16_t integ_id) {
  IkeSuite s;
  s.encr = encr;
  s.encr_key_bits = bits;
  s.integ = integ_id;
  s.prf = prf::kHmacSha256;
  return s;
}

std::unique_ptr<SkCipher> cipher_of(const IkeSuite& suite, ByteView encr_key, ByteView integ_key) {
  std::unique_ptr<SkCipher> c;
  const Status st = SkCipher::create(suite, encr_key, integ_key, &c);
  INFO(st.to_string());
  REQUIRE(st.is_ok());
  return c;
}

std::unique_ptr<SkCipher> cipher_of(const test::VectorRecord& v) {
  return cipher_of(suite_of(static_cast<uint16_t>(v.number("encr")), static_cast<uint16_t>(v.number("encr_key_bits")),
                            static_cast<uint16_t>(v.number("integ"))),
                   v.bytes("encr_key"), v.bytes("integ_key"));
}

// The prefix followed by room for the SK body, sealed.
std::vector<uint8_t> sealed(const SkCipher& c, const std::vector<uint8_t>& prefix, const std::vector<uint8_t>& plaintext,
                            const std::vector<uint8_t>* iv = nullptr) {
  std::vector<uint8_t> message = prefix;
  message.resize(prefix.size() + c.sk_body_length(plaintext.size()));
  const Status st = iv ? c.seal_with_iv(message, prefix.size(), plaintext, *iv) : c.seal(message, prefix.size(), plaintext);
  INFO(st.to_string());
  REQUIRE(st.is_ok());
  return message;
}

TEST_CASE("SK payload: byte-exact messages from the independent implementation") {
  for (const auto& v : test::load_vectors("sk")) {
    INFO(v.name());
    const auto c = cipher_of(v);
    const auto prefix = v.bytes("prefix");
    const auto plaintext = v.bytes("plaintext");
    const auto iv = v.bytes("iv");
    const auto expected = v.bytes("message");
    CHECK(c->iv_size() == iv.size());
    CHECK(prefix.size() + c->sk_body_length(plaintext.size()) == expected.size());
    CHECK(to_hex(sealed(*c, prefix, plaintext, &iv)) == to_hex(expected));
    std::vector<uint8_t> opened;
    REQUIRE(c->open(expected, prefix.size(), &opened) == SkOpenResult::kOk);
    CHECK(opened == plaintext);
  }
}

TEST_CASE("SK payload: padding and lengths by the RFCs") {
  const std::vector<uint8_t> key16(16, 1), key20(20, 1), key32(32, 2), key36(36, 3);
  const auto gcm = cipher_of(suite_of(encr::kAesGcm16, 128, integ::kNone), key20, ByteView());
  const auto chacha = cipher_of(suite_of(encr::kChaCha20Poly1305, 0, integ::kNone), key36, ByteView());
  const auto cbc = cipher_of(suite_of(encr::kAesCbc, 128, integ::kHmacSha256_128), key16, key32);
  // AEAD: IV 8 | payloads | Pad Length | ICV 16, never padded.
  for (size_t n : {0u, 1u, 15u, 16u, 100u}) {
    CHECK(gcm->sk_body_length(n) == 8 + n + 1 + 16);
    CHECK(chacha->sk_body_length(n) == 8 + n + 1 + 16);
  }
  // CBC: IV 16 | payloads + padding + Pad Length to a multiple of 16 | ICV 16 (SHA-256/128).
  CHECK(cbc->iv_size() == 16);
  CHECK(cbc->sk_body_length(0) == 16 + 16 + 16);
  CHECK(cbc->sk_body_length(15) == 16 + 16 + 16);
  CHECK(cbc->sk_body_length(16) == 16 + 32 + 16);
  // Pad bytes are zero and the Pad Length says how many (checked after decryption by the vectors;
  // here: the decrypted inner data of a 16-octet payload carries 15 padding octets).
  std::vector<uint8_t> plaintext(16, 0xab);
  const auto msg = sealed(*cbc, std::vector<uint8_t>(32, 0x55), plaintext);
  std::vector<uint8_t> opened;
  REQUIRE(cbc->open(msg, 32, &opened) == SkOpenResult::kOk);
  CHECK(opened == plaintext);
}

// RFC 7634 Appendix B (from draft-ietf-ipsecme-chacha20-poly1305-06), as strongSwan's unit test
// test_message_chapoly.c encodes it: an INFORMATIONAL request with one SET_WINDOW_SIZE notify.
TEST_CASE("SK payload: ChaCha20-Poly1305 IKEv2 example of RFC 7634, as strongSwan sends it") {
  const auto key = from_hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3");
  const auto c = cipher_of(suite_of(encr::kChaCha20Poly1305, 0, integ::kNone), key, ByteView());
  const auto header = from_hex(
      "c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d7"  // SPIs
      "2e20250000000009"                  // SK, 2.0, INFORMATIONAL, no flags, message ID 9
      "00000045"                          // length 69
      "29000029");                        // SK header: next Notify, length 41
  const auto notify = from_hex("0000000c000040010000000a");  // SET_WINDOW_SIZE 10
  const auto iv = from_hex("1011121314151617");
  const std::string expected =
      "c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d72e20250000000009000000452900002910111213141516176103"
      "94701f8d017f7c129248896b71bfe25236efd7cdc67066906315b2";
  CHECK(to_hex(sealed(*c, header, notify, &iv)) == expected);
  std::vector<uint8_t> opened;
  REQUIRE(c->open(from_hex(expected), header.size(), &opened) == SkOpenResult::kOk);
  CHECK(opened == notify);
}

// The GCM specification's test cases 4 and 16 (96-bit IV, with AAD): salt = the IV's first 4
// octets, the SK IV its last 8; P's last octet (0x39) is a valid Pad Length, leaving 2 octets.
TEST_CASE("SK payload: AES-GCM test cases 4 and 16 open") {
  const std::string k = "feffe9928665731c6d6a8f9467308308";
  const std::string aad = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
  struct Case {
    std::string key;
    uint16_t bits;
    std::string ciphertext_and_tag;
  };
  const Case cases[] = {
      {k, 128,
       "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b39"
       "6a0aac973d58e0915bc94fbc3221a5db94fae95ae7121a47"},
      {k + k, 256,
       "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e63"
       "93ba7a0abcc9f66276fc6ece0f4e1768cddf8853bb2d551b"},
  };
  for (const Case& tc : cases) {
    INFO("AES-" << tc.bits);
    const auto c = cipher_of(suite_of(encr::kAesGcm16, tc.bits, integ::kNone), from_hex(tc.key + "cafebabe"), ByteView());
    const auto message = from_hex(aad + "facedbaddecaf888" + tc.ciphertext_and_tag);
    std::vector<uint8_t> opened;
    REQUIRE(c->open(message, 20, &opened) == SkOpenResult::kOk);
    CHECK(to_hex(opened) == "d931");
  }
}

// RFC 8439 2.8.2: the AEAD example; its last plaintext octet '.' (46) is taken as Pad Length.
TEST_CASE("SK payload: ChaCha20-Poly1305 RFC 8439 example opens") {
  const auto c = cipher_of(suite_of(encr::kChaCha20Poly1305, 0, integ::kNone),
                           from_hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f07000000"), ByteView());
  const auto message = from_hex(
      "50515253c0c1c2c3c4c5c6c7"
      "4041424344454647"
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e06"
      "0b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d265"
      "86cec64b6116"
      "1ae10b594f09e26a7e902ecbd0600691");
  std::vector<uint8_t> opened;
  REQUIRE(c->open(message, 12, &opened) == SkOpenResult::kOk);
  CHECK(std::string(opened.begin(), opened.end()) ==
        std::string("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
                    "sunscreen would be it.")
            .substr(0, 114 - 47));
}

TEST_CASE("SK payload: random IVs, round trips, and any changed octet fails the ICV") {
  for (const auto& v : test::load_vectors("sk")) {
    INFO(v.name());
    const auto c = cipher_of(v);
    const auto prefix = v.bytes("prefix");
    const auto plaintext = v.bytes("plaintext");
    const auto a = sealed(*c, prefix, plaintext);
    const auto b = sealed(*c, prefix, plaintext);
    CHECK(std::vector<uint8_t>(a.begin() + prefix.size(), a.begin() + prefix.size() + c->iv_size()) !=
          std::vector<uint8_t>(b.begin() + prefix.size(), b.begin() + prefix.size() + c->iv_size()));
    std::vector<uint8_t> opened;
    REQUIRE(c->open(a, prefix.size(), &opened) == SkOpenResult::kOk);
    CHECK(opened == plaintext);
    // Header (associated data / HMAC input), SK header, IV, ciphertext, ICV.
    for (size_t at : {size_t{0}, size_t{17}, prefix.size() - 1, prefix.size(), prefix.size() + c->iv_size(), a.size() - 1}) {
      auto tampered = a;
      tampered[at] ^= 0x01;
      INFO("octet " << at);
      CHECK(c->open(tampered, prefix.size(), &opened) == SkOpenResult::kIcvMismatch);
    }
    // Another key: the encryption key for an AEAD, the integrity key for CBC + HMAC.
    auto encr_key = v.bytes("encr_key");
    auto integ_key = v.bytes("integ_key");
    (integ_key.empty() ? encr_key : integ_key)[0] ^= 1;
    const auto other = cipher_of(suite_of(static_cast<uint16_t>(v.number("encr")),
                                          static_cast<uint16_t>(v.number("encr_key_bits")),
                                          static_cast<uint16_t>(v.number("integ"))),
                                 encr_key, integ_key);
    CHECK(other->open(a, prefix.size(), &opened) == SkOpenResult::kIcvMismatch);
  }
}

TEST_CASE("SK payload: malformed messages") {
  for (const auto& v : test::load_vectors("sk_bad_pad")) {
    INFO(v.name());
    const auto c = cipher_of(v);
    std::vector<uint8_t> opened{1, 2, 3};
    CHECK(c->open(v.bytes("message"), v.bytes("prefix").size(), &opened) == SkOpenResult::kMalformed);
    CHECK(opened == std::vector<uint8_t>{1, 2, 3});  // untouched
  }
  for (const auto& v : test::load_vectors("sk")) {
    INFO(v.name());
    const auto c = cipher_of(v);
    const auto message = v.bytes("message");
    const size_t body = v.bytes("prefix").size();
    std::vector<uint8_t> opened;
    CHECK(c->open(message, 0, &opened) == SkOpenResult::kMalformed);
    CHECK(c->open(message, message.size() + 1, &opened) == SkOpenResult::kMalformed);
    // Shorter than IV, one Pad Length octet (AEAD) or block (CBC), and ICV.
    CHECK(c->open(ByteView(message.data(), body + c->iv_size() + 16), body, &opened) == SkOpenResult::kMalformed);
  }
  // CBC ciphertext that is not whole blocks.
  const auto cbc = cipher_of(suite_of(encr::kAesCbc, 128, integ::kHmacSha256_128), std::vector<uint8_t>(16, 1),
                             std::vector<uint8_t>(32, 2));
  std::vector<uint8_t> opened;
  CHECK(cbc->open(std::vector<uint8_t>(32 + 16 + 17 + 16, 0), 32, &opened) == SkOpenResult::kMalformed);
}

TEST_CASE("SK payload: seal checks the layout and the IV, create checks the keys") {
  const auto c = cipher_of(suite_of(encr::kAesGcm16, 256, integ::kNone), std::vector<uint8_t>(36, 7), ByteView());
  const std::vector<uint8_t> plaintext(10, 1);
  std::vector<uint8_t> message(28 + 4 + c->sk_body_length(plaintext.size()) + 1);  // one octet too many
  CHECK(c->seal(message, 32, plaintext).code() == StatusCode::kInvalidArgument);
  message.pop_back();
  CHECK(c->seal(message, 0, plaintext).code() == StatusCode::kInvalidArgument);
  CHECK(c->seal_with_iv(message, 32, plaintext, std::vector<uint8_t>(12, 0)).code() == StatusCode::kInvalidArgument);
  CHECK(c->seal(message, 32, plaintext).is_ok());

  std::unique_ptr<SkCipher> out;
  const std::vector<uint8_t> k16(16, 1), k20(20, 1), k32(32, 1), k36(36, 1);
  CHECK(SkCipher::create(suite_of(encr::kAesGcm16, 128, integ::kNone), k16, ByteView(), &out).code() ==
        StatusCode::kInvalidArgument);  // salt missing
  CHECK(SkCipher::create(suite_of(encr::kAesGcm16, 128, integ::kNone), k20, k32, &out).code() ==
        StatusCode::kInvalidArgument);  // AEAD takes no integrity key
  CHECK(SkCipher::create(suite_of(encr::kAesCbc, 256, integ::kHmacSha256_128), k32, k16, &out).code() ==
        StatusCode::kInvalidArgument);  // HMAC-SHA-256 key is 32 octets
  CHECK(SkCipher::create(suite_of(encr::kAesCbc, 256, integ::kNone), k32, ByteView(), &out).code() ==
        StatusCode::kInvalidArgument);
  CHECK(SkCipher::create(suite_of(encr::kAesCbc, 192, integ::kHmacSha256_128), std::vector<uint8_t>(24, 1), k32, &out)
            .code() == StatusCode::kInvalidArgument);
  CHECK(SkCipher::create(suite_of(encr::kChaCha20Poly1305, 0, integ::kNone), k36, ByteView(), &out).is_ok());
}

}  // namespace
}  // namespace dpvpn::ike
