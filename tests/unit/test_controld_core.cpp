// controld's plain parts: peer sharding is stable and spreads; parent <-> instance messages round-
// trip and malformed ones are refused; IKE over UDP (non-ESP marker, keepalives, ESP, punted
// frames); address ranges as prefixes; child SAs as the Dataplane API takes them.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "core/ike_udp.hpp"
#include "core/ipc_channel.hpp"
#include "core/ipc_message.hpp"
#include "core/proto_util.hpp"
#include "core/sa_convert.hpp"
#include "core/shard.hpp"
#include "ike/crypto/transforms.hpp"

using namespace dpvpn;
using namespace dpvpn::controld;

namespace {

IpAddr ip(const char* text) { return *IpAddr::parse(text); }

std::vector<uint8_t> ike_message(size_t size = 40) {
  std::vector<uint8_t> m(size, 0x5a);
  m[0] = 0x11;  // an initiator SPI that is not the zero marker
  return m;
}

// Ethernet [+ 802.1Q] + IPv4/IPv6 + UDP around a payload, as the dataplane punts it.
std::vector<uint8_t> frame(const IpAddr& src, const IpAddr& dst, uint16_t sport, uint16_t dport,
                           const std::vector<uint8_t>& payload, bool vlan = false) {
  std::vector<uint8_t> f(12, 0x02);
  if (vlan) f.insert(f.end(), {0x81, 0x00, 0x00, 0x07});
  const bool v4 = src.is_v4();
  f.insert(f.end(), {uint8_t(v4 ? 0x08 : 0x86), uint8_t(v4 ? 0x00 : 0xdd)});
  const size_t udp_len = 8 + payload.size();
  if (v4) {
    const size_t total = 20 + udp_len;
    f.insert(f.end(), {0x45, 0, uint8_t(total >> 8), uint8_t(total), 0, 0, 0x40, 0, 64, 17, 0, 0});
    f.insert(f.end(), src.bytes.begin() + 12, src.bytes.end());
    f.insert(f.end(), dst.bytes.begin() + 12, dst.bytes.end());
  } else {
    f.insert(f.end(), {0x60, 0, 0, 0, uint8_t(udp_len >> 8), uint8_t(udp_len), 17, 64});
    f.insert(f.end(), src.bytes.begin(), src.bytes.end());
    f.insert(f.end(), dst.bytes.begin(), dst.bytes.end());
  }
  f.insert(f.end(), {uint8_t(sport >> 8), uint8_t(sport), uint8_t(dport >> 8), uint8_t(dport), uint8_t(udp_len >> 8),
                     uint8_t(udp_len), 0, 0});
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

ike::ChildSaHalf half(bool inbound, uint32_t spi) {
  ike::ChildSaHalf h;
  h.spi = spi;
  h.inbound = inbound;
  h.local = ip("192.0.2.1");
  h.remote = ip("192.0.2.2");
  h.suite.encr = ike::encr::kAesGcm16;
  h.suite.encr_key_bits = 128;
  h.keys.encr_key.assign(20, 0x42);
  h.local_ts = {{ip("10.1.0.0"), ip("10.1.255.255"), 0, 0, 65535}};
  h.remote_ts = {{ip("10.2.0.0"), ip("10.2.0.255"), 0, 0, 65535}, {ip("10.3.0.0"), ip("10.3.0.5"), 6, 443, 443}};
  h.soft_seconds = 3000;
  h.hard_seconds = 3600;
  return h;
}

}  // namespace

TEST_CASE("sharding: the same peer always lands on the same instance, and peers spread") {
  CHECK(shard_of(ip("192.0.2.2"), 1) == 0);
  const uint32_t first = shard_of(ip("192.0.2.2"), 4);
  for (int i = 0; i < 10; ++i) CHECK(shard_of(ip("192.0.2.2"), 4) == first);
  // A known value, so a change of the hash (which would move every peer at upgrade) is noticed.
  CHECK(shard_of(ip("192.0.2.2"), 1000003) == 0xc9b5b503u % 1000003u);
  CHECK(shard_of(ip("192.0.2.2"), 4) == 3);
  for (uint32_t n : {2u, 3u, 4u, 8u}) {
    std::map<uint32_t, int> per_instance;
    for (uint32_t host = 1; host <= 1000; ++host) {
      const uint32_t s = shard_of(IpAddr::v4(0xc6120000u + host), n);  // 198.18.0.0/15, consecutive peers
      REQUIRE(s < n);
      ++per_instance[s];
    }
    INFO("instances " << n);
    REQUIRE(per_instance.size() == n);
    for (const auto& [instance, count] : per_instance) {
      CHECK(count > 1000 / static_cast<int>(n) / 2);  // none gets less than half its share
    }
  }
  // IPv6 peers spread too.
  std::set<uint32_t> v6;
  for (int i = 1; i <= 64; ++i) v6.insert(shard_of(ip(("2001:db8::" + std::to_string(i)).c_str()), 4));
  CHECK(v6.size() == 4);
  ControldConfig cfg;
  std::vector<ConnectionConfig> all(3);
  all[0].name = "a";
  all[0].remote = ip("192.0.2.2");
  all[1].name = "b";
  all[1].remote = ip("192.0.2.3");
  all[2].name = "c";
  all[2].remote = ip("192.0.2.2");
  size_t total = 0;
  for (uint32_t i = 0; i < 3; ++i) {
    for (const ConnectionConfig& c : connections_of_shard(all, i, 3)) {
      CHECK(shard_of(c.remote, 3) == i);
      ++total;
    }
  }
  CHECK(total == 3);
}

TEST_CASE("ipc: every message body round-trips; truncated or unknown records are refused") {
  ike::Datagram d{{ip("192.0.2.1"), 4500}, {ip("2001:db8::2"), 31000}, ike_message()};
  ipc::Frame f{ipc::Type::kDatagram, 77, ipc::encode_datagram(d)};
  ipc::Frame back;
  REQUIRE(ipc::decode(ipc::encode(f), &back).is_ok());
  CHECK(back.type == ipc::Type::kDatagram);
  CHECK(back.id == 77);
  ike::Datagram d2;
  REQUIRE(ipc::decode_datagram(back.body, &d2));
  CHECK(d2.local == d.local);
  CHECK(d2.remote == d.remote);
  CHECK(d2.bytes == d.bytes);

  ipc::ConfigBody c{"c.yaml", "controld: {}\n", 3}, c2;
  REQUIRE(ipc::decode_config(ipc::encode_config(c), &c2));
  CHECK((c2.file_name == c.file_name && c2.yaml == c.yaml && c2.instances == 3));
  ipc::AcquireBody a{ip("10.1.0.5"), ip("10.2.0.9"), ip("192.0.2.2")}, a2;
  REQUIRE(ipc::decode_acquire(ipc::encode_acquire(a), &a2));
  CHECK((a2.src == a.src && a2.dst == a.dst && a2.gateway == a.gateway));
  ipc::ExpireBody e{0xc1000001, true}, e2;
  REQUIRE(ipc::decode_expire(ipc::encode_expire(e), &e2));
  CHECK((e2.spi == e.spi && e2.hard));
  ipc::SetLevelBody l{"debug", true}, l2;
  REQUIRE(ipc::decode_set_level(ipc::encode_set_level(l), &l2));
  CHECK((l2.level == "debug" && l2.truncate));
  ipc::InitiateBody i{"site-b", "net"}, i2;
  REQUIRE(ipc::decode_initiate(ipc::encode_initiate(i), &i2));
  CHECK((i2.connection == "site-b" && i2.child == "net"));
  Status s;
  REQUIRE(ipc::decode_result(ipc::encode_result({StatusCode::kNotFound, "no such"}), &s));
  CHECK((s.code() == StatusCode::kNotFound && s.message() == "no such"));
  ipc::StatusReplyBody r{"abc", std::string("\0x", 2)}, r2;
  REQUIRE(ipc::decode_status_reply(ipc::encode_status_reply(r), &r2));
  CHECK((r2.instance == "abc" && r2.tunnels == r.tunnels));

  CHECK_FALSE(ipc::decode({1, 0, 0}, &back).is_ok());
  CHECK_FALSE(ipc::decode({99, 0, 0, 0, 1}, &back).is_ok());
  std::vector<uint8_t> body = ipc::encode_datagram(d);
  body.pop_back();
  CHECK_FALSE(ipc::decode_datagram(body, &d2));
  body = ipc::encode_datagram(d);
  body.push_back(0);
  CHECK_FALSE(ipc::decode_datagram(body, &d2));  // trailing bytes
  ipc::ByteWriter w;
  w.u32(0xffffffff);  // a length far past the end
  CHECK_FALSE(ipc::decode_initiate(w.take(), &i2));
}

TEST_CASE("ipc: records keep their boundaries over the socketpair; EOF is reported") {
  int fds[2];
  REQUIRE(ipc::make_socket_pair(fds));
  ipc::set_nonblocking(fds[1]);
  const std::string big(300000, 'y');  // a large config file is one record
  REQUIRE(ipc::send_frame(fds[0], {ipc::Type::kReload, 1, ipc::encode_config({"f", big, 2})}, 1000).is_ok());
  REQUIRE(ipc::send_frame(fds[0], {ipc::Type::kStatus, 2, {}}, 1000).is_ok());
  ipc::Frame f;
  REQUIRE(ipc::read_frame(fds[1], &f) == ipc::ReadResult::kFrame);
  ipc::ConfigBody c;
  REQUIRE(ipc::decode_config(f.body, &c));
  CHECK(c.yaml == big);
  REQUIRE(ipc::read_frame(fds[1], &f) == ipc::ReadResult::kFrame);
  CHECK((f.type == ipc::Type::kStatus && f.id == 2 && f.body.empty()));
  CHECK(ipc::read_frame(fds[1], &f) == ipc::ReadResult::kNone);
  close(fds[0]);
  CHECK(ipc::read_frame(fds[1], &f) == ipc::ReadResult::kClosed);
  close(fds[1]);
}

TEST_CASE("IKE over UDP: 500 as is; 4500 behind the non-ESP marker; keepalives and ESP dropped") {
  const std::vector<uint8_t> m = ike_message();
  CHECK(ike_from_udp(500, m) == m);
  CHECK(udp_for_ike(500, m) == m);
  const std::vector<uint8_t> natt = udp_for_ike(4500, m);
  REQUIRE(natt.size() == m.size() + 4);
  CHECK(std::vector<uint8_t>(natt.begin(), natt.begin() + 4) == std::vector<uint8_t>(4, 0));
  CHECK(ike_from_udp(4500, natt) == m);
  CHECK_FALSE(ike_from_udp(4500, std::vector<uint8_t>{0xff}));  // NAT-T keepalive
  CHECK(udp_for_ike(4500, std::vector<uint8_t>{ike::kNatKeepalive}) == std::vector<uint8_t>{0xff});  // sent as is
  std::vector<uint8_t> esp = m;
  esp.insert(esp.begin(), {0, 0, 0x10, 0x01});  // a non-zero SPI where the marker would be
  CHECK_FALSE(ike_from_udp(4500, esp));
  CHECK_FALSE(ike_from_udp(500, std::vector<uint8_t>(10, 0)));  // shorter than an IKE header
}

TEST_CASE("punted frames: IPv4, IPv6, 802.1Q, port 4500 with the marker; anything else refused") {
  const std::vector<uint8_t> m = ike_message();
  auto d = datagram_from_frame(frame(ip("192.0.2.2"), ip("192.0.2.1"), 500, 500, m));
  REQUIRE(d);
  CHECK(d->remote == ike::Endpoint{ip("192.0.2.2"), 500});
  CHECK(d->local == ike::Endpoint{ip("192.0.2.1"), 500});
  CHECK(d->bytes == m);
  d = datagram_from_frame(frame(ip("2001:db8::2"), ip("2001:db8::1"), 31000, 4500, udp_for_ike(4500, m), true));
  REQUIRE(d);
  CHECK(d->remote == ike::Endpoint{ip("2001:db8::2"), 31000});
  CHECK(d->local == ike::Endpoint{ip("2001:db8::1"), 4500});
  CHECK(d->bytes == m);
  CHECK_FALSE(datagram_from_frame(frame(ip("192.0.2.2"), ip("192.0.2.1"), 4500, 4500, {0xff})));
  CHECK_FALSE(datagram_from_frame(frame(ip("192.0.2.2"), ip("192.0.2.1"), 500, 53, m)));  // not an IKE port
  std::vector<uint8_t> cut = frame(ip("192.0.2.2"), ip("192.0.2.1"), 500, 500, m);
  cut.resize(cut.size() - 5);  // IP length says more than the frame holds
  CHECK_FALSE(datagram_from_frame(cut));
  CHECK_FALSE(datagram_from_frame(std::vector<uint8_t>(10, 0)));
}

TEST_CASE("ranges as prefixes: exact covers, IPv4 and IPv6") {
  auto texts = [](const std::vector<IpPrefix>& list) {
    std::vector<std::string> out;
    for (const IpPrefix& p : list) out.push_back(p.to_string());
    return out;
  };
  CHECK(texts(range_to_prefixes(ip("10.1.0.0"), ip("10.1.255.255"))) == std::vector<std::string>{"10.1.0.0/16"});
  CHECK(texts(range_to_prefixes(ip("10.0.0.1"), ip("10.0.0.1"))) == std::vector<std::string>{"10.0.0.1/32"});
  CHECK(texts(range_to_prefixes(ip("10.0.0.1"), ip("10.0.0.6"))) ==
        std::vector<std::string>{"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"});
  CHECK(texts(range_to_prefixes(ip("0.0.0.0"), ip("255.255.255.255"))) == std::vector<std::string>{"0.0.0.0/0"});
  CHECK(texts(range_to_prefixes(ip("::"), ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))) ==
        std::vector<std::string>{"::/0"});
  CHECK(texts(range_to_prefixes(ip("fd01::"), ip("fd01::ffff"))) == std::vector<std::string>{"fd01::/112"});
  CHECK(range_to_prefixes(ip("10.0.0.9"), ip("10.0.0.1")).empty());
  CHECK(range_to_prefixes(ip("10.0.0.1"), ip("fd01::1")).empty());
}

