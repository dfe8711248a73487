#include "ike/crypto/auth.hpp"

#include <openssl/crypto.h>

#include <string_view>

namespace dpvpn::ike {

namespace {
constexpr std::string_view kKeyPad = "Key Pad for IKEv2";  // 17 octets, no terminating NUL
}  // namespace

Status auth_signed_octets(const Prf& prf, ByteView sk_p, ByteView real_message, ByteView peer_nonce,
                          ByteView id_payload_body, std::vector<uint8_t>* out) {
  SecureBytes maced_id;
  if (Status st = prf.compute(sk_p, {id_payload_body}, &maced_id); !st) return st;
  std::vector<uint8_t> octets;
  octets.reserve(real_message.size() + peer_nonce.size() + maced_id.size());
  octets.insert(octets.end(), real_message.begin(), real_message.end());
  octets.insert(octets.end(), peer_nonce.begin(), peer_nonce.end());
  octets.insert(octets.end(), maced_id.begin(), maced_id.end());
  *out = std::move(octets);
  return Status::ok();
}

Status psk_auth_data(const Prf& prf, ByteView psk, ByteView signed_octets, std::vector<uint8_t>* out) {
  SecureBytes key;
  const ByteView pad(reinterpret_cast<const uint8_t*>(kKeyPad.data()), kKeyPad.size());
  if (Status st = prf.compute(psk, {pad}, &key); !st) return st;
  SecureBytes auth;
  if (Status st = prf.compute(key, {signed_octets}, &auth); !st) return st;
  out->assign(auth.begin(), auth.end());
  return Status::ok();
}

Status verify_psk_auth_data(const Prf& prf, ByteView psk, ByteView signed_octets, ByteView received) {
  std::vector<uint8_t> expected;
  if (Status st = psk_auth_data(prf, psk, signed_octets, &expected); !st) return st;
  if (received.size() != expected.size() || CRYPTO_memcmp(received.data(), expected.data(), expected.size()) != 0) {
    return Status(StatusCode::kInvalidArgument, "AUTH mismatch");
  }
  return Status::ok();
}

}  // namespace dpvpn::ike
