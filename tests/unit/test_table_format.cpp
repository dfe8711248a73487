// `fw tab` formatting without DPDK: field rendering, -r, -f, limits and the summary.
#include <catch2/catch.hpp>

#include <cstring>

#include "tables/catalog.hpp"
#include "tables/table_format.hpp"

using namespace dpvpn;
using namespace dpvpn::tables;

namespace {
template <class T>
std::span<const uint8_t> bytes_of(const T& t) {
  return {reinterpret_cast<const uint8_t*>(&t), sizeof t};
}
}  // namespace

TEST_CASE("format: IPv4 and IPv6 addresses in hex and resolved") {
  OutboundSpiKey key{};
  key.peer = *IpAddr::parse("192.168.1.1");
  key.spi = 0xc0ffee01;
  OutboundSpiValue value{7, 2, 1, 0};
  const auto& spec = Layout<TableId::outbound_SPI>::spec;
  EntryView e{bytes_of(key), bytes_of(value), 3000, 3600, false};
  CHECK(format_entry(spec, e, {}) == "<c0a80101, c0ffee01; 00000007, 00000002, 00000001, 00000000; 3000/3600>");
  CHECK(format_entry(spec, e, {.resolve = true}) ==
        "<192.168.1.1, c0ffee01; 00000007, 00000002, 00000001, 00000000; 3000/3600>");
  key.peer = *IpAddr::parse("2001:db8::1");
  CHECK(format_entry(spec, e, {}) ==
        "<20010db8000000000000000000000001, c0ffee01; 00000007, 00000002, 00000001, 00000000; 3000/3600>");
  CHECK(format_entry(spec, e, {.resolve = true}) ==
        "<2001:db8::1, c0ffee01; 00000007, 00000002, 00000001, 00000000; 3000/3600>");
}

TEST_CASE("format: -f names the fields; entries without expiry omit remaining/total; links marked") {
  VpnRoutingKey key{};
  key.prefix = *IpAddr::parse("10.1.0.0");
  key.prefix_len = 16;
  VpnRoutingValue value{};
  value.gateway = *IpAddr::parse("203.0.113.7");
  value.tunnel_id = 0x11;
  value.flags = kRouteEncrypt;
  value.outbound_spi = 0xc0ffee01;
  const auto& spec = Layout<TableId::vpn_routing>::spec;
  EntryView e{bytes_of(key), bytes_of(value), 0, 0, false};
  CHECK(format_entry(spec, e, {.formatted = true, .resolve = true}) ==
        "<prefix=10.1.0.0, prefix_len=10; gateway=203.0.113.7, tunnel_id=00000011, flags=00000001, "
        "outbound_spi=c0ffee01>");
  e.link = true;
  CHECK(format_entry(spec, e, {}) == "<0a010000, 10; cb007107, 00000011, 00000001, c0ffee01; link>");
}

TEST_CASE("format: SPI bytes keep wire order; widths follow the field size") {
  IkeExchangeKey key{};
  key.initiator_spi = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
  key.msg_id = 2;
  IkeOwnerValue value{};
  value.owner = *IpAddr::parse("10.255.0.2");
  value.member = 2;
  const auto& spec = Layout<TableId::SEP_my_IKE_packet>::spec;
  EntryView e{bytes_of(key), bytes_of(value), 119, 120, false};
  CHECK(format_entry(spec, e, {}) == "<0123456789abcdef, 00000002; 0aff0002, 00000002; 119/120>");
}

TEST_CASE("format: dump header, -m limit with the More line, summary columns") {
  const auto& spec = Layout<TableId::MSPI_cluster_map>::spec;
  TunnelMemberKey k1{1, 1}, k2{1, 2};
  MspiValue v1{0x1000, 1}, v2{0x2000, 2};
  std::vector<EntryView> shown = {{bytes_of(k1), bytes_of(v1), 10, 3600, false}};
  const std::string dump = format_dump(spec, {5, 7, 0, 64}, shown, {.limit = 1});
  CHECK(dump ==
        "localhost:\n"
        "-------- MSPI_cluster_map --------\n"
        "dynamic, id 11, num ents 5, peak 7, attributes: expires 3600, sync, limit 64\n"
        "<00000001, 00000001; 00001000, 00000001; 10/3600>\n"
        "...(4 More)\n");
  shown.push_back({bytes_of(k2), bytes_of(v2), 3600, 3600, false});
  const std::string all = format_dump(spec, {2, 2, 0, 64}, shown, {.limit = std::nullopt});
  CHECK(all.find("...(") == std::string::npos);
  CHECK(all.find("<00000001, 00000002; 00002000, 00000002; 3600/3600>\n") != std::string::npos);

  const std::vector<SummaryRow> rows = {{"localhost", "inbound_SPI", 3, {12, 40, 0, 100}},
                                        {"localhost", "connections", 1, {2, 2, 1, 100}}};
  CHECK(format_summary(rows) ==
        "HOST                  NAME                                ID    #VALS    #PEAK #SLINKS\n"
        "localhost             inbound_SPI                          3       12       40       0\n"
        "localhost             connections                          1        2        2       1\n");
}
