// Inject's routed alternative against a real in-process dataplane (ring ethdevs, the worker polled
// by the test, the main loop on its own thread), over gRPC: a UDP datagram from one of our
// addresses leaves the port the routes choose, in IPv4 / IPv6 + UDP with correct checksums, to the
// next hop's MAC; an unresolved next hop is asked for (ARP / ND) and the datagram waits for the
// answer; what cannot be sent is refused with the field's name.
#include <catch2/catch.hpp>

#include <grpcpp/grpcpp.h>
#include <rte_mbuf.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "agent/agent_server.hpp"
#include "agent/dataplane_backend_impl.hpp"
#include "dpvpn/v1/dataplane.grpc.pb.h"
#include "agent_rig.hpp"
#include "runtime/dataplane.hpp"
#include "runtime/udp_packet.hpp"

using namespace dpvpn;
using namespace dpvpn::dataplane;
using namespace dpvpn::test;

namespace {

// The ring dataplane with IPv6 on the outside port and a route to 203.0.113.0/24 via 192.0.2.254.
std::string config(const std::string& in, const std::string& out) {
  std::string text = ring_dataplane_config(in, out);
  const std::string v4 = "addresses: [192.0.2.1/24]";
  text.replace(text.find(v4), v4.size(), "addresses: [192.0.2.1/24, \"2001:db8:2::1/64\"]");
  return text + R"(routes:
  - prefix: 203.0.113.0/24
    via: 192.0.2.254
    port: outside
)";
}

struct Rig : AgentRig {
  std::unique_ptr<v1::Dataplane::Stub> stub;
  Rig(const std::string& in, const std::string& out) : AgentRig(in, out, config(in, out)) {
    stub = v1::Dataplane::NewStub(grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
  }
  grpc::Status inject(const v1::InjectRequest& request) {
    grpc::ClientContext context;
    v1::InjectReply reply;
    return stub->Inject(&context, request, &reply);
  }
};

std::string bytes(const char* text) {
  v1::IpAddress a;
  const IpAddr ip = *IpAddr::parse(text);
  return ip.is_v4() ? std::string(reinterpret_cast<const char*>(ip.bytes.data()) + 12, 4)
                    : std::string(reinterpret_cast<const char*>(ip.bytes.data()), 16);
}

v1::InjectRequest udp(const char* src, const char* dst, uint32_t sport, uint32_t dport, const std::string& payload) {
  v1::InjectRequest r;
  r.mutable_udp()->mutable_src()->set_addr(bytes(src));
  r.mutable_udp()->mutable_dst()->set_addr(bytes(dst));
  r.mutable_udp()->set_sport(sport);
  r.mutable_udp()->set_dport(dport);
  r.mutable_udp()->set_payload(payload);
  return r;
}

// One's-complement sum over 16-bit words, independent of the dataplane's code.
uint32_t words(const uint8_t* p, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i < n; i += 2) s += static_cast<uint32_t>(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
  return s;
}
uint16_t folded(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(s);
}

// Checks an Ethernet + IPv4 + UDP frame and returns its UDP payload.
std::string check_ipv4_udp(const std::vector<uint8_t>& f, uint8_t dst_mac_last, const char* src, const char* dst,
                           uint16_t sport, uint16_t dport) {
  REQUIRE(f.size() >= 14 + 28);
  CHECK(std::vector<uint8_t>(f.begin(), f.begin() + 6) == std::vector<uint8_t>{0x02, 0, 0, 0, 0x02, dst_mac_last});
  CHECK(std::vector<uint8_t>(f.begin() + 6, f.begin() + 12) == std::vector<uint8_t>{0x02, 0, 0, 0, 0, 0x02});
  CHECK((f[12] == 0x08 && f[13] == 0x00));
  const uint8_t* ip = f.data() + 14;
  CHECK(ip[0] == 0x45);
  CHECK(ip[9] == 17);
  CHECK(folded(words(ip, 20)) == 0xffff);  // header checksum
  CHECK(std::string(reinterpret_cast<const char*>(ip + 12), 4) == bytes(src));
  CHECK(std::string(reinterpret_cast<const char*>(ip + 16), 4) == bytes(dst));
  const size_t total = size_t(ip[2] << 8 | ip[3]);
  REQUIRE(f.size() >= 14 + total);
  const uint8_t* u = ip + 20;
  const size_t udp_len = size_t(u[4] << 8 | u[5]);
  CHECK(udp_len == total - 20);
  CHECK((u[0] << 8 | u[1]) == sport);
  CHECK((u[2] << 8 | u[3]) == dport);
  const uint32_t pseudo = words(ip + 12, 8) + 17 + static_cast<uint32_t>(udp_len);
  CHECK(folded(pseudo + words(u, udp_len)) == 0xffff);  // UDP checksum over the pseudo-header
  return std::string(reinterpret_cast<const char*>(u + 8), udp_len - 8);
}

bool is_arp_request_for(const std::vector<uint8_t>& f, const std::vector<uint8_t>& target) {
  return f.size() >= 14 + 28 && f[12] == 0x08 && f[13] == 0x06 && f[14 + 7] == 1 &&
         std::vector<uint8_t>(f.begin() + 14 + 24, f.begin() + 14 + 28) == target;
}

bool is_neighbor_solicitation_for(const std::vector<uint8_t>& f, const char* target) {
  return f.size() >= 14 + 64 && f[12] == 0x86 && f[13] == 0xdd && f[14 + 6] == 58 && f[14 + 40] == 135 &&
         std::string(reinterpret_cast<const char*>(f.data()) + 14 + 48, 16) == bytes(target);
}

}  // namespace

