#pragma once
// The two SkCipher constructions; internal to the library.
#include <memory>

#include "ike/crypto/sk_cipher.hpp"

namespace dpvpn::ike {

Status make_sk_aead(const IkeSuite& suite, ByteView encr_key, std::unique_ptr<SkCipher>* out);
Status make_sk_cbc_hmac(const IkeSuite& suite, ByteView encr_key, ByteView integ_key, std::unique_ptr<SkCipher>* out);

}  // namespace dpvpn::ike
