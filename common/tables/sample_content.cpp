#include "tables/sample_content.hpp"

namespace dpvpn::tables {

namespace {

IpAddr ip(const char* text) { return *IpAddr::parse(text); }

std::array<uint8_t, 8> spi8(uint64_t v) {
  std::array<uint8_t, 8> out{};
  for (int i = 7; i >= 0; --i, v >>= 8) out[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
  return out;
}

// Chains Status-returning steps: the first failure wins.
struct Steps {
  Status status;
  Steps& operator<<(Status next) {
    if (status.is_ok()) status = std::move(next);
    return *this;
  }
};

}  // namespace

Status fill_sample_content(KernelTableSet& set) {
  const IpAddr us = ip("192.0.2.1"), peer = ip("203.0.113.7"), peer6 = ip("2001:db8:ffff::7");
  const IpAddr us6 = ip("2001:db8:ffff::1");
  Steps steps;

  auto conns = set.typed<TableId::connections>();
  steps << conns.insert({ip("10.1.0.5"), ip("10.2.0.9"), 40000, 443, 6, kDirOutbound, 0},
                        {2, 0x101, 0x201, 0, 12, 1480})
        << conns.insert({ip("10.2.0.9"), ip("10.1.0.5"), 443, 40000, 6, kDirInbound, 0},
                        {2, 0x101, 0x201, 0, 10, 9600}, {.link = true})
        << conns.insert({ip("10.1.0.7"), ip("10.2.0.53"), 5353, 53, 17, kDirOutbound, 0},
                        {1, 0x101, 0x201, 0, 1, 60}, {.ttl_s = 40});

  auto ike = set.typed<TableId::IKE_SA_table>();
  steps << ike.insert({spi8(0x8a3f00c2d1e4f001), spi8(0x5b7c1e90aa02b003)}, {peer, us, 1, 0, 3, 4, 4, 17})
        << ike.insert({spi8(0x1122334455667788), spi8(0x99aabbccddeeff00)}, {peer6, us6, 1, 1, 3, 2, 2, 18});

  auto in = set.typed<TableId::inbound_SPI>();
  steps << in.insert({0xc1000001, 50, {}, us}, {1, 0x11, 1, 0, peer})
        << in.insert({0xc1000002, 50, {}, us6}, {2, 0x12, 1, 0, peer6});

  auto out = set.typed<TableId::outbound_SPI>();
  steps << out.insert({peer, 0x0badf00d}, {3, 0x11, 1, 0}) << out.insert({peer6, 0x0badf00e}, {4, 0x12, 1, 0});

  auto req = set.typed<TableId::encryption_requests>();
  steps << req.insert({ip("10.1.0.8"), ip("10.3.0.1"), 51000, 22, 6, {}}, {peer, 1, 1, 1, 0});

  VpnRouting& routes = set.vpn_routing();
  steps << routes.add(vpn_route_key(ip("10.2.0.0"), 16), {peer, 0x11, kRouteEncrypt, 0x0badf00d, 0})
        << routes.add(vpn_route_key(ip("10.3.0.0"), 16), {peer, 0x13, kRouteEncrypt, 0, 0})
        << routes.add(vpn_route_key(ip("2001:db8:2::"), 48), {peer6, 0x12, kRouteEncrypt, 0x0badf00e, 0});

  auto neighbors = set.typed<TableId::neighbors>();
  steps << neighbors.insert({ip("192.0.2.254"), 1, 0}, {{0x02, 0x00, 0x5e, 0x00, 0x01, 0xfe}, kNeighborReachable});

  auto peers = set.typed<TableId::peers_count>();
  steps << peers.insert({peer}, {2, 1}) << peers.insert({peer6}, {1, 1});

  auto links = set.typed<TableId::resolved_link>();
  steps << links.insert({peer}, {us, peer, kLinkUp, 0});

  auto probes = set.typed<TableId::crypt_resolver_db>();
  steps << probes.insert({us, peer}, {kLinkUp, 850, 12, 12});

  auto sep = set.typed<TableId::SEP_my_IKE_packet>();
  steps << sep.insert({spi8(0x8a3f00c2d1e4f001), 0}, {ip("10.255.0.1"), 1, 0})
        << sep.insert({spi8(0x8a3f00c2d1e4f001), 2}, {ip("10.255.0.2"), 2, 0});

  auto mspi = set.typed<TableId::MSPI_cluster_map>();
  steps << mspi.insert({0x11, 1}, {0x0badf00d, 1}) << mspi.insert({0x11, 2}, {0x0badf10d, 2});

  auto mspi_update = set.typed<TableId::MSPI_cluster_update>();
  steps << mspi_update.insert({2, 2}, {0x0badf10d, 1});
  return steps.status;
}

}  // namespace dpvpn::tables
