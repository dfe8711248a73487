// The inbound selector check after decryption (esp/inner_selectors.hpp) against TrafficSelector::contains,
// the control plane's definition: exact cases for the IPv4 windows of the usual child SA (edges, "any",
// ranges that reach beyond the IPv4-mapped block, sides that must fall back to the ranges), then a
// randomized differential run over IPv4/IPv6 packets, protocols, fragments and truncated headers.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "esp/inner_selectors.hpp"

using namespace dpvpn;
using namespace dpvpn::dataplane;

namespace {

struct Inner {
  IpAddr src, dst;
  uint8_t proto = 17;
  uint16_t sport = 0, dport = 0;
  bool fragment = false;   // IPv4: a non-first fragment (no ports)
  bool truncated = false;  // the IP header only (no room for ports)
};

std::vector<uint8_t> packet(const Inner& p) {
  std::vector<uint8_t> b;
  const bool v4 = p.src.is_v4();
  const size_t hdr = v4 ? 20 : 40;
  b.assign(hdr + (p.truncated ? 0 : 8), 0);
  if (v4) {
    b[0] = 0x45;
    b[2] = static_cast<uint8_t>(b.size() >> 8);
    b[3] = static_cast<uint8_t>(b.size());
    if (p.fragment) b[7] = 0x10;  // offset 16 x 8 bytes
    b[8] = 64;
    b[9] = p.proto;
    for (int i = 0; i < 4; ++i) {
      b[12 + i] = p.src.bytes[12 + i];
      b[16 + i] = p.dst.bytes[12 + i];
    }
  } else {
    b[0] = 0x60;
    b[5] = static_cast<uint8_t>(b.size() - 40);
    b[6] = p.proto;
    b[7] = 64;
    for (int i = 0; i < 16; ++i) {
      b[8 + i] = p.src.bytes[i];
      b[24 + i] = p.dst.bytes[i];
    }
  }
  if (!p.truncated) {
    b[hdr] = static_cast<uint8_t>(p.sport >> 8);
    b[hdr + 1] = static_cast<uint8_t>(p.sport);
    b[hdr + 2] = static_cast<uint8_t>(p.dport >> 8);
    b[hdr + 3] = static_cast<uint8_t>(p.dport);
  }
  return b;
}

// RFC 4301's rule as the control plane states it: an empty side is any; ports only where the packet
// has them (TCP, UDP, SCTP; not in a later fragment), else 0.
bool expected(const std::vector<TrafficSelector>& remote, const std::vector<TrafficSelector>& local, const Inner& p) {
  const bool ports = (p.proto == 6 || p.proto == 17 || p.proto == 132) && !p.fragment && !p.truncated;
  const auto side = [&](const std::vector<TrafficSelector>& list, const IpAddr& a, uint16_t port) {
    if (list.empty()) return true;
    for (const TrafficSelector& ts : list) {
      if (ts.contains(a, p.proto, ports ? port : 0)) return true;
    }
    return false;
  };
  return side(remote, p.src, p.sport) && side(local, p.dst, p.dport);
}

bool matches(const EspSaSelectors& sel, const Inner& p) {
  const std::vector<uint8_t> b = packet(p);
  return inner_matches_selectors(sel, b.data(), static_cast<uint32_t>(b.size()));
}

IpAddr v4(uint32_t a) { return IpAddr::v4(a); }

TrafficSelector range(const IpAddr& start, const IpAddr& end) {
  TrafficSelector ts;
  ts.start = start;
  ts.end = end;
  return ts;
}

IpAddr v6(uint8_t first, uint8_t last) {
  std::array<uint8_t, 16> b{};
  b[0] = first;
  b[15] = last;
  return IpAddr::v6(b);
}

}  // namespace

