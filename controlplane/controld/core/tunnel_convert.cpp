#include "core/tunnel_convert.hpp"

#include <set>

#include "core/proto_util.hpp"

namespace dpvpn::controld {

namespace {

std::string spi_bytes(uint64_t spi) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(spi & 0xff);
    spi >>= 8;
  }
  return out;
}

uint64_t age_seconds(uint64_t established_ms, uint64_t now_ms) {
  return established_ms == 0 || now_ms < established_ms ? 0 : (now_ms - established_ms) / 1000;
}

}  // namespace

void tunnel_to_proto(const ike::TunnelStatus& in, uint64_t now_ms, v1::Tunnel* out) {
  to_proto(in.remote.address, out->mutable_peer());
  out->set_ike_instance(in.instance);
  out->set_ike_initiator_spi(spi_bytes(in.spi_i));
  out->set_ike_responder_spi(spi_bytes(in.spi_r));
  out->set_ike_state(in.state);
  out->set_established_seconds(age_seconds(in.established_ms, now_ms));
  out->set_connection(in.connection);
  to_proto(in.local.address, out->mutable_local());
  out->set_local_port(in.local.port);
  out->set_remote_port(in.remote.port);
  out->set_initiator(in.initiator);
  out->set_ike_suite(in.suite);
  for (const ike::ChildStatus& c : in.children) {
    v1::ChildTunnel& child = *out->add_children();
    child.set_name(c.name);
    child.set_spi_in(c.spi_in);
    child.set_spi_out(c.spi_out);
    child.set_suite(c.suite);
    for (const ike::SelectorRange& ts : c.local_ts) to_proto(ts, child.add_local_ts());
    for (const ike::SelectorRange& ts : c.remote_ts) to_proto(ts, child.add_remote_ts());
    child.set_established_seconds(age_seconds(c.established_ms, now_ms));
  }
}

uint32_t peer_count(const std::vector<ike::TunnelStatus>& tunnels) {
  std::set<IpAddr> peers;
  for (const ike::TunnelStatus& t : tunnels) peers.insert(t.remote.address);
  return static_cast<uint32_t>(peers.size());
}

}  // namespace dpvpn::controld
