#pragma once
// The AUTH payload's input and its shared-key form (RFC 7296 2.15).
// Signed octets for the initiator: RealMessage1 | NonceRData | prf(SK_pi, IDi'), where IDi' is the
// IDi payload body (ID Type, 3 reserved octets, identification data) and RealMessage1 the
// IKE_SA_INIT request as sent; for the responder: RealMessage2 | NonceIData | prf(SK_pr, IDr').
#include <cstdint>
#include <vector>

#include "ike/crypto/prf.hpp"
#include "ike/crypto/secure_bytes.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

// Auth Method of the AUTH payload (RFC 7296 3.8, RFC 7427 3).
namespace auth_method {
inline constexpr uint8_t kRsaSignature = 1;
inline constexpr uint8_t kSharedKeyMic = 2;
inline constexpr uint8_t kDigitalSignature = 14;
}  // namespace auth_method

// `sk_p` is SK_pi for the initiator's AUTH, SK_pr for the responder's; `peer_nonce` the other
// side's Nonce Data; `real_message` this side's IKE_SA_INIT message.
Status auth_signed_octets(const Prf& prf, ByteView sk_p, ByteView real_message, ByteView peer_nonce,
                          ByteView id_payload_body, std::vector<uint8_t>* out);

// AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>).
Status psk_auth_data(const Prf& prf, ByteView psk, ByteView signed_octets, std::vector<uint8_t>* out);

// kInvalidArgument ("AUTH mismatch") unless `received` is the AUTH data the PSK gives; compared in
// constant time.
Status verify_psk_auth_data(const Prf& prf, ByteView psk, ByteView signed_octets, ByteView received);

}  // namespace dpvpn::ike
