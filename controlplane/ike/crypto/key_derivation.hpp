#pragma once
// IKEv2 key derivation: SKEYSEED and the IKE SA keys (RFC 7296 2.14), SKEYSEED of a rekeyed IKE
// SA (2.18) and Child SA KEYMAT (2.17). SPIs: see ike_spi.hpp.
#include <cstdint>

#include "ike/crypto/prf.hpp"
#include "ike/crypto/secure_bytes.hpp"
#include "ike/crypto/suite.hpp"
#include "util/status.hpp"

namespace dpvpn::ike {

struct IkeSaKeys {
  SecureBytes sk_d;
  SecureBytes sk_ai, sk_ar;  // empty with an AEAD cipher
  SecureBytes sk_ei, sk_er;  // cipher key, then the 4-octet salt for AEAD ciphers
  SecureBytes sk_pi, sk_pr;
};

// SKEYSEED = prf(Ni | Nr, g^ir), with the new IKE SA's PRF.
Status compute_skeyseed(const Prf& prf, ByteView ni, ByteView nr, ByteView g_ir, SecureBytes* skeyseed);

// Rekeying an IKE SA: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr). `old_prf` is the PRF of the
// IKE SA being rekeyed (2.18: the exchange belongs to it); Ni, Nr are the CREATE_CHILD_SA nonces.
Status compute_rekey_skeyseed(const Prf& old_prf, ByteView old_sk_d, ByteView g_ir_new, ByteView ni, ByteView nr,
                              SecureBytes* skeyseed);

// {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr),
// with the PRF and key sizes of `suite` (the new SA's, and its SPIs, when rekeying).
Status derive_ike_sa_keys(const IkeSuite& suite, ByteView skeyseed, ByteView ni, ByteView nr, uint64_t spi_i,
                          uint64_t spi_r, IkeSaKeys* out);

// One direction of an ESP SA, as the dataplane takes it (SaParams::key / auth_key): the cipher key
// (+ 4-octet salt for AES-GCM and ChaCha20-Poly1305) and the HMAC key (empty for AEADs).
struct EspKeys {
  SecureBytes encr_key;
  SecureBytes integ_key;
};

struct ChildSaKeys {
  EspKeys initiator_to_responder;  // the SA the initiator sends on (its outbound, the responder's inbound)
  EspKeys responder_to_initiator;
};

// KEYMAT = prf+(SK_d, [g^ir (new)] | Ni | Nr) taken as encr(i->r) | integ(i->r) | encr(r->i) |
// integ(r->i). `g_ir_new` is empty unless the CREATE_CHILD_SA exchange did a DH (PFS).
Status derive_child_sa_keys(const Prf& prf, ByteView sk_d, const EspSuite& suite, ByteView g_ir_new, ByteView ni,
                            ByteView nr, ChildSaKeys* out);

}  // namespace dpvpn::ike