TEST_CASE("inner selectors: IPv4 windows of the usual child SA", "[esp][selectors]") {
  // The bench's tunnel: the peer's 10.2.0.0/24 to our 10.1.0.0/24.
  const EspSaSelectors sel({TrafficSelector::prefix(v4(0x0a010000), 24)}, {TrafficSelector::prefix(v4(0x0a020000), 24)});
  REQUIRE(sel.v4_windows);
  CHECK(sel.remote_v4_start == 0x0a020000u);
  CHECK(sel.remote_v4_span == 255u);
  CHECK(sel.local_v4_start == 0x0a010000u);
  CHECK(sel.local_v4_span == 255u);
  const auto in = [&](uint32_t src, uint32_t dst) { return matches(sel, {v4(src), v4(dst), 17, 1, 2}); };
  CHECK(in(0x0a020000, 0x0a010000));
  CHECK(in(0x0a0200ff, 0x0a0100ff));
  CHECK_FALSE(in(0x0a020100, 0x0a010000));  // one past the remote range
  CHECK_FALSE(in(0x0a01ffff, 0x0a010000));  // one before it
  CHECK_FALSE(in(0x0a020005, 0x0a010100));
  CHECK_FALSE(in(0x0a020005, 0x0a00ffff));
  CHECK_FALSE(in(0x0a010005, 0x0a020005));  // the sides swapped

  SECTION("no selector on a side: any address") {
    const EspSaSelectors any({}, {TrafficSelector::prefix(v4(0x0a020000), 24)});
    REQUIRE(any.v4_windows);
    CHECK(any.local_v4_span == UINT32_MAX);
    CHECK(matches(any, {v4(0x0a020001), v4(0), 17, 1, 2}));
    CHECK(matches(any, {v4(0x0a020001), v4(0xffffffff), 17, 1, 2}));
    CHECK_FALSE(matches(any, {v6(0x20, 1), v6(0x20, 2), 17, 1, 2}));  // IPv6: outside the remote IPv4 range
  }
  SECTION("the whole IPv4 space, and an IPv6 range that holds it") {
    const EspSaSelectors all({range(v4(0), v4(0xffffffff))}, {range(v6(0, 0), v6(0xff, 0xff))});
    REQUIRE(all.v4_windows);
    CHECK(all.local_v4_start == 0u);
    CHECK(all.local_v4_span == UINT32_MAX);
    CHECK(all.remote_v4_span == UINT32_MAX);
    CHECK(matches(all, {v4(0), v4(0xffffffff), 6, 1, 2}));
  }
  SECTION("a range from below the IPv4-mapped block into it is clamped to the block") {
    const EspSaSelectors part({TrafficSelector::prefix(v4(0x0a010000), 24)}, {range(v6(0, 0), v4(0x0a000000))});
    REQUIRE(part.v4_windows);
    CHECK(part.remote_v4_start == 0u);
    CHECK(part.remote_v4_span == 0x0a000000u);
    CHECK(matches(part, {v4(0x0a000000), v4(0x0a010001), 17, 1, 2}));
    CHECK_FALSE(matches(part, {v4(0x0a000001), v4(0x0a010001), 17, 1, 2}));
  }
  SECTION("sides the windows cannot hold: the ranges decide") {
    TrafficSelector udp = TrafficSelector::prefix(v4(0x0a020000), 24, 17);
    TrafficSelector ports = TrafficSelector::prefix(v4(0x0a020000), 24);
    ports.port_lo = 1000;
    ports.port_hi = 2000;
    const TrafficSelector local = TrafficSelector::prefix(v4(0x0a010000), 24);
    for (const auto& remote : {std::vector<TrafficSelector>{udp}, std::vector<TrafficSelector>{ports},
                               std::vector<TrafficSelector>{local, udp}, std::vector<TrafficSelector>{range(v6(0x20, 0), v6(0x20, 9))}}) {
      const EspSaSelectors sel2({local}, remote);
      CHECK_FALSE(sel2.v4_windows);
    }
    const EspSaSelectors by_proto({local}, {udp});
    CHECK(matches(by_proto, {v4(0x0a020001), v4(0x0a010001), 17, 1, 2}));
    CHECK_FALSE(matches(by_proto, {v4(0x0a020001), v4(0x0a010001), 6, 1, 2}));
    const EspSaSelectors by_port({local}, {ports});
    CHECK(matches(by_port, {v4(0x0a020001), v4(0x0a010001), 17, 1500, 2}));
    CHECK_FALSE(matches(by_port, {v4(0x0a020001), v4(0x0a010001), 17, 999, 2}));
  }
}

