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
// HMAC contexts with their digest set, one per digest and thread, made once and re-keyed for each
// computation: fetching HMAC and the digest by name, or even copying a context, costs more than
// the MAC of an IKE message, and a setup computes a dozen PRFs.
EVP_MAC_CTX* hmac_context(const char* digest) {
  struct Context {
    const char* digest;
    EvpMacCtxPtr ctx;
  };
  thread_local std::array<Context, 4> contexts = [] {
    std::array<Context, 4> c{{{"SHA1", nullptr}, {"SHA256", nullptr}, {"SHA384", nullptr}, {"SHA512", nullptr}}};
    EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    for (Context& one : c) {
      EvpMacCtxPtr ctx(mac ? EVP_MAC_CTX_new(mac.get()) : nullptr);
      const OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(one.digest), 0),
          OSSL_PARAM_construct_end(),
      };
      if (ctx && EVP_MAC_CTX_set_params(ctx.get(), params) == 1) one.ctx = std::move(ctx);
    }
    return c;
  }();
  for (const Context& c : contexts) {
    if (std::strcmp(c.digest, digest) == 0) return c.ctx.get();
  }
  return nullptr;
}

// One MAC on `ctx`: keyed with `key`, or with the key it already has when `key` is empty (HMAC
// then reuses its padded-key state: prf+ keys once for all its blocks).
Status mac(EVP_MAC_CTX* ctx, ByteView key, std::initializer_list<ByteView> data, size_t size, SecureBytes* out) {
  if (EVP_MAC_init(ctx, key.empty() ? nullptr : key.data(), key.size(), nullptr) != 1) {
    return openssl_error("EVP_MAC_init");
  }
  for (ByteView part : data) {
    if (EVP_MAC_update(ctx, part.data(), part.size()) != 1) return openssl_error("EVP_MAC_update");
  }
  SecureBytes result(size);
  size_t written = 0;
  if (EVP_MAC_final(ctx, result.data(), &written, result.size()) != 1 || written != size) {
    return openssl_error("EVP_MAC_final");
  }
  *out = std::move(result);
  return Status::ok();
}
}  // namespace

Status Prf::compute(ByteView key, std::initializer_list<ByteView> data, SecureBytes* out) const {
  if (key.empty()) return Status(StatusCode::kInvalidArgument, "prf: empty key");
  EVP_MAC_CTX* ctx = hmac_context(digest_);
  if (ctx == nullptr) return openssl_error("HMAC context");
  return mac(ctx, key, data, size_, out);
}

Status Prf::plus(ByteView key, ByteView seed, size_t length, SecureBytes* out) const {
  if (length > 255 * size_) return Status(StatusCode::kInvalidArgument, "prf+: more than 255 blocks requested");
  if (key.empty()) return Status(StatusCode::kInvalidArgument, "prf: empty key");
  EVP_MAC_CTX* ctx = hmac_context(digest_);
  if (ctx == nullptr) return openssl_error("HMAC context");
  SecureBytes result;
  result.reserve(length + size_);
  SecureBytes block;  // T(n-1); empty before T1
  for (uint8_t counter = 1; result.size() < length; ++counter) {
    const uint8_t n[1] = {counter};
    if (Status st = mac(ctx, counter == 1 ? key : ByteView{}, {block, seed, n}, size_, &block); !st) return st;
    result.insert(result.end(), block.begin(), block.end());
  }
  result.resize(length);
  *out = std::move(result);
  return Status::ok();
}

}  // namespace dpvpn::ike
