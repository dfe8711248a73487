// vpn_routing as an LPM: longest prefix wins, IPv4 and IPv6, default routes, replace and delete
// keep the LPM in step, bad prefixes are refused.
#include <catch2/catch.hpp>

#include "tables/kernel_table_set.hpp"
#include "util/clock.hpp"

using namespace dpvpn;
using namespace dpvpn::tables;

namespace {
IpAddr ip(const char* text) { return *IpAddr::parse(text); }

struct Routes {
  Routes() : rcu(2) {
    std::unique_ptr<KernelTable> t;
    REQUIRE(KernelTable::create(Layout<TableId::vpn_routing>::spec, 64, rcu, clock, &t).is_ok());
    table = std::move(t);
    REQUIRE(VpnRouting::create(*table, rcu, &routing).is_ok());
  }
  uint32_t tunnel_for(const char* dst) const {
    const VpnRoutingValue* v = routing->route(ip(dst));
    return v == nullptr ? 0 : v->tunnel_id;
  }
  RcuDomain rcu;
  ManualClock clock;
  std::unique_ptr<KernelTable> table;
  std::unique_ptr<VpnRouting> routing;
};
}  // namespace

TEST_CASE("vpn_routing: longest prefix match over IPv4 and IPv6") {
  Routes r;
  const IpAddr gw = ip("203.0.113.7");
  REQUIRE(r.routing->add(vpn_route_key(ip("10.0.0.0"), 8), {gw, 1, kRouteEncrypt, 0, 0}).is_ok());
  REQUIRE(r.routing->add(vpn_route_key(ip("10.2.0.0"), 16), {gw, 2, kRouteEncrypt, 0, 0}).is_ok());
  REQUIRE(r.routing->add(vpn_route_key(ip("10.2.3.128"), 25), {gw, 3, 0, 0, 0}).is_ok());
  REQUIRE(r.routing->add(vpn_route_key(ip("2001:db8::"), 32), {gw, 6, kRouteEncrypt, 0, 0}).is_ok());
  REQUIRE(r.routing->add(vpn_route_key(ip("2001:db8:2::"), 48), {gw, 7, kRouteEncrypt, 0, 0}).is_ok());

  CHECK(r.tunnel_for("10.9.9.9") == 1);
  CHECK(r.tunnel_for("10.2.0.1") == 2);
  CHECK(r.tunnel_for("10.2.3.127") == 2);
  CHECK(r.tunnel_for("10.2.3.200") == 3);
  CHECK(r.routing->route(ip("10.2.3.200"))->flags == 0);
  CHECK(r.tunnel_for("11.0.0.1") == 0);
  CHECK(r.tunnel_for("2001:db8:1::1") == 6);
  CHECK(r.tunnel_for("2001:db8:2:ffff::1") == 7);
  CHECK(r.tunnel_for("2001:db9::1") == 0);

  uint32_t dsts[4] = {0x0a090909, 0x0a020001, 0x0b000001, 0x0a0203c8};
  const VpnRoutingValue* out[4];
  CHECK(r.routing->route_v4_bulk(dsts, 4, out) == 3);
  CHECK(out[0]->tunnel_id == 1);
  CHECK(out[1]->tunnel_id == 2);
  CHECK(out[2] == nullptr);
  CHECK(out[3]->tunnel_id == 3);
}

