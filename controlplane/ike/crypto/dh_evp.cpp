// The key pair and g^ir derivation of the EVP_PKEY families (ECP, MODP).
#include <utility>

#include "ike/crypto/dh_family.hpp"

namespace dpvpn::ike {

namespace {

class EvpDhKey final : public DhKey {
 public:
  EvpDhKey(const EvpDhFamily& family, EvpPkeyPtr key, std::vector<uint8_t> pub)
      : family_(family), key_(std::move(key)), public_(std::move(pub)) {}

  const std::vector<uint8_t>& public_value() const override { return public_; }

  Status derive(ByteView peer_public, SecureBytes* shared) const override {
    EvpPkeyPtr peer;
    if (Status st = family_.peer_key(peer_public, &peer); !st) return st;
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) return openssl_error("EVP_PKEY_derive_init");
    if (Status st = family_.prepare_derive(ctx.get()); !st) return st;
    // validate_peer = 1: OpenSSL's full public-key check on top of the family's own.
    if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 1) != 1) {
      return openssl_error("peer value rejected", StatusCode::kInvalidArgument);
    }
    size_t len = 0;
    if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) return openssl_error("EVP_PKEY_derive (size)");
    SecureBytes out(len);
    if (EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1) {
      return openssl_error("no shared secret with the peer value", StatusCode::kInvalidArgument);
    }
    out.resize(len);
    *shared = std::move(out);
    return Status::ok();
  }

 private:
  const EvpDhFamily& family_;
  EvpPkeyPtr key_;  // freeing it wipes the private part
  std::vector<uint8_t> public_;
};

}  // namespace

Status EvpDhFamily::wrap(EvpPkeyPtr pkey, std::unique_ptr<DhKey>* key) const {
  std::vector<uint8_t> pub;
  if (Status st = public_value(pkey.get(), &pub); !st) return st;
  *key = std::make_unique<EvpDhKey>(*this, std::move(pkey), std::move(pub));
  return Status::ok();
}

Status EvpDhFamily::generate(std::unique_ptr<DhKey>* key) const {
  EvpPkeyPtr pkey;
  if (Status st = generate_pkey(&pkey); !st) return st;
  return wrap(std::move(pkey), key);
}

Status EvpDhFamily::from_private(ByteView private_key, std::unique_ptr<DhKey>* key) const {
  EvpPkeyPtr pkey;
  if (Status st = pkey_from_private(private_key, &pkey); !st) return st;
  return wrap(std::move(pkey), key);
}

}  // namespace dpvpn::ike
