// Diffie-Hellman groups against RFC 7748 (X25519), RFC 5903 (ECP) and MODP values computed by
// gen_vectors.py from the RFC 3526 primes; rejection of invalid peer values.
#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <vector>

#include "ike/crypto/dh_group.hpp"
#include "ike/crypto/openssl_util.hpp"
#include "ike/crypto/transforms.hpp"
#include "ike_crypto/vector_file.hpp"

namespace dpvpn::ike {
namespace {

using test::from_hex;
using test::to_hex;

std::unique_ptr<DhGroup> with_private(uint16_t group, const std::string& private_hex) {
  std::unique_ptr<DhGroup> g;
  REQUIRE(DhGroup::create(group, &g).is_ok());
  REQUIRE(g->use_private_key(from_hex(private_hex)).is_ok());
  return g;
}

std::unique_ptr<DhGroup> generated(uint16_t group) {
  std::unique_ptr<DhGroup> g;
  REQUIRE(DhGroup::create(group, &g).is_ok());
  REQUIRE(g->generate().is_ok());
  return g;
}

void check_agreement(uint16_t group, size_t public_size, size_t shared_size) {
  auto a = generated(group);
  auto b = generated(group);
  CHECK(a->public_value().size() == public_size);
  CHECK(a->public_value() != b->public_value());
  REQUIRE(a->compute_shared(b->public_value()).is_ok());
  REQUIRE(b->compute_shared(a->public_value()).is_ok());
  CHECK(a->shared_secret().size() == shared_size);
  CHECK(a->shared_secret() == b->shared_secret());
}

TEST_CASE("X25519: RFC 7748 section 6.1") {
  const auto alice = with_private(dh::kCurve25519, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const auto bob = with_private(dh::kCurve25519, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  CHECK(to_hex(alice->public_value()) == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  CHECK(to_hex(bob->public_value()) == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  REQUIRE(alice->compute_shared(bob->public_value()).is_ok());
  REQUIRE(bob->compute_shared(alice->public_value()).is_ok());
  CHECK(to_hex(alice->shared_secret()) == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  CHECK(to_hex(bob->shared_secret()) == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}

TEST_CASE("X25519: RFC 7748 section 5.2 scalar multiplication") {
  const auto k = with_private(dh::kCurve25519, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
  REQUIRE(k->compute_shared(from_hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")).is_ok());
  CHECK(to_hex(k->shared_secret()) == "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
}

TEST_CASE("X25519: agreement, and low-order or short peer values are rejected") {
  check_agreement(dh::kCurve25519, 32, 32);
  auto k = generated(dh::kCurve25519);
  // u = 0 and u = 1 are of small order: the shared secret would be all zero (RFC 7748 6.1, RFC 8031 2.3).
  CHECK(k->compute_shared(std::vector<uint8_t>(32, 0)).code() == StatusCode::kInvalidArgument);
  std::vector<uint8_t> one(32, 0);
  one[0] = 1;
  CHECK(k->compute_shared(one).code() == StatusCode::kInvalidArgument);
  // A point of order 8 (from the list of low-order points libsodium and others reject).
  CHECK(k->compute_shared(from_hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")).code() ==
        StatusCode::kInvalidArgument);
  CHECK(k->compute_shared(std::vector<uint8_t>(31, 9)).code() == StatusCode::kInvalidArgument);
  CHECK(k->shared_secret().empty());
}

// X25519 is computed with libsodium, public values on the Edwards curve mapped to Montgomery with
// GMP (dh_x25519.cpp): OpenSSL's X25519 (a Montgomery ladder) is the independent check.
TEST_CASE("X25519: public values and shared secrets agree with OpenSSL's on random keys") {
  for (int i = 0; i < 1024; ++i) {
    std::vector<uint8_t> ours_private(32);
    REQUIRE(RAND_bytes(ours_private.data(), 32) == 1);
    if (i == 0) ours_private.assign(32, 0xff);  // every bit set: clamping must agree too
    if (i == 1) ours_private.assign(32, 0);     // libsodium's Edwards path refuses it: the ladder's turn
    if (i == 2) ours_private = std::vector<uint8_t>{8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const auto ours = with_private(dh::kCurve25519, to_hex(ours_private));
    EvpPkeyPtr ours_in_openssl(
        EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, ours_private.data(), ours_private.size()));
    REQUIRE(ours_in_openssl);
    std::vector<uint8_t> expected_public(32);
    size_t len = expected_public.size();
    REQUIRE(EVP_PKEY_get_raw_public_key(ours_in_openssl.get(), expected_public.data(), &len) == 1);
    CHECK(ours->public_value() == expected_public);

    EVP_PKEY* raw_theirs = nullptr;
    EvpPkeyCtxPtr gen(EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr));
    REQUIRE((gen && EVP_PKEY_keygen_init(gen.get()) == 1 && EVP_PKEY_keygen(gen.get(), &raw_theirs) == 1));
    EvpPkeyPtr theirs(raw_theirs);
    std::vector<uint8_t> theirs_public(32);
    len = theirs_public.size();
    REQUIRE(EVP_PKEY_get_raw_public_key(theirs.get(), theirs_public.data(), &len) == 1);
    REQUIRE(ours->compute_shared(theirs_public).is_ok());

    EvpPkeyPtr ours_public_in_openssl(
        EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, ours->public_value().data(), 32));
    EvpPkeyCtxPtr derive(EVP_PKEY_CTX_new(theirs.get(), nullptr));
    std::vector<uint8_t> expected_shared(32);
    len = expected_shared.size();
    REQUIRE((derive && EVP_PKEY_derive_init(derive.get()) == 1 &&
             EVP_PKEY_derive_set_peer(derive.get(), ours_public_in_openssl.get()) == 1 &&
             EVP_PKEY_derive(derive.get(), expected_shared.data(), &len) == 1));
    CHECK(to_hex(ours->shared_secret()) == to_hex(expected_shared));
  }
}

TEST_CASE("ECP-256: RFC 5903 section 8.1") {
  const auto i = with_private(dh::kEcp256, "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433");
  const auto r = with_private(dh::kEcp256, "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53");
  // Public value = gix | giy, no point-format octet.
  CHECK(to_hex(i->public_value()) ==
        "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
        "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3");
  CHECK(to_hex(r->public_value()) ==
        "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
        "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab");
  REQUIRE(i->compute_shared(r->public_value()).is_ok());
  REQUIRE(r->compute_shared(i->public_value()).is_ok());
  // g^ir is girx only.
  CHECK(to_hex(i->shared_secret()) == "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de");
  CHECK(i->shared_secret() == r->shared_secret());
}

TEST_CASE("ECP-384: RFC 5903 section 8.2") {
  const auto i = with_private(dh::kEcp384,
                              "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655"
                              "e35b538041e649ee3faef896783ab194");
  const auto r = with_private(dh::kEcp384,
                              "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942"
                              "e0308312916b8ed2960e4bd55a7448fc");
  CHECK(to_hex(i->public_value()) ==
        "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808acb4bdb4c88732aee95f41aa"
        "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a81c");
  CHECK(to_hex(r->public_value()) ==
        "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a0336def96fda41d0774a3571"
        "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e6386c");
  REQUIRE(i->compute_shared(r->public_value()).is_ok());
  REQUIRE(r->compute_shared(i->public_value()).is_ok());
  CHECK(to_hex(i->shared_secret()) ==
        "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a270f59746");
  CHECK(i->shared_secret() == r->shared_secret());
}

TEST_CASE("ECP: agreement, and points off the curve are rejected") {
  check_agreement(dh::kEcp256, 64, 32);
  check_agreement(dh::kEcp384, 96, 48);
  auto a = generated(dh::kEcp256);
  auto b = generated(dh::kEcp256);
  std::vector<uint8_t> off_curve = b->public_value();
  off_curve.back() ^= 1;  // y no longer fits x
  CHECK(a->compute_shared(off_curve).code() == StatusCode::kInvalidArgument);
  CHECK(a->compute_shared(std::vector<uint8_t>(64, 0)).code() == StatusCode::kInvalidArgument);
  // The right length for the other curve.
  CHECK(a->compute_shared(generated(dh::kEcp384)->public_value()).code() == StatusCode::kInvalidArgument);
  CHECK(a->use_private_key(std::vector<uint8_t>(32, 0)).code() == StatusCode::kInvalidArgument);
  CHECK(a->use_private_key(std::vector<uint8_t>(32, 0xff)).code() == StatusCode::kInvalidArgument);  // > order
}

TEST_CASE("MODP: known answers from the RFC 3526 primes, g^ir padded to the prime's length") {
  for (const auto& v : test::load_vectors("modp")) {
    const uint16_t group = static_cast<uint16_t>(v.number("group"));
    INFO("group " << group);
    const auto a = with_private(group, v.text("xa"));
    const auto b = with_private(group, v.text("xb"));
    CHECK(to_hex(a->public_value()) == v.text("pub_a"));
    CHECK(to_hex(b->public_value()) == v.text("pub_b"));
    REQUIRE(a->compute_shared(b->public_value()).is_ok());
    REQUIRE(b->compute_shared(a->public_value()).is_ok());
    // The vector's g^ir starts with a zero octet, which must stay.
    CHECK(v.bytes("shared")[0] == 0);
    CHECK(to_hex(a->shared_secret()) == v.text("shared"));
    CHECK(to_hex(b->shared_secret()) == v.text("shared"));
  }
}

TEST_CASE("MODP: agreement, and 0, 1, p-1 and values >= p are rejected") {
  check_agreement(dh::kModp2048, 256, 256);
  check_agreement(dh::kModp3072, 384, 384);
  for (const auto& v : test::load_vectors("modp")) {
    const uint16_t group = static_cast<uint16_t>(v.number("group"));
    INFO("group " << group);
    const std::vector<uint8_t> p = v.bytes("prime");
    auto k = generated(group);
    auto value = [&](int delta_from_p) {  // p + delta, for small negative or positive delta
      std::vector<uint8_t> out = p;
      int carry = delta_from_p;
      for (size_t i = out.size(); i-- > 0 && carry != 0;) {
        const int sum = out[i] + carry;
        out[i] = static_cast<uint8_t>(sum & 0xff);
        carry = sum >> 8;  // arithmetic shift: -1 for a borrow
      }
      return out;
    };
    std::vector<uint8_t> zero(p.size(), 0);
    std::vector<uint8_t> one(p.size(), 0);
    one.back() = 1;
    std::vector<uint8_t> two(p.size(), 0);
    two.back() = 2;
    CHECK(k->compute_shared(zero).code() == StatusCode::kInvalidArgument);
    CHECK(k->compute_shared(one).code() == StatusCode::kInvalidArgument);
    CHECK(k->compute_shared(value(-1)).message().find("out of range") != std::string::npos);
    CHECK(k->compute_shared(value(0)).code() == StatusCode::kInvalidArgument);
    CHECK(k->compute_shared(value(+1)).code() == StatusCode::kInvalidArgument);
    CHECK(k->compute_shared(std::vector<uint8_t>(p.size(), 0xff)).code() == StatusCode::kInvalidArgument);
    // Unpadded (one octet short) is a length error.
    CHECK(k->compute_shared(std::vector<uint8_t>(p.begin() + 1, p.end())).code() == StatusCode::kInvalidArgument);
    CHECK(k->compute_shared(two).is_ok());  // the generator itself is a valid value
  }
}

TEST_CASE("DH groups: unsupported IDs and use before a key") {
  std::unique_ptr<DhGroup> g;
  CHECK(DhGroup::create(2, &g).code() == StatusCode::kInvalidArgument);    // MODP-1024
  CHECK(DhGroup::create(21, &g).code() == StatusCode::kInvalidArgument);   // ECP-521
  CHECK_FALSE(is_supported_dh_group(dh::kNone));
  for (uint16_t id : {dh::kModp2048, dh::kModp3072, dh::kEcp256, dh::kEcp384, dh::kCurve25519}) {
    CHECK(is_supported_dh_group(id));
  }
  REQUIRE(DhGroup::create(dh::kCurve25519, &g).is_ok());
  CHECK(g->public_value().empty());
  CHECK(g->compute_shared(std::vector<uint8_t>(32, 9)).code() == StatusCode::kInternal);
}

}  // namespace
}  // namespace dpvpn::ike
