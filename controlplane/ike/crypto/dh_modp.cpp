// MODP groups for IKEv2 (RFC 3526 primes, OpenSSL's named groups "modp_2048" and "modp_3072"):
// public values and g^ir are zero-padded to the prime's length (RFC 7296 2.14).
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/param_build.h>

#include <string>

#include "ike/crypto/dh_family.hpp"
#include "ike/crypto/transforms.hpp"

namespace dpvpn::ike {

namespace {

using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, OsslDeleter<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, OsslDeleter<OSSL_PARAM_free>>;

class ModpFamily final : public EvpDhFamily {
 public:
  ModpFamily(const char* group, size_t prime_size) : group_(group), prime_size_(prime_size) {}

  size_t public_size() const override { return prime_size_; }

  Status generate_pkey(EvpPkeyPtr* key) const override {
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group_), 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY* raw = nullptr;
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_params(ctx.get(), params) != 1 ||
        EVP_PKEY_generate(ctx.get(), &raw) != 1) {
      return openssl_error(std::string(group_) + " key generation");
    }
    key->reset(raw);
    return Status::ok();
  }

  Status pkey_from_private(ByteView private_key, EvpPkeyPtr* key) const override {
    BignumPtr p, g;
    if (Status st = domain(&p, &g); !st) return st;
    BignumPtr x(BN_bin2bn(private_key.data(), static_cast<int>(private_key.size()), nullptr));
    BignumPtr y(BN_new());
    BnCtxPtr bn_ctx(BN_CTX_new());
    if (!x || !y || !bn_ctx || BN_mod_exp(y.get(), g.get(), x.get(), p.get(), bn_ctx.get()) != 1) {
      return openssl_error("MODP public value");
    }
    return import(y.get(), x.get(), key);
  }

  Status public_value(EVP_PKEY* key, std::vector<uint8_t>* out) const override {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PUB_KEY, &raw) != 1) return openssl_error("MODP public value");
    BignumPtr y(raw);
    std::vector<uint8_t> pub(prime_size_);
    if (BN_bn2binpad(y.get(), pub.data(), static_cast<int>(pub.size())) < 0) return openssl_error("MODP public value");
    *out = std::move(pub);
    return Status::ok();
  }

  Status peer_key(ByteView peer_public, EvpPkeyPtr* peer) const override {
    BignumPtr p, g;
    if (Status st = domain(&p, &g); !st) return st;
    BignumPtr y(BN_bin2bn(peer_public.data(), static_cast<int>(peer_public.size()), nullptr));
    BignumPtr p_minus_1(BN_dup(p.get()));
    if (!y || !p_minus_1 || BN_sub_word(p_minus_1.get(), 1) != 1) return openssl_error("MODP peer value");
    // 1 < y < p-1: 0, 1 and p-1 would force g^ir into {0, 1, p-1} (RFC 7296 5.12 / SP 800-56A).
    if (BN_cmp(y.get(), BN_value_one()) <= 0 || BN_cmp(y.get(), p_minus_1.get()) >= 0) {
      return Status(StatusCode::kInvalidArgument, std::string(group_) + ": peer value out of range (1, p-1)");
    }
    return import(y.get(), nullptr, peer);
  }

  Status prepare_derive(EVP_PKEY_CTX* ctx) const override {
    if (EVP_PKEY_CTX_set_dh_pad(ctx, 1) != 1) return openssl_error("EVP_PKEY_CTX_set_dh_pad");
    return Status::ok();
  }

 private:
  // The group's prime and generator, as OpenSSL knows them by name.
  Status domain(BignumPtr* p, BignumPtr* g) const {
    EvpPkeyPtr params;
    if (Status st = import(nullptr, nullptr, &params); !st) return st;
    BIGNUM* raw_p = nullptr;
    BIGNUM* raw_g = nullptr;
    if (EVP_PKEY_get_bn_param(params.get(), OSSL_PKEY_PARAM_FFC_P, &raw_p) != 1 ||
        EVP_PKEY_get_bn_param(params.get(), OSSL_PKEY_PARAM_FFC_G, &raw_g) != 1) {
      BN_free(raw_p);
      return openssl_error(std::string(group_) + " domain parameters");
    }
    p->reset(raw_p);
    g->reset(raw_g);
    return Status::ok();
  }

  // The named group with an optional public value y and private exponent x.
  Status import(const BIGNUM* y, const BIGNUM* x, EvpPkeyPtr* key) const {
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group_, 0) != 1 ||
        (y != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, y) != 1) ||
        (x != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, x) != 1)) {
      return openssl_error("DH key parameters");
    }
    ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
    const int selection = x != nullptr ? EVP_PKEY_KEYPAIR : y != nullptr ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEY_PARAMETERS;
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) {
      return openssl_error("DH key import");
    }
    key->reset(raw);
    return Status::ok();
  }

  const char* group_;
  size_t prime_size_;
};

}  // namespace

const DhFamily* modp_family(uint16_t group_id) {
  static const ModpFamily modp2048("modp_2048", 256);
  static const ModpFamily modp3072("modp_3072", 384);
  switch (group_id) {
    case dh::kModp2048: return &modp2048;
    case dh::kModp3072: return &modp3072;
  }
  return nullptr;
}

}  // namespace dpvpn::ike