TEST_CASE("vpn_routing: default routes, replace and delete keep the LPM in step") {
  Routes r;
  const IpAddr gw = ip("203.0.113.7");
  REQUIRE(r.routing->add(vpn_route_key(ip("0.0.0.0"), 0), {gw, 9, kRouteEncrypt, 0, 0}).is_ok());
  REQUIRE(r.routing->add(vpn_route_key(ip("::"), 0), {gw, 10, kRouteEncrypt, 0, 0}).is_ok());
  REQUIRE(r.routing->add(vpn_route_key(ip("10.2.0.0"), 16), {gw, 2, kRouteEncrypt, 0, 0}).is_ok());
  REQUIRE(r.routing->add(vpn_route_key(ip("2001:db8::"), 32), {gw, 6, kRouteEncrypt, 0, 0}).is_ok());
  CHECK(r.tunnel_for("8.8.8.8") == 9);
  CHECK(r.tunnel_for("2001:4860::1") == 10);

  REQUIRE(r.routing->add(vpn_route_key(ip("10.2.0.0"), 16), {gw, 22, kRouteEncrypt, 0, 0}).is_ok());  // replace
  REQUIRE(r.routing->add(vpn_route_key(ip("2001:db8::"), 32), {gw, 66, kRouteEncrypt, 0, 0}).is_ok());
  CHECK(r.tunnel_for("10.2.1.1") == 22);
  CHECK(r.tunnel_for("2001:db8::5") == 66);
  CHECK(r.table->count() == 4);

  REQUIRE(r.routing->remove(vpn_route_key(ip("10.2.0.0"), 16)).is_ok());
  REQUIRE(r.routing->remove(vpn_route_key(ip("2001:db8::"), 32)).is_ok());
  CHECK(r.tunnel_for("10.2.1.1") == 9);
  CHECK(r.tunnel_for("2001:db8::5") == 10);
  REQUIRE(r.routing->remove(vpn_route_key(ip("0.0.0.0"), 0)).is_ok());
  REQUIRE(r.routing->remove(vpn_route_key(ip("::"), 0)).is_ok());
  CHECK(r.tunnel_for("10.2.1.1") == 0);
  CHECK(r.tunnel_for("2001:db8::5") == 0);
  CHECK(r.table->count() == 0);
  CHECK(r.routing->remove(vpn_route_key(ip("10.2.0.0"), 16)).code() == StatusCode::kNotFound);
}

TEST_CASE("vpn_routing: bad prefixes are refused with the reason, nothing is added") {
  Routes r;
  const IpAddr gw = ip("203.0.113.7");
  const Status host_bits = r.routing->add(vpn_route_key(ip("10.2.0.1"), 16), {gw, 1, 0, 0, 0});
  CHECK(host_bits.code() == StatusCode::kInvalidArgument);
  CHECK(host_bits.message() == "10.2.0.1/16 has host bits set");
  const Status too_long = r.routing->add(vpn_route_key(ip("10.2.0.0"), 33), {gw, 1, 0, 0, 0});
  CHECK(too_long.message() == "prefix length 33 is longer than 32 for 10.2.0.0");
  CHECK(r.routing->add(vpn_route_key(ip("2001:db8::1"), 64), {gw, 1, 0, 0, 0}).code() == StatusCode::kInvalidArgument);
  CHECK(r.routing->add(vpn_route_key(ip("2001:db8::1"), 128), {gw, 1, 0, 0, 0}).is_ok());
  CHECK(r.table->count() == 1);
}

TEST_CASE("vpn_routing: a route value a reader holds survives its replacement until quiescent") {
  Routes r;
  REQUIRE(r.rcu.register_reader(0).is_ok());
  const IpAddr gw = ip("203.0.113.7");
  REQUIRE(r.routing->add(vpn_route_key(ip("10.2.0.0"), 16), {gw, 2, kRouteEncrypt, 0, 0}).is_ok());
  const VpnRoutingValue* held = r.routing->route(ip("10.2.0.1"));
  REQUIRE(r.routing->add(vpn_route_key(ip("10.2.0.0"), 16), {gw, 3, kRouteEncrypt, 0, 0}).is_ok());
  r.table->reclaim();
  CHECK(held->tunnel_id == 2);  // still intact for the reader
  CHECK(r.tunnel_for("10.2.0.1") == 3);
  r.rcu.quiescent(0);
  r.table->reclaim();
  CHECK(held->tunnel_id == 0xdbdbdbdb);  // now reclaimed and poisoned
}
