#include "ike/crypto/suite.hpp"

#include <string>

#include "ike/crypto/dh_group.hpp"

namespace dpvpn::ike {

namespace {

constexpr size_t kAeadSaltSize = 4;

Status invalid(const Proposal& p, const std::string& why) {
  return Status(StatusCode::kInvalidArgument, "chosen proposal '" + proposal_to_string(p) + "': " + why);
}

// The single transform of `type` (nullptr when there is none); kInvalidArgument if there are several.
Status single(const Proposal& p, TransformType type, const Transform** out) {
  *out = nullptr;
  for (const Transform& t : p.transforms) {
    if (t.type != type) continue;
    if (*out != nullptr) return invalid(p, "more than one " + std::string(transform_type_name(type)) + " transform");
    *out = &t;
  }
  return Status::ok();
}

// Encryption and integrity, common to IKE and ESP: an AEAD cipher has no integrity (or NONE).
Status cipher_pair(const Proposal& p, uint16_t* encr, uint16_t* key_bits, uint16_t* integ_id) {
  const Transform* e = nullptr;
  const Transform* i = nullptr;
  if (Status st = single(p, TransformType::kEncr, &e); !st) return st;
  if (Status st = single(p, TransformType::kInteg, &i); !st) return st;
  if (e == nullptr) return invalid(p, "no encryption transform");
  if (encr_key_size(e->id, e->key_bits) == 0) return invalid(p, "unsupported encryption " + transform_keyword(*e));
  const uint16_t integ_or_none = i == nullptr ? integ::kNone : i->id;
  if (is_aead(e->id) && integ_or_none != integ::kNone) return invalid(p, "integrity with an AEAD cipher");
  if (!is_aead(e->id) && integ_key_size(integ_or_none) == 0) return invalid(p, "missing or unsupported integrity");
  *encr = e->id;
  *key_bits = e->key_bits;
  *integ_id = integ_or_none;
  return Status::ok();
}

}  // namespace

size_t encr_key_size(uint16_t encr_id, uint16_t key_bits) {
  switch (encr_id) {
    case encr::kAesCbc: return key_bits == 128 || key_bits == 256 ? key_bits / 8 : 0;
    case encr::kAesGcm16: return key_bits == 128 || key_bits == 256 ? key_bits / 8 + kAeadSaltSize : 0;
    case encr::kChaCha20Poly1305: return key_bits == 0 ? 32 + kAeadSaltSize : 0;  // RFC 7634: no Key Length
  }
  return 0;
}

bool is_aead(uint16_t encr_id) { return encr_id == encr::kAesGcm16 || encr_id == encr::kChaCha20Poly1305; }

size_t integ_key_size(uint16_t integ_id) {
  switch (integ_id) {
    case integ::kHmacSha256_128: return 32;
    case integ::kHmacSha384_192: return 48;
    case integ::kHmacSha512_256: return 64;
  }
  return 0;
}

size_t integ_icv_size(uint16_t integ_id) { return integ_key_size(integ_id) / 2; }

uint16_t prf_for_integ(uint16_t integ_id) {
  switch (integ_id) {
    case integ::kHmacSha256_128: return prf::kHmacSha256;
    case integ::kHmacSha384_192: return prf::kHmacSha384;
    case integ::kHmacSha512_256: return prf::kHmacSha512;
  }
  return 0;
}

size_t prf_output_size(uint16_t prf_id) {
  switch (prf_id) {
    case prf::kHmacSha1: return 20;
    case prf::kHmacSha256: return 32;
    case prf::kHmacSha384: return 48;
    case prf::kHmacSha512: return 64;
  }
  return 0;
}

Status ike_suite_from(const Proposal& chosen, IkeSuite* out) {
  if (chosen.protocol != Protocol::kIke) return invalid(chosen, "not an IKE proposal");
  IkeSuite suite;
  if (Status st = cipher_pair(chosen, &suite.encr, &suite.encr_key_bits, &suite.integ); !st) return st;
  const Transform* p = nullptr;
  const Transform* d = nullptr;
  const Transform* e = nullptr;
  if (Status st = single(chosen, TransformType::kPrf, &p); !st) return st;
  if (Status st = single(chosen, TransformType::kDh, &d); !st) return st;
  if (Status st = single(chosen, TransformType::kEsn, &e); !st) return st;
  if (p == nullptr || prf_output_size(p->id) == 0) return invalid(chosen, "missing or unsupported PRF");
  if (d == nullptr || !is_supported_dh_group(d->id)) return invalid(chosen, "missing or unsupported DH group");
  if (e != nullptr) return invalid(chosen, "ESN transform in an IKE proposal");
  suite.prf = p->id;
  suite.dh = d->id;
  *out = suite;
  return Status::ok();
}

Status esp_suite_from(const Proposal& chosen, EspSuite* out) {
  if (chosen.protocol != Protocol::kEsp) return invalid(chosen, "not an ESP proposal");
  EspSuite suite;
  if (Status st = cipher_pair(chosen, &suite.encr, &suite.encr_key_bits, &suite.integ); !st) return st;
  const Transform* p = nullptr;
  const Transform* d = nullptr;
  const Transform* e = nullptr;
  if (Status st = single(chosen, TransformType::kPrf, &p); !st) return st;
  if (Status st = single(chosen, TransformType::kDh, &d); !st) return st;
  if (Status st = single(chosen, TransformType::kEsn, &e); !st) return st;
  if (p != nullptr) return invalid(chosen, "PRF transform in an ESP proposal");
  if (d != nullptr && d->id != dh::kNone && !is_supported_dh_group(d->id)) return invalid(chosen, "unsupported DH group");
  if (e == nullptr || (e->id != esn::kNo && e->id != esn::kYes)) return invalid(chosen, "missing or unknown ESN transform");
  suite.dh = d == nullptr ? dh::kNone : d->id;
  suite.esn = e->id == esn::kYes;
  *out = suite;
  return Status::ok();
}

}  // namespace dpvpn::ike
