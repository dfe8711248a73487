// SK payload with AES-CBC and HMAC-SHA2 integrity (RFC 7296 3.14, RFC 3602, RFC 4868).
#include <openssl/crypto.h>

#include <climits>
#include <cstring>

#include "ike/crypto/openssl_util.hpp"
#include "ike/crypto/prf.hpp"
#include "ike/crypto/sk_cipher_impl.hpp"

namespace dpvpn::ike {

namespace {

constexpr size_t kBlockSize = 16;  // also the IV size

class SkCbcHmac final : public SkCipher {
 public:
  SkCbcHmac(const char* cipher_name, const Prf& hmac, size_t icv_size, ByteView encr_key, ByteView integ_key)
      : cipher_name_(cipher_name),
        hmac_(hmac),
        icv_size_(icv_size),
        encr_key_(encr_key.begin(), encr_key.end()),
        integ_key_(integ_key.begin(), integ_key.end()) {}

  size_t iv_size() const override { return kBlockSize; }
  size_t sk_body_length(size_t plaintext_len) const override {
    return kBlockSize + padded_length(plaintext_len) + icv_size_;
  }

  Status seal_with_iv(std::span<uint8_t> message, size_t body_offset, ByteView plaintext,
                      ByteView iv) const override {
    if (iv.size() != kBlockSize) return Status(StatusCode::kInvalidArgument, "SK payload: CBC IV is 16 octets");
    if (Status st = check_layout(message, body_offset, sk_body_length(plaintext.size())); !st) return st;
    uint8_t* body = message.data() + body_offset;
    uint8_t* inner = body + kBlockSize;
    const size_t inner_len = padded_length(plaintext.size());
    const size_t pad_length = inner_len - plaintext.size() - 1;
    std::memcpy(body, iv.data(), kBlockSize);
    if (!plaintext.empty()) std::memmove(inner, plaintext.data(), plaintext.size());  // empty: data() may be null
    std::memset(inner + plaintext.size(), 0, pad_length);
    inner[inner_len - 1] = static_cast<uint8_t>(pad_length);

    if (Status st = cbc(/*encrypt=*/true, iv.data(), inner, inner_len, inner); !st) return st;
    const size_t covered = body_offset + kBlockSize + inner_len;
    return icv(ByteView(message.data(), covered), message.data() + covered);
  }

  SkOpenResult open(ByteView message, size_t body_offset, std::vector<uint8_t>* plaintext) const override {
    if (body_offset == 0 || body_offset > message.size() || message.size() > INT_MAX ||
        message.size() - body_offset < kBlockSize + kBlockSize + icv_size_) {
      return SkOpenResult::kMalformed;
    }
    const size_t inner_len = message.size() - body_offset - kBlockSize - icv_size_;
    if (inner_len % kBlockSize != 0) return SkOpenResult::kMalformed;
    const size_t covered = message.size() - icv_size_;
    std::vector<uint8_t> expected(icv_size_);
    if (!icv(message.first(covered), expected.data())) return SkOpenResult::kMalformed;
    if (CRYPTO_memcmp(expected.data(), message.data() + covered, icv_size_) != 0) return SkOpenResult::kIcvMismatch;

    const uint8_t* iv = message.data() + body_offset;
    std::vector<uint8_t> inner(inner_len);
    if (!cbc(/*encrypt=*/false, iv, iv + kBlockSize, inner_len, inner.data())) return SkOpenResult::kMalformed;
    const size_t pad_length = inner.back();
    if (pad_length + 1 > inner.size()) return SkOpenResult::kMalformed;
    inner.resize(inner.size() - pad_length - 1);
    *plaintext = std::move(inner);
    return SkOpenResult::kOk;
  }

 private:
  // Payloads + Pad Length octet, rounded up to the block.
  static size_t padded_length(size_t plaintext_len) {
    return (plaintext_len + 1 + kBlockSize - 1) / kBlockSize * kBlockSize;
  }

  Status cbc(bool encrypt, const uint8_t* iv, const uint8_t* in, size_t len, uint8_t* out) const {
    const EVP_CIPHER* cipher = fetched_cipher(cipher_name_);
    EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    int n = 0;
    int final_n = 0;
    if (!cipher || !ctx ||
        EVP_CipherInit_ex2(ctx.get(), cipher, encr_key_.data(), iv, encrypt ? 1 : 0, nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1 ||  // IKE's own padding is already in place
        EVP_CipherUpdate(ctx.get(), out, &n, in, static_cast<int>(len)) != 1 ||
        EVP_CipherFinal_ex(ctx.get(), out + n, &final_n) != 1 || static_cast<size_t>(n + final_n) != len) {
      return openssl_error("SK payload AES-CBC");
    }
    return Status::ok();
  }

  // The HMAC of `covered`, truncated to the ICV size, into `out`.
  Status icv(ByteView covered, uint8_t* out) const {
    SecureBytes full;
    if (Status st = hmac_.compute(integ_key_, {covered}, &full); !st) return st;
    std::memcpy(out, full.data(), icv_size_);
    return Status::ok();
  }

  const char* cipher_name_;
  Prf hmac_;  // the PRF with the same HMAC: AUTH_HMAC_SHA2_256_128 = PRF_HMAC_SHA2_256 cut to 128 bits
  size_t icv_size_;
  SecureBytes encr_key_;
  SecureBytes integ_key_;
};

}  // namespace

Status make_sk_cbc_hmac(const IkeSuite& suite, ByteView encr_key, ByteView integ_key, std::unique_ptr<SkCipher>* out) {
  const char* cipher = suite.encr_key_bits == 128 ? "AES-128-CBC" : "AES-256-CBC";
  const std::optional<Prf> hmac = Prf::from_id(prf_for_integ(suite.integ));
  if (!hmac) return Status(StatusCode::kInvalidArgument, "SK cipher: unsupported integrity algorithm");
  *out = std::make_unique<SkCbcHmac>(cipher, *hmac, integ_icv_size(suite.integ), encr_key, integ_key);
  return Status::ok();
}

}  // namespace dpvpn::ike
