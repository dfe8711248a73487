// Curve25519 for IKEv2 (RFC 8031): public values and g^ir are the 32 octets of X25519 (RFC 7748).
#include <openssl/core_names.h>

#include "ike/crypto/dh_family.hpp"
#include "ike/crypto/transforms.hpp"

namespace dpvpn::ike {

namespace {

constexpr size_t kSize = 32;

// An X25519 context initialised for one operation (key generation, import), made once per thread:
// creating one fetches the key manager by name, a tenth of the cost of the key itself.
template <int (*Init)(EVP_PKEY_CTX*)>
EVP_PKEY_CTX* x25519_context() {
  thread_local EvpPkeyCtxPtr ctx = [] {
    EvpPkeyCtxPtr c(EVP_PKEY_CTX_new_from_name(nullptr, "X25519", nullptr));
    if (c && Init(c.get()) != 1) c.reset();
    return c;
  }();
  return ctx.get();
}

class X25519Family final : public DhFamily {
 public:
  size_t public_size() const override { return kSize; }

  Status generate(EvpPkeyPtr* key) const override {
    EVP_PKEY_CTX* ctx = x25519_context<EVP_PKEY_keygen_init>();
    EVP_PKEY* generated = nullptr;
    if (ctx == nullptr || EVP_PKEY_generate(ctx, &generated) != 1) return openssl_error("X25519 key generation");
    key->reset(generated);
    return *key ? Status::ok() : openssl_error("X25519 key generation");
  }

  Status from_private(ByteView private_key, EvpPkeyPtr* key) const override {
    if (private_key.size() != kSize) return Status(StatusCode::kInvalidArgument, "X25519 private key is 32 octets");
    key->reset(EVP_PKEY_new_raw_private_key_ex(nullptr, "X25519", nullptr, private_key.data(), kSize));
    return *key ? Status::ok() : openssl_error("X25519 private key");
  }

  Status public_value(EVP_PKEY* key, std::vector<uint8_t>* out) const override {
    std::vector<uint8_t> pub(kSize);
    size_t len = pub.size();
    if (EVP_PKEY_get_raw_public_key(key, pub.data(), &len) != 1 || len != kSize) {
      return openssl_error("X25519 public key");
    }
    *out = std::move(pub);
    return Status::ok();
  }

  Status peer_key(ByteView peer_public, EvpPkeyPtr* peer) const override {
    if (peer_public.size() != kSize) return Status(StatusCode::kInvalidArgument, "X25519 peer value is 32 octets");
    EVP_PKEY_CTX* ctx = x25519_context<EVP_PKEY_fromdata_init>();
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<uint8_t*>(peer_public.data()), kSize),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY* imported = nullptr;
    if (ctx == nullptr || EVP_PKEY_fromdata(ctx, &imported, EVP_PKEY_PUBLIC_KEY, params) != 1) {
      return openssl_error("X25519 peer value", StatusCode::kInvalidArgument);
    }
    peer->reset(imported);
    return Status::ok();
  }
};

}  // namespace

const DhFamily* x25519_family(uint16_t group_id) {
  static const X25519Family family;
  return group_id == dh::kCurve25519 ? &family : nullptr;
}

}  // namespace dpvpn::ike
