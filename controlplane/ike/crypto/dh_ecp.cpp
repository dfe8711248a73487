// ECP groups for IKEv2 (RFC 5903): public value x | y (no point-format octet), g^ir = x.
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include <string>

#include "ike/crypto/dh_family.hpp"
#include "ike/crypto/transforms.hpp"

namespace dpvpn::ike {

namespace {

constexpr uint8_t kUncompressed = 0x04;  // SEC1 point format, what OpenSSL imports and exports

using EcGroupPtr = std::unique_ptr<EC_GROUP, OsslDeleter<EC_GROUP_free>>;
using EcPointPtr = std::unique_ptr<EC_POINT, OsslDeleter<EC_POINT_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, OsslDeleter<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, OsslDeleter<OSSL_PARAM_free>>;

class EcpFamily final : public EvpDhFamily {
 public:
  EcpFamily(const char* curve, int nid, size_t field_size) : curve_(curve), nid_(nid), field_size_(field_size) {}

  size_t public_size() const override { return 2 * field_size_; }

  Status generate_pkey(EvpPkeyPtr* key) const override {
    key->reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve_));
    return *key ? Status::ok() : openssl_error(std::string(curve_) + " key generation");
  }

  Status pkey_from_private(ByteView private_key, EvpPkeyPtr* key) const override {
    // OpenSSL imports an EC key pair only with its public point, so compute it: Q = d * G.
    EcGroupPtr group(EC_GROUP_new_by_curve_name(nid_));
    BnCtxPtr bn_ctx(BN_CTX_new());
    BignumPtr d(BN_bin2bn(private_key.data(), static_cast<int>(private_key.size()), nullptr));
    if (!group || !bn_ctx || !d) return openssl_error("EC private key");
    if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(group.get())) >= 0) {
      return Status(StatusCode::kInvalidArgument, std::string(curve_) + " private key out of range");
    }
    EcPointPtr q(EC_POINT_new(group.get()));
    std::vector<uint8_t> encoded(1 + public_size());
    if (!q || EC_POINT_mul(group.get(), q.get(), d.get(), nullptr, nullptr, bn_ctx.get()) != 1 ||
        EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, encoded.data(), encoded.size(),
                           bn_ctx.get()) != encoded.size()) {
      return openssl_error("EC public point");
    }
    return import(encoded, d.get(), key);
  }

  Status public_value(EVP_PKEY* key, std::vector<uint8_t>* out) const override {
    std::vector<uint8_t> encoded(1 + public_size());
    size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, encoded.data(), encoded.size(),
                                        &len) != 1 ||
        len != encoded.size() || encoded[0] != kUncompressed) {
      return openssl_error("EC public point");
    }
    out->assign(encoded.begin() + 1, encoded.end());
    return Status::ok();
  }

  Status peer_key(ByteView peer_public, EvpPkeyPtr* peer) const override {
    std::vector<uint8_t> encoded;
    encoded.reserve(1 + peer_public.size());
    encoded.push_back(kUncompressed);
    encoded.insert(encoded.end(), peer_public.begin(), peer_public.end());
    // The import decodes the point and fails unless it lies on the curve.
    if (Status st = import(encoded, nullptr, peer); !st) {
      return Status(StatusCode::kInvalidArgument, std::string(curve_) + ": peer value is not a point on the curve");
    }
    return Status::ok();
  }

 private:
  // A key from the encoded public point and, for a key pair, the private scalar.
  Status import(const std::vector<uint8_t>& encoded_point, const BIGNUM* d, EvpPkeyPtr* key) const {
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve_, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, encoded_point.data(),
                                         encoded_point.size()) != 1 ||
        (d != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d) != 1)) {
      return openssl_error("EC key parameters");
    }
    ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* raw = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &raw, d != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
      return openssl_error("EC key import", StatusCode::kInvalidArgument);
    }
    key->reset(raw);
    return Status::ok();
  }

  const char* curve_;
  int nid_;
  size_t field_size_;
};

}  // namespace

const DhFamily* ecp_family(uint16_t group_id) {
  static const EcpFamily p256("P-256", NID_X9_62_prime256v1, 32);
  static const EcpFamily p384("P-384", NID_secp384r1, 48);
  switch (group_id) {
    case dh::kEcp256: return &p256;
    case dh::kEcp384: return &p384;
  }
  return nullptr;
}

}  // namespace dpvpn::ike
