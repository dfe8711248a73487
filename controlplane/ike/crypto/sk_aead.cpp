// SK payload with an AEAD cipher: AES-GCM with a 16-octet ICV (RFC 5282) or ChaCha20-Poly1305
// (RFC 7634). Both use a 12-octet nonce = 4-octet salt | 8-octet IV.
#include <array>
#include <climits>
#include <cstring>

#include "ike/crypto/openssl_util.hpp"
#include "ike/crypto/sk_cipher_impl.hpp"

namespace dpvpn::ike {

namespace {

constexpr size_t kSaltSize = 4;
constexpr size_t kIvSize = 8;
constexpr size_t kIcvSize = 16;

class SkAead final : public SkCipher {
 public:
  SkAead(const char* cipher_name, ByteView encr_key)
      : cipher_name_(cipher_name), key_(encr_key.begin(), encr_key.end() - kSaltSize) {
    std::memcpy(salt_.data(), encr_key.data() + key_.size(), kSaltSize);
  }
  ~SkAead() override { OPENSSL_cleanse(salt_.data(), salt_.size()); }

  size_t iv_size() const override { return kIvSize; }
  // No padding: the Pad Length octet (0) is the only addition to the inner payloads.
  size_t sk_body_length(size_t plaintext_len) const override { return kIvSize + plaintext_len + 1 + kIcvSize; }

  Status seal_with_iv(std::span<uint8_t> message, size_t body_offset, ByteView plaintext,
                      ByteView iv) const override {
    if (iv.size() != kIvSize) return Status(StatusCode::kInvalidArgument, "SK payload: AEAD IV is 8 octets");
    if (Status st = check_layout(message, body_offset, sk_body_length(plaintext.size())); !st) return st;
    uint8_t* body = message.data() + body_offset;
    uint8_t* inner = body + kIvSize;
    const size_t inner_len = plaintext.size() + 1;
    std::memcpy(body, iv.data(), kIvSize);
    if (!plaintext.empty()) std::memmove(inner, plaintext.data(), plaintext.size());  // empty: data() may be null
    inner[plaintext.size()] = 0;  // Pad Length

    EvpCipherCtxPtr ctx;
    if (Status st = start(iv, /*encrypt=*/true, ByteView(message.data(), body_offset), &ctx); !st) return st;
    int len = 0;
    int final_len = 0;
    if (EVP_EncryptUpdate(ctx.get(), inner, &len, inner, static_cast<int>(inner_len)) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), inner + len, &final_len) != 1 ||
        static_cast<size_t>(len + final_len) != inner_len ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kIcvSize, inner + inner_len) != 1) {
      return openssl_error("SK payload encryption");
    }
    return Status::ok();
  }

  SkOpenResult open(ByteView message, size_t body_offset, std::vector<uint8_t>* plaintext) const override {
    if (body_offset == 0 || body_offset > message.size() || message.size() > INT_MAX ||
        message.size() - body_offset < kIvSize + 1 + kIcvSize) {
      return SkOpenResult::kMalformed;
    }
    const uint8_t* body = message.data() + body_offset;
    const size_t inner_len = message.size() - body_offset - kIvSize - kIcvSize;
    const uint8_t* ciphertext = body + kIvSize;
    std::array<uint8_t, kIcvSize> icv;
    std::memcpy(icv.data(), ciphertext + inner_len, kIcvSize);

    EvpCipherCtxPtr ctx;
    if (!start(ByteView(body, kIvSize), /*encrypt=*/false, message.first(body_offset), &ctx)) {
      return SkOpenResult::kMalformed;
    }
    std::vector<uint8_t> inner(inner_len);
    int len = 0;
    int final_len = 0;
    if (EVP_DecryptUpdate(ctx.get(), inner.data(), &len, ciphertext, static_cast<int>(inner_len)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kIcvSize, icv.data()) != 1) {
      return SkOpenResult::kMalformed;
    }
    if (EVP_DecryptFinal_ex(ctx.get(), inner.data() + len, &final_len) != 1) return SkOpenResult::kIcvMismatch;
    const size_t pad_length = inner.back();
    if (pad_length + 1 > inner.size()) return SkOpenResult::kMalformed;
    inner.resize(inner.size() - pad_length - 1);
    *plaintext = std::move(inner);
    return SkOpenResult::kOk;
  }

 private:
  // A context keyed with nonce = salt | iv that has taken the associated data.
  Status start(ByteView iv, bool encrypt, ByteView aad, EvpCipherCtxPtr* out) const {
    const EVP_CIPHER* cipher = fetched_cipher(cipher_name_);
    EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    if (!cipher || !ctx) return openssl_error("SK payload cipher");
    std::array<uint8_t, kSaltSize + kIvSize> nonce;
    std::memcpy(nonce.data(), salt_.data(), kSaltSize);
    std::memcpy(nonce.data() + kSaltSize, iv.data(), kIvSize);
    int len = 0;
    if (EVP_CipherInit_ex2(ctx.get(), cipher, key_.data(), nonce.data(), encrypt ? 1 : 0, nullptr) != 1 ||
        EVP_CipherUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
      return openssl_error("SK payload cipher setup");
    }
    *out = std::move(ctx);
    return Status::ok();
  }

  const char* cipher_name_;
  SecureBytes key_;
  std::array<uint8_t, kSaltSize> salt_;
};

}  // namespace

Status make_sk_aead(const IkeSuite& suite, ByteView encr_key, std::unique_ptr<SkCipher>* out) {
  const char* name = suite.encr == encr::kChaCha20Poly1305 ? "ChaCha20-Poly1305"
                     : suite.encr_key_bits == 128          ? "AES-128-GCM"
                                                           : "AES-256-GCM";
  *out = std::make_unique<SkAead>(name, encr_key);
  return Status::ok();
}

}  // namespace dpvpn::ike
