#include "agent/proto_convert.hpp"

#include <array>
#include <cstring>
#include <tuple>
#include <utility>

namespace dpvpn::dataplane {

namespace {

using dataplane::EspAlgorithm;
using dataplane::SaDirection;

Status invalid(std::string_view field, const std::string& what) {
  return {StatusCode::kInvalidArgument, std::string(field) + ": " + what};
}

std::string sub(std::string_view field, std::string_view name) {
  std::string out(field);
  if (!out.empty()) out += '.';
  out += name;
  return out;
}

std::string item(std::string_view field, size_t index) {
  return std::string(field) + "[" + std::to_string(index) + "]";
}

Status port_from_proto(uint32_t value, std::string_view field, uint16_t fallback, uint16_t* out) {
  if (value > 65535) return invalid(field, std::to_string(value) + " out of range 0..65535");
  *out = value == 0 ? fallback : static_cast<uint16_t>(value);
  return {};
}

Status direction_from_proto(v1::SaDirection in, std::string_view field, SaDirection* out) {
  switch (in) {
    case v1::INBOUND: *out = SaDirection::kInbound; return {};
    case v1::OUTBOUND: *out = SaDirection::kOutbound; return {};
    case v1::SA_DIRECTION_UNSPECIFIED: return invalid(field, "unspecified");
    default: return invalid(field, "unknown value " + std::to_string(static_cast<int>(in)));
  }
}

v1::SaDirection direction_to_proto(SaDirection in) {
  return in == SaDirection::kInbound ? v1::INBOUND : v1::OUTBOUND;
}

Status algorithm_from_proto(v1::EspAlgorithm in, std::string_view field, EspAlgorithm* out) {
  switch (in) {
    case v1::AES128_GCM: *out = EspAlgorithm::kAesGcm128; return {};
    case v1::AES256_GCM: *out = EspAlgorithm::kAesGcm256; return {};
    case v1::AES128_CBC_SHA256: *out = EspAlgorithm::kAesCbc128HmacSha256; return {};
    case v1::AES256_CBC_SHA256: *out = EspAlgorithm::kAesCbc256HmacSha256; return {};
    case v1::CHACHA20_POLY1305: *out = EspAlgorithm::kChaCha20Poly1305; return {};
    case v1::ESP_ALGORITHM_UNSPECIFIED: return invalid(field, "unspecified");
    default: return invalid(field, "unknown value " + std::to_string(static_cast<int>(in)));
  }
}

v1::EspAlgorithm algorithm_to_proto(EspAlgorithm in) {
  switch (in) {
    case EspAlgorithm::kAesGcm128: return v1::AES128_GCM;
    case EspAlgorithm::kAesGcm256: return v1::AES256_GCM;
    case EspAlgorithm::kAesCbc128HmacSha256: return v1::AES128_CBC_SHA256;
    case EspAlgorithm::kAesCbc256HmacSha256: return v1::AES256_CBC_SHA256;
    case EspAlgorithm::kChaCha20Poly1305: return v1::CHACHA20_POLY1305;
  }
  return v1::ESP_ALGORITHM_UNSPECIFIED;
}

// Sizes only: the key bytes themselves are never formatted.
Status key_from_proto(const std::string& in, EspAlgorithm alg, std::string_view field, std::vector<uint8_t>* out) {
  const size_t want = dataplane::expected_key_size(alg);
  if (in.size() != want) {
    std::string what = std::string(dataplane::algorithm_name(alg)) + " needs " + std::to_string(want) + " bytes";
    if (dataplane::is_aead(alg)) what += " (" + std::to_string(want - 4) + "-byte key + 4-byte salt)";
    return invalid(field, what + ", got " + std::to_string(in.size()));
  }
  out->assign(in.begin(), in.end());
  return {};
}

Status auth_key_from_proto(const std::string& in, EspAlgorithm alg, std::string_view field,
                           std::vector<uint8_t>* out) {
  const size_t want = dataplane::expected_auth_key_size(alg);
  if (in.size() != want) {
    if (want == 0) {
      return invalid(field, std::string(dataplane::algorithm_name(alg)) + " takes none (AEAD), got " +
                                std::to_string(in.size()) + " bytes");
    }
    return invalid(field, std::string(dataplane::algorithm_name(alg)) + " needs " + std::to_string(want) +
                              " bytes, got " + std::to_string(in.size()));
  }
  out->assign(in.begin(), in.end());
  return {};
}

Status ts_list_from_proto(const google::protobuf::RepeatedPtrField<v1::TrafficSelector>& in, std::string_view field,
                          std::vector<dataplane::TrafficSelector>* out) {
  out->clear();
  out->reserve(static_cast<size_t>(in.size()));
  for (int i = 0; i < in.size(); ++i) {
    dataplane::TrafficSelector ts;
    if (Status s = ts_from_proto(in[i], item(field, static_cast<size_t>(i)), &ts); !s) return s;
    out->push_back(ts);
  }
  return {};
}

int compare(const IpAddr& a, const IpAddr& b) { return std::memcmp(a.bytes.data(), b.bytes.data(), a.bytes.size()); }

}  // namespace

// ---- shared types --------------------------------------------------------------------------

Status ip_from_proto(const v1::IpAddress& in, std::string_view field, IpAddr* out) {
  const std::string& a = in.addr();
  if (a.size() == 4) {
    *out = IpAddr::v4((uint32_t{static_cast<uint8_t>(a[0])} << 24) | (uint32_t{static_cast<uint8_t>(a[1])} << 16) |
                      (uint32_t{static_cast<uint8_t>(a[2])} << 8) | uint32_t{static_cast<uint8_t>(a[3])});
    return {};
  }
  if (a.size() == 16) {
    std::array<uint8_t, 16> bytes;
    std::memcpy(bytes.data(), a.data(), 16);
    IpAddr addr = IpAddr::v6(bytes);
    if (addr.is_v4()) {
      return invalid(field, "IPv4-mapped address " + addr.to_string() + ": send IPv4 as 4 bytes");
    }
    *out = addr;
    return {};
  }
  return invalid(field, "address must be 4 or 16 bytes, got " + std::to_string(a.size()));
}

void ip_to_proto(const IpAddr& in, v1::IpAddress* out) {
  if (in.is_v4()) {
    out->set_addr(reinterpret_cast<const char*>(in.bytes.data()) + 12, 4);
  } else {
    out->set_addr(reinterpret_cast<const char*>(in.bytes.data()), 16);
  }
}

Status prefix_from_proto(const v1::IpPrefix& in, std::string_view field, IpPrefix* out) {
  IpPrefix p;
  if (Status s = ip_from_proto(in.addr(), field, &p.addr); !s) return s;
  const uint32_t max = p.addr.is_v4() ? 32 : 128;
  if (in.length() > max) {
    return invalid(field, "prefix length " + std::to_string(in.length()) + " out of range 0.." + std::to_string(max));
  }
  p.len = static_cast<uint8_t>(in.length());
  if (p.has_host_bits()) return invalid(field, "host bits set in " + p.to_string());
  *out = p;
  return {};
}

void prefix_to_proto(const IpPrefix& in, v1::IpPrefix* out) {
  ip_to_proto(in.addr, out->mutable_addr());
  out->set_length(in.len);
}

Status ts_from_proto(const v1::TrafficSelector& in, std::string_view field, dataplane::TrafficSelector* out) {
  dataplane::TrafficSelector ts;
  if (Status s = ip_from_proto(in.start(), sub(field, "start"), &ts.start); !s) return s;
  if (Status s = ip_from_proto(in.end(), sub(field, "end"), &ts.end); !s) return s;
  if (ts.start.is_v4() != ts.end.is_v4()) return invalid(sub(field, "end"), "family differs from " + sub(field, "start"));
  if (compare(ts.start, ts.end) > 0) {
    return invalid(field, "start " + ts.start.to_string() + " above end " + ts.end.to_string());
  }
  if (in.protocol() > 255) return invalid(sub(field, "protocol"), std::to_string(in.protocol()) + " out of range 0..255");
  ts.protocol = static_cast<uint8_t>(in.protocol());
  if (Status s = port_from_proto(in.port_lo(), sub(field, "port_lo"), 0, &ts.port_lo); !s) return s;
  if (Status s = port_from_proto(in.port_hi(), sub(field, "port_hi"), 65535, &ts.port_hi); !s) return s;
  if (ts.port_lo > ts.port_hi) {
    return invalid(field, "port_lo " + std::to_string(ts.port_lo) + " above port_hi " + std::to_string(ts.port_hi));
  }
  *out = ts;
  return {};
}

void ts_to_proto(const dataplane::TrafficSelector& in, v1::TrafficSelector* out) {
  ip_to_proto(in.start, out->mutable_start());
  ip_to_proto(in.end, out->mutable_end());
  out->set_protocol(in.protocol);
  out->set_port_lo(in.port_lo);
  out->set_port_hi(in.port_hi);
}

Status lifetime_from_proto(const v1::SaLifetime& in, std::string_view field, dataplane::SaLifetime* out) {
  const struct {
    const char* soft_name;
    uint64_t soft;
    const char* hard_name;
    uint64_t hard;
  } pairs[] = {{"soft_bytes", in.soft_bytes(), "hard_bytes", in.hard_bytes()},
               {"soft_packets", in.soft_packets(), "hard_packets", in.hard_packets()},
               {"soft_seconds", in.soft_seconds(), "hard_seconds", in.hard_seconds()}};
  for (const auto& p : pairs) {
    if (p.soft != 0 && p.hard != 0 && p.soft > p.hard) {
      return invalid(sub(field, p.soft_name),
                     std::to_string(p.soft) + " above " + p.hard_name + " " + std::to_string(p.hard));
    }
  }
  out->soft_bytes = in.soft_bytes();
  out->hard_bytes = in.hard_bytes();
  out->soft_packets = in.soft_packets();
  out->hard_packets = in.hard_packets();
  out->soft_seconds = in.soft_seconds();
  out->hard_seconds = in.hard_seconds();
  return {};
}

void lifetime_to_proto(const dataplane::SaLifetime& in, v1::SaLifetime* out) {
  out->set_soft_bytes(in.soft_bytes);
  out->set_hard_bytes(in.hard_bytes);
  out->set_soft_packets(in.soft_packets);
  out->set_hard_packets(in.hard_packets);
  out->set_soft_seconds(in.soft_seconds);
  out->set_hard_seconds(in.hard_seconds);
}

// ---- SAs -----------------------------------------------------------------------------------

Status sa_from_proto(const v1::Sa& in, std::string_view field, dataplane::SaParams* out) {
  dataplane::SaParams p;
  p.name = in.name();
  if (in.spi() == 0) return invalid(sub(field, "spi"), "0 is reserved");
  p.spi = in.spi();
  if (Status s = direction_from_proto(in.direction(), sub(field, "direction"), &p.direction); !s) return s;
  if (Status s = algorithm_from_proto(in.algorithm(), sub(field, "algorithm"), &p.algorithm); !s) return s;
  if (Status s = key_from_proto(in.key(), p.algorithm, sub(field, "key"), &p.key); !s) return s;
  if (Status s = auth_key_from_proto(in.auth_key(), p.algorithm, sub(field, "auth_key"), &p.auth_key); !s) return s;
  if (Status s = ip_from_proto(in.local(), sub(field, "local"), &p.local); !s) return s;
  if (Status s = ip_from_proto(in.remote(), sub(field, "remote"), &p.remote); !s) return s;
  if (p.local.is_v4() != p.remote.is_v4()) return invalid(sub(field, "remote"), "family differs from " + sub(field, "local"));
  p.esn = in.esn();
  const uint32_t window = in.replay_window();
  if (window != 0) {
    if (window < 64 || window > 4096) {
      return invalid(sub(field, "replay_window"), std::to_string(window) + " out of range 64..4096");
    }
    if (window % 64 != 0) return invalid(sub(field, "replay_window"), std::to_string(window) + " is not a multiple of 64");
  }
  p.replay_window = window;  // 0: the backend applies the dataplane's default
  p.natt = in.natt();
  if (Status s = port_from_proto(in.natt_local_port(), sub(field, "natt_local_port"), 4500, &p.natt_local_port); !s) {
    return s;
  }
  if (Status s = port_from_proto(in.natt_remote_port(), sub(field, "natt_remote_port"), 4500, &p.natt_remote_port);
      !s) {
    return s;
  }
  p.tunnel_id = in.tunnel_id();
  if (Status s = ts_list_from_proto(in.local_ts(), sub(field, "local_ts"), &p.local_ts); !s) return s;
  if (Status s = ts_list_from_proto(in.remote_ts(), sub(field, "remote_ts"), &p.remote_ts); !s) return s;
  if (Status s = lifetime_from_proto(in.lifetime(), sub(field, "lifetime"), &p.lifetime); !s) return s;
  *out = std::move(p);
  return {};
}

void sa_to_proto_without_keys(const dataplane::SaParams& in, v1::Sa* out) {
  out->set_name(in.name);
  out->set_spi(in.spi);
  out->set_direction(direction_to_proto(in.direction));
  out->set_algorithm(algorithm_to_proto(in.algorithm));
  // key and auth_key: never.
  ip_to_proto(in.local, out->mutable_local());
  ip_to_proto(in.remote, out->mutable_remote());
  out->set_esn(in.esn);
  out->set_replay_window(in.replay_window);
  out->set_natt(in.natt);
  out->set_natt_local_port(in.natt_local_port);
  out->set_natt_remote_port(in.natt_remote_port);
  out->set_tunnel_id(in.tunnel_id);
  for (const auto& ts : in.local_ts) ts_to_proto(ts, out->add_local_ts());
  for (const auto& ts : in.remote_ts) ts_to_proto(ts, out->add_remote_ts());
  lifetime_to_proto(in.lifetime, out->mutable_lifetime());
}

Status sa_key_from_proto(const v1::SaId& in, std::string_view field, dataplane::SaKey* out) {
  dataplane::SaKey k;
  if (Status s = direction_from_proto(in.direction(), sub(field, "direction"), &k.direction); !s) return s;
  if (in.spi() == 0) return invalid(sub(field, "spi"), "0 is reserved");
  k.spi = in.spi();
  if (Status s = ip_from_proto(in.address(), sub(field, "address"), &k.address); !s) return s;
  *out = k;
  return {};
}

Status update_from_proto(const v1::UpdateSaRequest& in, SaUpdate* out) {
  if (Status s = sa_key_from_proto(in.id(), "id", &out->key); !s) return s;
  if (Status s = lifetime_from_proto(in.lifetime(), "lifetime", &out->lifetime); !s) return s;
  if (Status s = ts_list_from_proto(in.local_ts(), "local_ts", &out->local_ts); !s) return s;
  return ts_list_from_proto(in.remote_ts(), "remote_ts", &out->remote_ts);
}

Status ike_sa_from_proto(const v1::IkeSaEntry& in, tables::IkeSaKey* key, tables::IkeSaValue* value) {
  if (in.initiator_spi().size() != 8) return invalid("initiator_spi", "must be 8 bytes");
  if (in.responder_spi().size() != 8) return invalid("responder_spi", "must be 8 bytes");
  std::memcpy(key->initiator_spi.data(), in.initiator_spi().data(), 8);
  std::memcpy(key->responder_spi.data(), in.responder_spi().data(), 8);
  if (in.remove()) return {};
  if (Status s = ip_from_proto(in.peer(), "peer", &value->peer); !s) return s;
  if (Status s = ip_from_proto(in.local(), "local", &value->local); !s) return s;
  value->owner_member = in.owner_member();
  value->instance = in.instance();
  value->state = in.state();
  value->next_send_msgid = in.next_send_msgid();
  value->next_recv_msgid = in.next_recv_msgid();
  return {};
}

void snapshot_to_proto(const dataplane::SaSnapshot& in, v1::SaState* out) {
  sa_to_proto_without_keys(in.params, out->mutable_sa());
  out->set_sa_index(in.sa_index);
  out->set_packets(in.packets);
  out->set_bytes(in.bytes);
  out->set_replay_drops(in.replay_drops);
  out->set_auth_failures(in.auth_failures);
  out->set_ts_drops(in.ts_drops);
  out->set_other_drops(in.other_drops);
  out->set_next_seq(in.next_seq);
  out->set_replay_top(in.replay_top);
  out->set_soft_expired(in.soft_expired);
  out->set_hard_expired(in.hard_expired);
  out->set_age_seconds(in.age_seconds);
}

// ---- policies and batches ------------------------------------------------------------------

Status policy_from_proto(const v1::Policy& in, std::string_view field, PolicyUse use, dataplane::PolicyRequest* out) {
  dataplane::PolicyRequest p;
  if (Status s = prefix_from_proto(in.local(), sub(field, "local"), &p.local); !s) return s;
  if (Status s = prefix_from_proto(in.remote(), sub(field, "remote"), &p.remote); !s) return s;
  if (p.local.addr.is_v4() != p.remote.addr.is_v4()) {
    return invalid(sub(field, "remote"), "family differs from " + sub(field, "local"));
  }
  switch (in.action()) {
    case v1::Policy::PROTECT:
      p.action = dataplane::PolicyAction::kProtect;
      if (!in.gateway().addr().empty() || use == PolicyUse::kAdd) {
        if (Status s = ip_from_proto(in.gateway(), sub(field, "gateway"), &p.gateway); !s) return s;
      }
      p.spi = in.spi();
      break;
    case v1::Policy::BYPASS:
      p.action = dataplane::PolicyAction::kBypass;
      if (!in.gateway().addr().empty()) return invalid(sub(field, "gateway"), "BYPASS takes none");
      if (in.spi() != 0) return invalid(sub(field, "spi"), "BYPASS takes none");
      break;
    case v1::Policy::ACTION_UNSPECIFIED:
      return invalid(sub(field, "action"), "unspecified");
    default:
      return invalid(sub(field, "action"), "unknown value " + std::to_string(static_cast<int>(in.action())));
  }
  p.tunnel_id = in.tunnel_id();
  *out = p;
  return {};
}

Status batch_from_proto(const v1::SaBatch& in, dataplane::SaBatchRequest* out) {
  dataplane::SaBatchRequest b;
  b.add.resize(static_cast<size_t>(in.add_size()));
  for (int i = 0; i < in.add_size(); ++i) {
    const size_t n = static_cast<size_t>(i);
    if (Status s = sa_from_proto(in.add(i).sa(), sub(item("add", n), "sa"), &b.add[n]); !s) return s;
  }
  b.del.resize(static_cast<size_t>(in.del_size()));
  for (int i = 0; i < in.del_size(); ++i) {
    const size_t n = static_cast<size_t>(i);
    if (Status s = sa_key_from_proto(in.del(i), item("del", n), &b.del[n]); !s) return s;
  }
  b.add_policy.resize(static_cast<size_t>(in.add_policy_size()));
  for (int i = 0; i < in.add_policy_size(); ++i) {
    const size_t n = static_cast<size_t>(i);
    if (Status s = policy_from_proto(in.add_policy(i), item("add_policy", n), PolicyUse::kAdd, &b.add_policy[n]); !s) {
      return s;
    }
  }
  b.del_policy.resize(static_cast<size_t>(in.del_policy_size()));
  for (int i = 0; i < in.del_policy_size(); ++i) {
    const size_t n = static_cast<size_t>(i);
    if (Status s = policy_from_proto(in.del_policy(i), item("del_policy", n), PolicyUse::kDelete, &b.del_policy[n]);
        !s) {
      return s;
    }
  }
  *out = std::move(b);
  return {};
}

// ---- other requests and replies ------------------------------------------------------------

Status allocate_spi_from_proto(const v1::AllocateSpiRequest& in, uint32_t* member, uint32_t* member_bits) {
  if (in.member_bits() > 8) return invalid("member_bits", std::to_string(in.member_bits()) + " out of range 0..8");
  if (in.member() >= (uint32_t{1} << in.member_bits())) {
    return invalid("member", std::to_string(in.member()) + " does not fit in " + std::to_string(in.member_bits()) +
                                 " member_bits");
  }
  *member = in.member();
  *member_bits = in.member_bits();
  return {};
}

Status table_read_from_proto(const v1::TableReadRequest& in, tables::DumpOptions* out) {
  if (in.table().empty() && !in.summary()) return invalid("table", "required (or summary for every table)");
  if (in.unlimited() && in.max_values() != 0) return invalid("max_values", "conflicts with unlimited");
  out->formatted = in.formatted();
  out->resolve = in.resolve();
  if (in.unlimited()) {
    out->limit = std::nullopt;
  } else {
    out->limit = in.max_values() == 0 ? tables::kDefaultDumpLimit : in.max_values();
  }
  return {};
}

Status stats_request_from_proto(const v1::StatsRequest& in, std::vector<uint32_t>* spis) {
  spis->clear();
  for (int i = 0; i < in.spi_size(); ++i) {
    if (in.spi(i) == 0) return invalid(item("spi", static_cast<size_t>(i)), "0 is reserved");
    spis->push_back(in.spi(i));
  }
  return {};
}

void stats_to_proto(const dataplane::StatsSnapshot& in, v1::StatsReply* out) {
  for (const auto& p : in.ports) {
    v1::PortStats* o = out->add_ports();
    o->set_name(p.name);
    o->set_rx_packets(p.rx_packets);
    o->set_tx_packets(p.tx_packets);
    o->set_rx_bytes(p.rx_bytes);
    o->set_tx_bytes(p.tx_bytes);
    o->set_imissed(p.imissed);
    o->set_ierrors(p.ierrors);
    o->set_rx_nombuf(p.rx_nombuf);
    o->set_oerrors(p.oerrors);
  }
  for (const auto& l : in.lcores) {
    v1::LcoreStats* o = out->add_lcores();
    o->set_worker(l.worker);
    o->set_lcore(l.lcore);
    o->set_rx_packets(l.rx_packets);
    o->set_tx_packets(l.tx_packets);
    o->set_encrypted(l.encrypted);
    o->set_decrypted(l.decrypted);
    o->set_drops(l.drops);
  }
  for (const auto& sa : in.sas) snapshot_to_proto(sa, out->add_sas());
  for (const auto& [reason, count] : in.drops) (*out->mutable_drops())[reason] = count;
  out->set_encrypted(in.encrypted);
  out->set_decrypted(in.decrypted);
  out->set_forwarded_clear(in.forwarded_clear);
  out->set_ike_punted(in.ike_punted);
  out->set_acquires(in.acquires);
}

Status inject_from_proto(const v1::InjectRequest& in, std::vector<uint8_t>* frame) {
  if (in.has_udp()) return invalid("udp", "either port and frame, or udp");
  if (in.port().empty()) return invalid("port", "required");
  if (in.frame().size() < 14) {
    return invalid("frame", std::to_string(in.frame().size()) + " bytes, shorter than an Ethernet header (14)");
  }
  frame->assign(in.frame().begin(), in.frame().end());
  return {};
}

Status routed_udp_from_proto(const v1::InjectRequest& in, dataplane::RoutedUdpRequest* out) {
  if (!in.port().empty() || !in.frame().empty()) return invalid("udp", "either port and frame, or udp");
  const v1::RoutedUdp& u = in.udp();
  if (Status s = ip_from_proto(u.src(), "udp.src", &out->src); !s) return s;
  if (Status s = ip_from_proto(u.dst(), "udp.dst", &out->dst); !s) return s;
  if (out->src.is_v4() != out->dst.is_v4()) return invalid("udp.dst", "not the family of udp.src");
  for (const auto& [value, field, port] : {std::tuple{u.sport(), "udp.sport", &out->sport},
                                           std::tuple{u.dport(), "udp.dport", &out->dport}}) {
    if (value == 0 || value > 65535) return invalid(field, std::to_string(value) + " out of range 1..65535");
    *port = static_cast<uint16_t>(value);
  }
  if (u.payload().size() > 65000) return invalid("udp.payload", std::to_string(u.payload().size()) + " bytes, too long");
  out->payload.assign(u.payload().begin(), u.payload().end());
  return {};
}

bool event_to_proto(const dataplane::PuntedEvent& in, const std::vector<std::string>& port_names, v1::Event* out) {
  using dataplane::ControlEventType;
  switch (in.type) {
    case ControlEventType::kIkePacket:
      out->set_type(v1::Event::IKE_PACKET);
      if (in.port_index < port_names.size()) {
        out->set_port(port_names[in.port_index]);
      } else {
        std::string name = std::to_string(in.port_index);
        name.insert(name.begin(), '#');
        out->set_port(std::move(name));
      }
      out->set_frame(reinterpret_cast<const char*>(in.frame.data()), in.frame.size());
      ip_to_proto(in.src, out->mutable_src());
      ip_to_proto(in.dst, out->mutable_dst());
      out->set_protocol(in.proto);
      out->set_sport(in.sport);
      out->set_dport(in.dport);
      return true;
    case ControlEventType::kAcquire:
      out->set_type(v1::Event::ACQUIRE);
      ip_to_proto(in.src, out->mutable_src());
      ip_to_proto(in.dst, out->mutable_dst());
      out->set_protocol(in.proto);
      out->set_sport(in.sport);
      out->set_dport(in.dport);
      ip_to_proto(in.gateway, out->mutable_gateway());
      out->set_spi(in.spi);
      return true;
    case ControlEventType::kSaSoftExpire:
    case ControlEventType::kSaHardExpire:
      out->set_type(in.type == ControlEventType::kSaSoftExpire ? v1::Event::SA_SOFT_EXPIRE : v1::Event::SA_HARD_EXPIRE);
      out->set_spi(in.spi);
      out->set_sa_index(in.sa_index);
      return true;
    case ControlEventType::kNeighborPacket:
    case ControlEventType::kNewConnection:
      return false;
  }
  return false;
}

}  // namespace dpvpn::dataplane
