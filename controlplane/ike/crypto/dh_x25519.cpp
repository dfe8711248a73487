// Curve25519 for IKEv2 (RFC 8031): public values and g^ir are the 32 octets of X25519 (RFC 7748).
// Computed with libsodium, not OpenSSL: OpenSSL 3.0's X25519 key generation costs more than a whole
// derivation (its fixed-base path is generic C) and every EVP_PKEY it makes walks the provider's
// name map. With libsodium a key generation and a shared secret take ~16 + ~30 us here (below),
// against OpenSSL's ~39 + ~35 (plus the EVP_PKEY overhead): the largest item of an IKE setup.
// test_ike_crypto_dh checks them against RFC 7748's vectors and OpenSSL's X25519 on random keys.
//
// The public value is computed on the twisted Edwards curve: libsodium's fixed-base comb (the one
// Ed25519 signs with, constant time) computes the same multiple of the base point in ~15 us where
// the Montgomery ladder takes ~28 us, and the birational map of RFC 7748 4.1, u = (1 + y) / (1 - y),
// turns it into the X25519 public value (BoringSSL makes X25519 keys the same way). The map's one
// field inversion runs on GMP in ~1 us: variable time, which is fine because y is public (it is a
// function of the public value u).
#include <gmp.h>
#include <sodium.h>

#include <cstring>

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

// GMP numbers of one thread, kept so that a key generation allocates nothing.
struct FieldScratch {
  mpz_t p, y, num, den;
  FieldScratch() {
    mpz_inits(p, y, num, den, nullptr);
    mpz_ui_pow_ui(p, 2, 255);
    mpz_sub_ui(p, p, 19);
  }
  ~FieldScratch() { mpz_clears(p, y, num, den, nullptr); }
  FieldScratch(const FieldScratch&) = delete;
  FieldScratch& operator=(const FieldScratch&) = delete;
};

// The X25519 public value of `scalar`: clamp(scalar) * B on Edwards25519 (libsodium clamps as RFC
// 7748 does), mapped to its Montgomery u-coordinate. False if libsodium refuses (an all-zero
// scalar) or the point has y = 1 (the identity, which a clamped scalar never gives).
bool public_value_by_comb(const uint8_t* scalar, uint8_t* u_out) {
  uint8_t edwards[kSize];
  if (crypto_scalarmult_ed25519_base(edwards, scalar) != 0) return false;
  edwards[kSize - 1] &= 0x7f;  // the top bit is the sign of x; y is the rest, little-endian
  thread_local FieldScratch f;
  mpz_import(f.y, kSize, -1, 1, 0, 0, edwards);
  mpz_add_ui(f.num, f.y, 1);  // 1 + y (< 2p: reduced by the product's mod below)
  mpz_ui_sub(f.den, 1, f.y);  // 1 - y, in (-p, 1]
  mpz_mod(f.den, f.den, f.p);
  if (mpz_invert(f.den, f.den, f.p) == 0) return false;
  mpz_mul(f.num, f.num, f.den);
  mpz_mod(f.num, f.num, f.p);
  std::memset(u_out, 0, kSize);
  mpz_export(u_out, nullptr, -1, 1, 0, 0, f.num);  // little-endian; < p < 2^255, so at most 32 octets
  return true;
}

class X25519Key final : public DhKey {
 public:
  // `private_key` has 32 octets (clamped by the scalar multiplication, RFC 7748 5).
  static Status create(ByteView private_key, std::unique_ptr<DhKey>* out) {
    if (Status st = libsodium_ready(); !st) return st;
    auto key = std::unique_ptr<X25519Key>(new X25519Key(private_key));
    if (!public_value_by_comb(key->private_.data(), key->public_.data()) &&
        crypto_scalarmult_curve25519_base(key->public_.data(), key->private_.data()) != 0) {
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
