#include "ike/crypto/key_derivation.hpp"

#include <initializer_list>
#include <string>

#include "ike/crypto/ike_spi.hpp"

namespace dpvpn::ike {

namespace {

SecureBytes concat(std::initializer_list<ByteView> parts) {
  SecureBytes out;
  size_t total = 0;
  for (ByteView p : parts) total += p.size();
  out.reserve(total);
  for (ByteView p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Cuts `material` into consecutive pieces of the given sizes.
class Cutter {
 public:
  explicit Cutter(const SecureBytes& material) : material_(material) {}
  SecureBytes take(size_t n) {
    SecureBytes piece(material_.begin() + static_cast<std::ptrdiff_t>(pos_),
                      material_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return piece;
  }

 private:
  const SecureBytes& material_;
  size_t pos_ = 0;
};

}  // namespace

Status compute_skeyseed(const Prf& prf, ByteView ni, ByteView nr, ByteView g_ir, SecureBytes* skeyseed) {
  const SecureBytes key = concat({ni, nr});
  return prf.compute(key, {g_ir}, skeyseed);
}

Status compute_rekey_skeyseed(const Prf& old_prf, ByteView old_sk_d, ByteView g_ir_new, ByteView ni, ByteView nr,
                              SecureBytes* skeyseed) {
  return old_prf.compute(old_sk_d, {g_ir_new, ni, nr}, skeyseed);
}

Status derive_ike_sa_keys(const IkeSuite& suite, ByteView skeyseed, ByteView ni, ByteView nr, uint64_t spi_i,
                          uint64_t spi_r, IkeSaKeys* out) {
  const std::optional<Prf> prf = Prf::from_id(suite.prf);
  if (!prf) return Status(StatusCode::kInvalidArgument, "unsupported PRF " + std::to_string(suite.prf));
  const size_t encr = suite.encr_key_size();
  if (encr == 0) return Status(StatusCode::kInvalidArgument, "unsupported IKE encryption algorithm");
  const size_t integ = suite.integ_key_size();
  if (!is_aead(suite.encr) && integ == 0) return Status(StatusCode::kInvalidArgument, "IKE suite without integrity");
  const size_t p = prf->output_size();
  const auto spi_i_octets = spi_octets(spi_i);
  const auto spi_r_octets = spi_octets(spi_r);
  const SecureBytes seed = concat({ni, nr, spi_i_octets, spi_r_octets});
  SecureBytes material;
  if (Status st = prf->plus(skeyseed, seed, 3 * p + 2 * integ + 2 * encr, &material); !st) return st;
  Cutter cut(material);
  IkeSaKeys keys;
  keys.sk_d = cut.take(p);
  keys.sk_ai = cut.take(integ);
  keys.sk_ar = cut.take(integ);
  keys.sk_ei = cut.take(encr);
  keys.sk_er = cut.take(encr);
  keys.sk_pi = cut.take(p);
  keys.sk_pr = cut.take(p);
  *out = std::move(keys);
  return Status::ok();
}

Status derive_child_sa_keys(const Prf& prf, ByteView sk_d, const EspSuite& suite, ByteView g_ir_new, ByteView ni,
                            ByteView nr, ChildSaKeys* out) {
  const size_t encr = suite.encr_key_size();
  if (encr == 0) return Status(StatusCode::kInvalidArgument, "unsupported ESP encryption algorithm");
  const size_t integ = suite.integ_key_size();
  if (!is_aead(suite.encr) && integ == 0) return Status(StatusCode::kInvalidArgument, "ESP suite without integrity");
  const SecureBytes seed = concat({g_ir_new, ni, nr});
  SecureBytes material;
  if (Status st = prf.plus(sk_d, seed, 2 * (encr + integ), &material); !st) return st;
  Cutter cut(material);
  ChildSaKeys keys;
  keys.initiator_to_responder.encr_key = cut.take(encr);
  keys.initiator_to_responder.integ_key = cut.take(integ);
  keys.responder_to_initiator.encr_key = cut.take(encr);
  keys.responder_to_initiator.integ_key = cut.take(integ);
  *out = std::move(keys);
  return Status::ok();
}

}  // namespace dpvpn::ike
