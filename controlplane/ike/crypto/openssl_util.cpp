#include "ike/crypto/openssl_util.hpp"

#include <openssl/err.h>

#include <string>

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

}  // namespace dpvpn::ike
