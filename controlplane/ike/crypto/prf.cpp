#include "ike/crypto/prf.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "ike/crypto/openssl_util.hpp"
#include "ike/crypto/suite.hpp"
#include "ike/crypto/transforms.hpp"

namespace dpvpn::ike {

std::optional<Prf> Prf::from_id(uint16_t prf_id) {
  switch (prf_id) {
    case prf::kHmacSha1: return Prf(prf_id, "SHA1", prf_output_size(prf_id));
    case prf::kHmacSha256: return Prf(prf_id, "SHA256", prf_output_size(prf_id));
    case prf::kHmacSha384: return Prf(prf_id, "SHA384", prf_output_size(prf_id));
    case prf::kHmacSha512: return Prf(prf_id, "SHA512", prf_output_size(prf_id));
  }
  return std::nullopt;
}

Status Prf::compute(ByteView key, std::initializer_list<ByteView> data, SecureBytes* out) const {
  if (key.empty()) return Status(StatusCode::kInvalidArgument, "prf: empty key");
  EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) return openssl_error("EVP_MAC_fetch(HMAC)");
  EvpMacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx) return openssl_error("EVP_MAC_CTX_new");
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest_), 0),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1) return openssl_error("EVP_MAC_init");
  for (ByteView part : data) {
    if (EVP_MAC_update(ctx.get(), part.data(), part.size()) != 1) return openssl_error("EVP_MAC_update");
  }
  SecureBytes result(size_);
  size_t written = 0;
  if (EVP_MAC_final(ctx.get(), result.data(), &written, result.size()) != 1 || written != size_) {
    return openssl_error("EVP_MAC_final");
  }
  *out = std::move(result);
  return Status::ok();
}

Status Prf::plus(ByteView key, ByteView seed, size_t length, SecureBytes* out) const {
  if (length > 255 * size_) return Status(StatusCode::kInvalidArgument, "prf+: more than 255 blocks requested");
  SecureBytes result;
  result.reserve(length + size_);
  SecureBytes block;  // T(n-1); empty before T1
  for (uint8_t counter = 1; result.size() < length; ++counter) {
    const uint8_t n[1] = {counter};
    if (Status st = compute(key, {block, seed, n}, &block); !st) return st;
    result.insert(result.end(), block.begin(), block.end());
  }
  result.resize(length);
  *out = std::move(result);
  return Status::ok();
}

}  // namespace dpvpn::ike
