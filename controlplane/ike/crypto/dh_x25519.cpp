// Curve25519 for IKEv2 (RFC 8031): public values and g^ir are the 32 octets of X25519 (RFC 7748).
// Computed with libsodium, not OpenSSL: OpenSSL 3.0's X25519 key generation costs more than a whole
// derivation (its fixed-base path is generic C) and every EVP_PKEY it makes walks the provider's
// name map; libsodium's keygen and derive together take ~60 us here against OpenSSL's ~75 (with the
// EVP_PKEY overhead, ~85), the largest item of an IKE setup. test_ike_crypto_dh checks libsodium
// against RFC 7748's vectors and against OpenSSL's X25519 on random keys.
#include <sodium.h>


#include "ike/crypto/dh_family.hpp"
#include "ike/crypto/random.hpp"
#include "ike/crypto/transforms.hpp"

namespace dpvpn::ike {

namespace {

constexpr size_t kSize = crypto_scalarmult_curve25519_BYTES;
static_assert(kSize == 32 && crypto_scalarmult_curve25519_SCALARBYTES == 32);

// sodium_init picks the CPU-specific implementations; safe to call again and from any thread.
Status libsodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready ? Status::ok() : Status(StatusCode::kInternal, "libsodium initialisation failed");
}

class X25519Key final : public DhKey {
 public:
  // `private_key` has 32 octets (clamped by the scalar multiplication, RFC 7748 5).
  static Status create(ByteView private_key, std::unique_ptr<DhKey>* out) {
    if (Status st = libsodium_ready(); !st) return st;
    auto key = std::unique_ptr<X25519Key>(new X25519Key(private_key));
    if (crypto_scalarmult_curve25519_base(key->public_.data(), key->private_.data()) != 0) {
      return Status(StatusCode::kInternal, "X25519 public value");
    }
    *out = std::move(key);
    return Status::ok();
  }

  const std::vector<uint8_t>& public_value() const override { return public_; }

  Status derive(ByteView peer_public, SecureBytes* shared) const override {
    if (peer_public.size() != kSize) return Status(StatusCode::kInvalidArgument, "X25519 peer value is 32 octets");
    SecureBytes out(kSize);
    // Fails on a low-order peer point (all-zero result, RFC 7748 6.1).
    if (crypto_scalarmult_curve25519(out.data(), private_.data(), peer_public.data()) != 0) {
      return Status(StatusCode::kInvalidArgument, "X25519: no shared secret with the peer value (low-order point)");
    }
    *shared = std::move(out);
    return Status::ok();
  }

 private:
  explicit X25519Key(ByteView private_key) : private_(secure_copy(private_key)), public_(kSize) {}

  SecureBytes private_;  // wiped when freed
  std::vector<uint8_t> public_;
};

class X25519Family final : public DhFamily {
 public:
  size_t public_size() const override { return kSize; }

  Status generate(std::unique_ptr<DhKey>* key) const override {
    SecureBytes private_key(kSize);
    if (Status st = random_bytes(private_key); !st) return st;
    return X25519Key::create(private_key, key);
  }

  Status from_private(ByteView private_key, std::unique_ptr<DhKey>* key) const override {
    if (private_key.size() != kSize) return Status(StatusCode::kInvalidArgument, "X25519 private key is 32 octets");
    return X25519Key::create(private_key, key);
  }
};

}  // namespace

const DhFamily* x25519_family(uint16_t group_id) {
  static const X25519Family family;
  return group_id == dh::kCurve25519 ? &family : nullptr;
}

}  // namespace dpvpn::ike
