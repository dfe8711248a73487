#include "ike/crypto/prf.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>

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

namespace {
// An HMAC context with its digest set, per digest, made once: fetching HMAC and the digest by name
// costs more than the MAC of an IKE message, and a setup computes a dozen PRFs. Each computation
// works on a copy (EVP_MAC_CTX_dup), so this is safe from any thread.
EVP_MAC_CTX* hmac_template(const char* digest) {
  struct Template {
    const char* digest;
    EVP_MAC_CTX* ctx;
  };
  static const std::array<Template, 4> templates = [] {
    std::array<Template, 4> t{{{"SHA1", nullptr}, {"SHA256", nullptr}, {"SHA384", nullptr}, {"SHA512", nullptr}}};
    EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    for (Template& one : t) {
      EvpMacCtxPtr ctx(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
      const OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(one.digest), 0),
          OSSL_PARAM_construct_end(),
      };
      if (ctx && EVP_MAC_CTX_set_params(ctx.get(), params) == 1) one.ctx = ctx.release();  // lives as long as the process
    }
    return t;
  }();
  for (const Template& t : templates) {
    if (std::strcmp(t.digest, digest) == 0) return t.ctx;
  }
  return nullptr;
}
}  // namespace

Status Prf::compute(ByteView key, std::initializer_list<ByteView> data, SecureBytes* out) const {
  if (key.empty()) return Status(StatusCode::kInvalidArgument, "prf: empty key");
  EVP_MAC_CTX* proto = hmac_template(digest_);
  if (proto == nullptr) return openssl_error("HMAC template");
  EvpMacCtxPtr ctx(EVP_MAC_CTX_dup(proto));
  if (!ctx) return openssl_error("EVP_MAC_CTX_dup");
  if (EVP_MAC_init(ctx.get(), key.data(), key.size(), nullptr) != 1) return openssl_error("EVP_MAC_init");
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
