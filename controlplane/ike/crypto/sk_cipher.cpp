#include "ike/crypto/sk_cipher.hpp"

#include <string>

#include "ike/crypto/random.hpp"
#include "ike/crypto/sk_cipher_impl.hpp"

namespace dpvpn::ike {

Status SkCipher::create(const IkeSuite& suite, ByteView encr_key, ByteView integ_key, std::unique_ptr<SkCipher>* out) {
  if (suite.encr_key_size() == 0 || encr_key.size() != suite.encr_key_size()) {
    return Status(StatusCode::kInvalidArgument, "SK cipher: unsupported algorithm or wrong key length " +
                                                    std::to_string(encr_key.size()));
  }
  if (is_aead(suite.encr)) {
    if (!integ_key.empty()) return Status(StatusCode::kInvalidArgument, "SK cipher: integrity key with an AEAD");
    return make_sk_aead(suite, encr_key, out);
  }
  if (suite.integ_key_size() == 0 || integ_key.size() != suite.integ_key_size()) {
    return Status(StatusCode::kInvalidArgument, "SK cipher: unsupported integrity or wrong integrity key length");
  }
  return make_sk_cbc_hmac(suite, encr_key, integ_key, out);
}

Status SkCipher::seal(std::span<uint8_t> message, size_t body_offset, ByteView plaintext) const {
  std::vector<uint8_t> iv(iv_size());
  if (Status st = random_bytes(iv); !st) return st;
  return seal_with_iv(message, body_offset, plaintext, iv);
}

Status SkCipher::check_layout(std::span<uint8_t> message, size_t body_offset, size_t body_length) {
  if (body_offset == 0 || body_offset > message.size() || message.size() - body_offset != body_length) {
    return Status(StatusCode::kInvalidArgument, "SK payload: message has " + std::to_string(message.size()) +
                                                    " octets, body at " + std::to_string(body_offset) + " needs " +
                                                    std::to_string(body_length));
  }
  return Status::ok();
}

}  // namespace dpvpn::ike
