#include "ike/crypto/dh_group.hpp"

#include <string>

#include "ike/crypto/dh_family.hpp"

namespace dpvpn::ike {

namespace {
const DhFamily* family_of(uint16_t group_id) {
  if (const DhFamily* f = x25519_family(group_id)) return f;
  if (const DhFamily* f = ecp_family(group_id)) return f;
  return modp_family(group_id);
}
}  // namespace

bool is_supported_dh_group(uint16_t group_id) { return family_of(group_id) != nullptr; }

Status DhGroup::create(uint16_t group_id, std::unique_ptr<DhGroup>* out) {
  const DhFamily* family = family_of(group_id);
  if (family == nullptr) {
    return Status(StatusCode::kInvalidArgument, "unsupported Diffie-Hellman group " + std::to_string(group_id));
  }
  out->reset(new DhGroup(group_id, *family));
  return Status::ok();
}

DhGroup::~DhGroup() { EVP_PKEY_free(key_); }

size_t DhGroup::public_size() const { return family_.public_size(); }

Status DhGroup::set_key(EVP_PKEY* key) {
  EvpPkeyPtr owned(key);
  std::vector<uint8_t> pub;
  if (Status st = family_.public_value(key, &pub); !st) return st;
  EVP_PKEY_free(key_);
  key_ = owned.release();
  public_ = std::move(pub);
  shared_.clear();
  return Status::ok();
}

Status DhGroup::generate() {
  EvpPkeyPtr key;
  if (Status st = family_.generate(&key); !st) return st;
  return set_key(key.release());
}

Status DhGroup::use_private_key(ByteView private_key) {
  EvpPkeyPtr key;
  if (Status st = family_.from_private(private_key, &key); !st) return st;
  return set_key(key.release());
}

Status DhGroup::compute_shared(ByteView peer_public) {
  if (key_ == nullptr) return Status(StatusCode::kInternal, "DH group " + std::to_string(id_) + ": no key yet");
  if (peer_public.size() != public_size()) {
    return Status(StatusCode::kInvalidArgument, "DH group " + std::to_string(id_) + ": peer value has " +
                                                    std::to_string(peer_public.size()) + " octets, expected " +
                                                    std::to_string(public_size()));
  }
  EvpPkeyPtr peer;
  if (Status st = family_.peer_key(peer_public, &peer); !st) return st;
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_, nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) return openssl_error("EVP_PKEY_derive_init");
  if (Status st = family_.prepare_derive(ctx.get()); !st) return st;
  // validate_peer = 1: OpenSSL's full public-key check on top of the family's own.
  if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 1) != 1) {
    return openssl_error("DH group " + std::to_string(id_) + ": peer value rejected", StatusCode::kInvalidArgument);
  }
  size_t len = 0;
  if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) return openssl_error("EVP_PKEY_derive (size)");
  SecureBytes shared(len);
  // X25519 fails here on a low-order peer point (all-zero result, RFC 7748 6.1).
  if (EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1) {
    return openssl_error("DH group " + std::to_string(id_) + ": no shared secret with the peer value",
                         StatusCode::kInvalidArgument);
  }
  shared.resize(len);
  shared_ = std::move(shared);
  return Status::ok();
}

}  // namespace dpvpn::ike