TEST_CASE("inner selectors: randomized against TrafficSelector::contains", "[esp][selectors]") {
  std::mt19937_64 rng(20261129);
  const auto pick = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  // Addresses from a small space (10.0-3.x.y and a few IPv6 ones) so that packets land inside,
  // outside and on the edges of the selectors.
  const auto addr = [&]() -> IpAddr {
    if (pick(5) == 0) return v6(pick(2) ? 0x20 : 0, static_cast<uint8_t>(pick(4)));
    return v4(0x0a000000u | pick(4) << 16 | pick(3) << 8 | (pick(2) ? pick(4) : 252 + pick(4)));
  };
  const auto selector = [&]() -> TrafficSelector {
    TrafficSelector ts;
    switch (pick(6)) {
      case 0: ts = TrafficSelector::prefix(v4(0x0a000000u | pick(4) << 16), static_cast<uint8_t>(14 + pick(11))); break;
      case 1: ts = TrafficSelector::prefix(v4(0x0a000000u | pick(4) << 16 | pick(3) << 8 | pick(256)), 32); break;
      case 2: {
        IpAddr a = addr(), b = addr();
        if (std::memcmp(b.bytes.data(), a.bytes.data(), 16) < 0) std::swap(a, b);
        ts = range(a, b);
        break;
      }
      case 3: ts = range(v6(0, 0), v4(0x0a000000u | pick(4) << 16)); break;  // across the block's start
      case 4: ts = range(v6(0x20, pick(2)), v6(0x20, static_cast<uint8_t>(2 + pick(2)))); break;
      default: ts = TrafficSelector::prefix(v4(0x0a000000u | pick(4) << 16 | pick(3) << 8), 24); break;
    }
    if (pick(4) == 0) ts.protocol = pick(2) ? 17 : 6;
    if (pick(4) == 0) {
      ts.port_lo = static_cast<uint16_t>(pick(3) * 1000);
      ts.port_hi = static_cast<uint16_t>(ts.port_lo + pick(1500));
    }
    return ts;
  };
  const auto side = [&]() {
    std::vector<TrafficSelector> list;
    const uint32_t n = pick(5) == 0 ? 0 : pick(3) == 0 ? 2 : 1;
    for (uint32_t i = 0; i < n; ++i) list.push_back(selector());
    return list;
  };
  uint64_t windows_used = 0, inside = 0, outside = 0;
  for (int s = 0; s < 3000; ++s) {
    const std::vector<TrafficSelector> local = side(), remote = side();
    const EspSaSelectors sel(local, remote);
    for (int k = 0; k < 40; ++k) {
      Inner p;
      p.src = addr();
      p.dst = p.src.is_v4() == (pick(8) != 0) ? addr() : p.src;  // mostly one family per packet
      if (p.src.is_v4() != p.dst.is_v4()) p.dst = p.src;
      static constexpr uint8_t kProtos[] = {6, 17, 1, 132, 50};
      p.proto = kProtos[pick(5)];
      p.sport = static_cast<uint16_t>(pick(3000));
      p.dport = static_cast<uint16_t>(pick(3000));
      p.fragment = p.src.is_v4() && pick(8) == 0;
      p.truncated = pick(10) == 0;
      const bool want = expected(remote, local, p);
      INFO("local " << local.size() << " remote " << remote.size() << " selectors, windows " << sel.v4_windows
                    << ", v4 " << p.src.is_v4() << ", proto " << int{p.proto} << ", ports " << p.sport << "/" << p.dport);
      REQUIRE(matches(sel, p) == want);
      windows_used += sel.v4_windows && p.src.is_v4();
      (want ? inside : outside)++;
    }
  }
  // The run must have exercised both paths and both answers.
  CHECK(windows_used > 10000);
  CHECK(inside > 10000);
  CHECK(outside > 10000);
}
