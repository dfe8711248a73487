#include "core/sa_convert.hpp"

#include "core/proto_util.hpp"
#include "ike/crypto/transforms.hpp"

namespace dpvpn::controld {

Status esp_algorithm_of(const ike::EspSuite& suite, v1::EspAlgorithm* out) {
  namespace encr = ike::encr;
  namespace integ = ike::integ;
  if (suite.encr == encr::kAesGcm16 && suite.integ == integ::kNone) {
    if (suite.encr_key_bits == 128) return *out = v1::AES128_GCM, Status::ok();
    if (suite.encr_key_bits == 256) return *out = v1::AES256_GCM, Status::ok();
  }
  if (suite.encr == encr::kAesCbc && suite.integ == integ::kHmacSha256_128) {
    if (suite.encr_key_bits == 128) return *out = v1::AES128_CBC_SHA256, Status::ok();
    if (suite.encr_key_bits == 256) return *out = v1::AES256_CBC_SHA256, Status::ok();
  }
  if (suite.encr == encr::kChaCha20Poly1305 && suite.integ == integ::kNone) {
    return *out = v1::CHACHA20_POLY1305, Status::ok();
  }
  return {StatusCode::kInvalidArgument, "the dataplane has no ESP algorithm for encr " + std::to_string(suite.encr) +
                                            "/" + std::to_string(suite.encr_key_bits) + " integ " +
                                            std::to_string(suite.integ)};
}

Status sa_of(const ike::ChildSaHalf& half, const std::string& name, v1::Sa* out) {
  v1::EspAlgorithm algorithm{};
  if (Status s = esp_algorithm_of(half.suite, &algorithm); !s) return s;
  out->set_name(name);
  out->set_spi(half.spi);
  out->set_direction(half.inbound ? v1::INBOUND : v1::OUTBOUND);
  out->set_algorithm(algorithm);
  out->set_key(reinterpret_cast<const char*>(half.keys.encr_key.data()), half.keys.encr_key.size());
  out->set_auth_key(reinterpret_cast<const char*>(half.keys.integ_key.data()), half.keys.integ_key.size());
  to_proto(half.local, out->mutable_local());
  to_proto(half.remote, out->mutable_remote());
  out->set_esn(half.suite.esn);
  out->set_natt(half.natt);
  if (half.natt) {
    out->set_natt_local_port(half.local_port);
    out->set_natt_remote_port(half.remote_port);
  }
  for (const ike::SelectorRange& ts : half.local_ts) to_proto(ts, out->add_local_ts());
  for (const ike::SelectorRange& ts : half.remote_ts) to_proto(ts, out->add_remote_ts());
  out->mutable_lifetime()->set_soft_seconds(half.soft_seconds);
  out->mutable_lifetime()->set_hard_seconds(half.hard_seconds);
  return Status::ok();
}

v1::SaId sa_id_of(const ike::ChildSaHalf& half) {
  v1::SaId id;
  id.set_direction(half.inbound ? v1::INBOUND : v1::OUTBOUND);
  id.set_spi(half.spi);
  to_proto(half.inbound ? half.local : half.remote, id.mutable_address());
  return id;
}

std::vector<v1::Policy> policies_of(const ike::ChildSaHalf& outbound) {
  std::vector<IpPrefix> locals, remotes;
  for (const ike::SelectorRange& ts : outbound.local_ts) {
    for (const IpPrefix& p : range_to_prefixes(ts.start, ts.end)) locals.push_back(p);
  }
  for (const ike::SelectorRange& ts : outbound.remote_ts) {
    for (const IpPrefix& p : range_to_prefixes(ts.start, ts.end)) remotes.push_back(p);
  }
  std::vector<v1::Policy> out;
  for (const IpPrefix& local : locals) {
    for (const IpPrefix& remote : remotes) {
      if (local.addr.is_v4() != remote.addr.is_v4()) continue;  // a policy is one family
      v1::Policy p;
      to_proto(local, p.mutable_local());
      to_proto(remote, p.mutable_remote());
      p.set_action(v1::Policy::PROTECT);
      to_proto(outbound.remote, p.mutable_gateway());
      p.set_spi(outbound.spi);
      out.push_back(std::move(p));
    }
  }
  return out;
}

std::string policy_key(const v1::Policy& policy) {
  const std::optional<IpAddr> addr = from_proto(policy.remote().addr());
  return (addr ? addr->to_string() : std::string("?")) + "/" + std::to_string(policy.remote().length());
}

}  // namespace dpvpn::controld