TEST_CASE("child SAs for the dataplane: algorithms, keys as SaParams takes them, ids, policies") {
  v1::EspAlgorithm alg{};
  ike::EspSuite suite;
  suite.encr = ike::encr::kAesGcm16;
  suite.encr_key_bits = 256;
  REQUIRE(esp_algorithm_of(suite, &alg).is_ok());
  CHECK(alg == v1::AES256_GCM);
  suite.encr = ike::encr::kAesCbc;
  suite.encr_key_bits = 128;
  suite.integ = ike::integ::kHmacSha256_128;
  REQUIRE(esp_algorithm_of(suite, &alg).is_ok());
  CHECK(alg == v1::AES128_CBC_SHA256);
  suite.integ = ike::integ::kHmacSha512_256;  // the dataplane has no CBC + SHA-512
  CHECK(esp_algorithm_of(suite, &alg).code() == StatusCode::kInvalidArgument);
  suite = {};
  suite.encr = ike::encr::kChaCha20Poly1305;
  REQUIRE(esp_algorithm_of(suite, &alg).is_ok());
  CHECK(alg == v1::CHACHA20_POLY1305);

  v1::Sa sa;
  REQUIRE(sa_of(half(true, 0xc1000001), "b/net", &sa).is_ok());
  CHECK(sa.name() == "b/net");
  CHECK(sa.spi() == 0xc1000001);
  CHECK(sa.direction() == v1::INBOUND);
  CHECK(sa.algorithm() == v1::AES128_GCM);
  CHECK(sa.key() == std::string(20, '\x42'));  // 16-byte key + 4-byte salt
  CHECK(sa.auth_key().empty());
  CHECK(sa.local().addr() == std::string("\xc0\x00\x02\x01", 4));
  CHECK(sa.remote_ts_size() == 2);
  CHECK(sa.remote_ts(1).protocol() == 6);
  CHECK(sa.remote_ts(1).port_lo() == 443);
  CHECK(sa.lifetime().soft_seconds() == 3000);
  CHECK(sa.lifetime().hard_seconds() == 3600);
  CHECK_FALSE(sa.natt());

  CHECK(sa_id_of(half(true, 7)).address().addr() == std::string("\xc0\x00\x02\x01", 4));   // ours
  CHECK(sa_id_of(half(false, 7)).address().addr() == std::string("\xc0\x00\x02\x02", 4));  // the peer

  // 10.2.0.0-10.2.0.255 is one prefix, 10.3.0.0-10.3.0.5 two: three policies through SPI 0xb001.
  const std::vector<v1::Policy> policies = policies_of(half(false, 0xb001));
  REQUIRE(policies.size() == 3);
  CHECK(policy_key(policies[0]) == "10.2.0.0/24");
  CHECK(policy_key(policies[1]) == "10.3.0.0/30");
  CHECK(policy_key(policies[2]) == "10.3.0.4/31");
  for (const v1::Policy& p : policies) {
    CHECK(p.action() == v1::Policy::PROTECT);
    CHECK(p.spi() == 0xb001);
    CHECK(p.gateway().addr() == std::string("\xc0\x00\x02\x02", 4));
    CHECK(p.local().length() == 16);
  }
}