TEST_CASE("routed Inject: IPv4 to a known neighbour, to an unresolved one (ARP, held), via a gateway") {
  Rig rig("ri_in", "ri_out");
  // The peer 192.0.2.2 is known (gratuitous ARP); 192.0.2.3 and the gateway 192.0.2.254 are not.
  receive(rig.pool, rig.outside.rx, garp(0xc0000202, 0x02));
  rig.settle();
  sent(rig.outside.tx);

  const std::string ike = std::string(4, '\0') + std::string(60, '\x21');  // NAT-T marker + an IKE message
  REQUIRE(rig.inject(udp("192.0.2.1", "192.0.2.2", 4500, 4500, ike)).ok());
  rig.settle();
  auto out = sent(rig.outside.tx);
  REQUIRE(out.size() == 1);
  CHECK(check_ipv4_udp(out[0], 0x02, "192.0.2.1", "192.0.2.2", 4500, 4500) == ike);
  CHECK(sent(rig.inside.tx).empty());

  // Unresolved: an ARP request goes out, the datagram waits, then leaves once the answer is in.
  REQUIRE(rig.inject(udp("192.0.2.1", "192.0.2.3", 500, 500, std::string(40, '\x33'))).ok());
  rig.settle();
  out = sent(rig.outside.tx);
  REQUIRE(!out.empty());  // one request; a second only if this machine stalled the test for 1 s
  for (const auto& f : out) CHECK(is_arp_request_for(f, {192, 0, 2, 3}));
  receive(rig.pool, rig.outside.rx, garp(0xc0000203, 0x03));
  rig.settle();
  out = sent(rig.outside.tx);
  REQUIRE(out.size() == 1);
  CHECK(check_ipv4_udp(out[0], 0x03, "192.0.2.1", "192.0.2.3", 500, 500) == std::string(40, '\x33'));

  // Off-link: resolved through the route's gateway, addressed to the destination.
  receive(rig.pool, rig.outside.rx, garp(0xc00002fe, 0xfe));
  rig.settle();
  sent(rig.outside.tx);
  REQUIRE(rig.inject(udp("192.0.2.1", "203.0.113.9", 500, 500, std::string(30, '\x44'))).ok());
  rig.settle();
  out = sent(rig.outside.tx);
  REQUIRE(out.size() == 1);
  CHECK(check_ipv4_udp(out[0], 0xfe, "192.0.2.1", "203.0.113.9", 500, 500) == std::string(30, '\x44'));

  // The frame form still works beside it.
  v1::InjectRequest frame;
  frame.set_port("outside");
  frame.set_frame(std::string(60, '\x01'));
  REQUIRE(rig.inject(frame).ok());
  rig.settle();
  CHECK(sent(rig.outside.tx).size() == 1);
}

TEST_CASE("routed Inject: IPv6 asks for the neighbour (ND); refusals name the field") {
  Rig rig("ri6_in", "ri6_out");
  REQUIRE(rig.inject(udp("2001:db8:2::1", "2001:db8:2::7", 500, 500, std::string(40, '\x55'))).ok());
  rig.settle();
  auto out = sent(rig.outside.tx);
  REQUIRE(!out.empty());
  for (const auto& f : out) CHECK(is_neighbor_solicitation_for(f, "2001:db8:2::7"));

  auto refused = [&](const v1::InjectRequest& r, grpc::StatusCode code, const std::string& text) {
    const grpc::Status s = rig.inject(r);
    INFO(s.error_message());
    CHECK(s.error_code() == code);
    CHECK(s.error_message().find(text) != std::string::npos);
  };
  refused(udp("192.0.2.9", "192.0.2.2", 500, 500, "x"), grpc::StatusCode::INVALID_ARGUMENT, "udp.src: 192.0.2.9 is not");
  refused(udp("192.0.2.1", "198.51.100.1", 500, 500, "x"), grpc::StatusCode::NOT_FOUND, "udp.dst: no route");
  refused(udp("192.0.2.1", "2001:db8:2::7", 500, 500, "x"), grpc::StatusCode::INVALID_ARGUMENT, "udp.dst: not the family");
  refused(udp("192.0.2.1", "192.0.2.2", 0, 500, "x"), grpc::StatusCode::INVALID_ARGUMENT, "udp.sport");
  refused(udp("192.0.2.1", "192.0.2.2", 500, 500, std::string(1500, 'x')), grpc::StatusCode::INVALID_ARGUMENT,
          "exceeds port outside's MTU 1500");
  v1::InjectRequest both = udp("192.0.2.1", "192.0.2.2", 500, 500, "x");
  both.set_port("outside");
  refused(both, grpc::StatusCode::INVALID_ARGUMENT, "either port and frame, or udp");
  rig.settle();
  // Nothing refused left; the dataplane may only have asked for ::7 again (once a second).
  for (const auto& f : sent(rig.outside.tx)) CHECK(is_neighbor_solicitation_for(f, "2001:db8:2::7"));
}

TEST_CASE("build_udp_packet: IPv6 UDP checksum over the pseudo-header; an odd payload") {
  const IpAddr src = *IpAddr::parse("2001:db8::1"), dst = *IpAddr::parse("2001:db8::2");
  const std::vector<uint8_t> payload = {1, 2, 3, 4, 5};
  const std::vector<uint8_t> p = build_udp_packet(src, dst, 4500, 31000, payload);
  REQUIRE(p.size() == 40 + 8 + 5);
  CHECK(p[0] >> 4 == 6);
  CHECK((p[4] << 8 | p[5]) == 13);
  CHECK(p[6] == 17);
  const uint32_t pseudo = words(p.data() + 8, 32) + 17 + 13;
  CHECK(folded(pseudo + words(p.data() + 40, 13)) == 0xffff);
}
