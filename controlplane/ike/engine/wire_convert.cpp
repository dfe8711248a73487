#include "ike/engine/wire_convert.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace dpvpn::ike {

namespace {
std::vector<uint8_t> octets(const IpAddr& a) {
  return a.is_v4() ? std::vector<uint8_t>(a.bytes.begin() + 12, a.bytes.end())
                   : std::vector<uint8_t>(a.bytes.begin(), a.bytes.end());
}

std::optional<IpAddr> from_octets(const std::vector<uint8_t>& o) {
  IpAddr a;
  if (o.size() == 4) {
    a = IpAddr::v4(static_cast<uint32_t>(o[0]) << 24 | static_cast<uint32_t>(o[1]) << 16 |
                   static_cast<uint32_t>(o[2]) << 8 | o[3]);
  } else if (o.size() == 16) {
    std::array<uint8_t, 16> b;
    std::copy(o.begin(), o.end(), b.begin());
    a = IpAddr::v6(b);
  } else {
    return std::nullopt;
  }
  return a;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Prefix length if [start, end] is exactly one CIDR block, else -1.
int prefix_length(const IpAddr& start, const IpAddr& end) {
  const int bits = start.is_v4() ? 32 : 128, skip = start.is_v4() ? 96 : 0;
  for (int len = 0; len <= bits; ++len) {
    bool ok = true;
    for (int bit = 0; bit < 128 && ok; ++bit) {
      const bool s = (start.bytes[bit / 8] >> (7 - bit % 8)) & 1, e = (end.bytes[bit / 8] >> (7 - bit % 8)) & 1;
      ok = bit < skip + len ? s == e : (!s && e);
    }
    if (ok) return len;
  }
  return -1;
}
}  // namespace

std::vector<SaProposal> to_wire(const std::vector<Proposal>& proposals, const std::vector<uint8_t>& spi) {
  std::vector<SaProposal> out;
  for (const Proposal& p : proposals) {
    SaProposal w;
    w.number = static_cast<uint8_t>(out.size() + 1);
    w.protocol = static_cast<ProtocolId>(p.protocol);
    w.spi = spi;
    for (const Transform& t : p.transforms) {
      SaTransform wt;
      wt.type = t.type;
      wt.id = t.id;
      if (t.key_bits != 0) wt.key_length = t.key_bits;
      w.transforms.push_back(wt);
    }
    out.push_back(std::move(w));
  }
  return out;
}

std::optional<Proposal> from_wire(const SaProposal& w) {
  Proposal p;
  p.protocol = static_cast<Protocol>(w.protocol);
  for (const SaTransform& wt : w.transforms) {
    if (!wt.other_attributes.empty()) return std::nullopt;
    p.transforms.push_back({wt.type, wt.id, wt.key_length.value_or(0)});
  }
  return p;
}

std::vector<Proposal> without_dh(std::vector<Proposal> proposals) {
  for (Proposal& p : proposals) {
    std::erase_if(p.transforms, [](const Transform& t) { return t.type == TransformType::kDh; });
  }
  return proposals;
}

IdPayload to_id_payload(const controld::IkeIdentity& id) {
  IdPayload p;
  using T = controld::IkeIdentity::Type;
  switch (id.type) {
    case T::kIpv4: p.type = IdType::kIpv4Addr; p.data = octets(id.address); break;
    case T::kIpv6: p.type = IdType::kIpv6Addr; p.data = octets(id.address); break;
    case T::kFqdn: p.type = IdType::kFqdn; p.data.assign(id.value.begin(), id.value.end()); break;
    case T::kEmail: p.type = IdType::kRfc822Addr; p.data.assign(id.value.begin(), id.value.end()); break;
    case T::kDn: p.type = IdType::kDerAsn1Dn; p.data.assign(id.value.begin(), id.value.end()); break;
  }
  return p;
}

bool id_matches(const controld::IkeIdentity& configured, const IdPayload& received) {
  const IdPayload want = to_id_payload(configured);
  if (want.type != received.type) return false;
  const std::string_view got(reinterpret_cast<const char*>(received.data.data()), received.data.size());
  switch (received.type) {
    case IdType::kFqdn:
    case IdType::kRfc822Addr: return lower(got) == lower(configured.value);
    case IdType::kDerAsn1Dn: return false;  // DER names are matched against certificates, not text
    default: return want.data == received.data;
  }
}

std::string id_to_string(const IdPayload& id) {
  switch (id.type) {
    case IdType::kIpv4Addr:
    case IdType::kIpv6Addr: {
      const std::optional<IpAddr> a = from_octets(id.data);
      return a ? a->to_string() : "(bad address)";
    }
    case IdType::kFqdn:
    case IdType::kRfc822Addr: return std::string(id.data.begin(), id.data.end());
    default: return fmt::format("id type {} ({} bytes)", static_cast<int>(id.type), id.data.size());
  }
}

SelectorRange to_range(const IpPrefix& prefix) {
  SelectorRange r;
  r.start = prefix.network().addr;
  r.end = r.start;
  const int skip = prefix.addr.is_v4() ? 96 : 0;
  for (int bit = skip + prefix.len; bit < 128; ++bit) r.end.bytes[bit / 8] |= static_cast<uint8_t>(0x80u >> (bit % 8));
  return r;
}

TrafficSelector to_wire(const SelectorRange& r) {
  TrafficSelector ts;
  ts.type = r.start.is_v4() ? TsType::kIpv4AddrRange : TsType::kIpv6AddrRange;
  ts.ip_protocol = r.protocol;
  ts.start_port = r.port_lo;
  ts.end_port = r.port_hi;
  ts.start_address = octets(r.start);
  ts.end_address = octets(r.end);
  return ts;
}

std::optional<SelectorRange> from_wire(const TrafficSelector& ts) {
  const std::optional<IpAddr> start = from_octets(ts.start_address), end = from_octets(ts.end_address);
  if (!start || !end || start->is_v4() != end->is_v4() || *end < *start) return std::nullopt;
  return SelectorRange{*start, *end, ts.ip_protocol, ts.start_port, ts.end_port};
}

std::vector<TrafficSelector> to_wire(const std::vector<SelectorRange>& ranges) {
  std::vector<TrafficSelector> out;
  for (const SelectorRange& r : ranges) out.push_back(to_wire(r));
  return out;
}

std::vector<SelectorRange> ranges_of(const TsPayload* ts) {
  std::vector<SelectorRange> out;
  if (ts == nullptr) return out;
  for (const TrafficSelector& t : ts->selectors) {
    if (auto r = from_wire(t)) out.push_back(*r);
  }
  return out;
}

std::vector<SelectorRange> config_selectors(const std::vector<IpPrefix>& configured, const IpAddr& fallback) {
  std::vector<SelectorRange> out;
  for (const IpPrefix& p : configured) out.push_back(to_range(p));
  if (out.empty()) out.push_back(SelectorRange{fallback, fallback});
  return out;
}

std::vector<SelectorRange> narrow(const std::vector<SelectorRange>& configured, const std::vector<SelectorRange>& proposed) {
  std::vector<SelectorRange> out;
  for (const SelectorRange& c : configured) {
    for (const SelectorRange& p : proposed) {
      if (c.start.is_v4() != p.start.is_v4()) continue;
      if (c.protocol != 0 && p.protocol != 0 && c.protocol != p.protocol) continue;
      SelectorRange r;
      r.start = std::max(c.start, p.start);
      r.end = std::min(c.end, p.end);
      r.protocol = c.protocol != 0 ? c.protocol : p.protocol;
      r.port_lo = std::max(c.port_lo, p.port_lo);
      r.port_hi = std::min(c.port_hi, p.port_hi);
      if (r.end < r.start || r.port_hi < r.port_lo) continue;
      if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
    }
  }
  return out;
}

bool within(const std::vector<SelectorRange>& chosen, const std::vector<SelectorRange>& offered) {
  for (const SelectorRange& c : chosen) {
    const bool inside = std::any_of(offered.begin(), offered.end(), [&](const SelectorRange& o) {
      return o.start.is_v4() == c.start.is_v4() && !(c.start < o.start) && !(o.end < c.end) &&
             (o.protocol == 0 || o.protocol == c.protocol) && o.port_lo <= c.port_lo && c.port_hi <= o.port_hi;
    });
    if (!inside) return false;
  }
  return !chosen.empty();
}

namespace {
Proposal suite_proposal(Protocol protocol, uint16_t encr, uint16_t key_bits, uint16_t prf, uint16_t integ, uint16_t dh) {
  Proposal p;
  p.protocol = protocol;
  p.transforms.push_back({TransformType::kEncr, encr, key_bits});
  if (prf != 0) p.transforms.push_back({TransformType::kPrf, prf, 0});
  if (integ != integ::kNone) p.transforms.push_back({TransformType::kInteg, integ, 0});
  if (dh != dh::kNone) p.transforms.push_back({TransformType::kDh, dh, 0});
  return p;
}
}  // namespace

std::string suite_name(const IkeSuite& s) {
  return proposal_to_string(suite_proposal(Protocol::kIke, s.encr, s.encr_key_bits, s.prf, s.integ, s.dh));
}

std::string suite_name(const EspSuite& s) {
  Proposal p = suite_proposal(Protocol::kEsp, s.encr, s.encr_key_bits, 0, s.integ, s.dh);
  if (s.esn) p.transforms.push_back({TransformType::kEsn, esn::kYes, 0});
  return proposal_to_string(p);
}

std::string to_string(const SelectorRange& r) {
  const int len = prefix_length(r.start, r.end);
  std::string out = len >= 0 ? fmt::format("{}/{}", r.start.to_string(), len)
                             : fmt::format("{}-{}", r.start.to_string(), r.end.to_string());
  if (r.protocol != 0) out += fmt::format("[{}", r.protocol);
  if (r.protocol != 0 && !(r.port_lo == 0 && r.port_hi == 65535)) {
    out += r.port_lo == r.port_hi ? fmt::format("/{}", r.port_lo) : fmt::format("/{}-{}", r.port_lo, r.port_hi);
  }
  if (r.protocol != 0) out += "]";
  return out;
}

}  // namespace dpvpn::ike
