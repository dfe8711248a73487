#include "ike/crypto/openssl_util.hpp"

#include <openssl/err.h>

#include <cstring>
#include <string>
#include <vector>

namespace dpvpn::ike {

Status openssl_error(std::string_view what, StatusCode code) {
  std::string message(what);
  if (const unsigned long err = ERR_get_error(); err != 0) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    message += ": ";
    message += buf;
  }
  ERR_clear_error();
  return Status(code, std::move(message));
}

namespace {

// name -> fetched object, per thread (a handful of names: a linear search is the fastest map).
template <class Ptr, auto Fetch>
auto* fetched(const char* name) {
  thread_local std::vector<std::pair<std::string, Ptr>> cache;
  for (const auto& [cached_name, object] : cache) {
    if (std::strcmp(cached_name.c_str(), name) == 0) return object.get();
  }
  Ptr object(Fetch(nullptr, name, nullptr));
  auto* raw = object.get();
  if (raw != nullptr) cache.emplace_back(name, std::move(object));
  return raw;
}

}  // namespace

const EVP_MD* fetched_digest(const char* name) { return fetched<EvpMdPtr, EVP_MD_fetch>(name); }
const EVP_CIPHER* fetched_cipher(const char* name) { return fetched<EvpCipherPtr, EVP_CIPHER_fetch>(name); }

}  // namespace dpvpn::ike
