// libFuzzer target: the receive path of a worker on one frame — the classifier (parse_packet), the
// local responders (ARP, ICMP/ICMPv6 echo, neighbour solicitation, neighbour learning) and ESP
// decapsulation (esp_inbound_burst on intel-ipsec-mb) with four inbound SAs.
//
// Oracles, beyond ASan/UBSan: no mbuf may leak (the pool's in-use count is 0 after every input);
// a reply a responder built must itself parse; a decapsulated packet must be exactly one inner IP
// packet; a packet sent twice in one burst is accepted at most once.
//
// The frame is not copied into the mbuf's own data room (DPDK memory, invisible to ASan) but into
// a malloc'd buffer of exactly the frame's size attached as an external buffer: a read or write one
// byte past the frame, or before it, is an ASan report. There is no headroom and no tailroom.
//
// Input: one Ethernet frame (inputs over 2000 bytes are skipped). For ESP (IP protocol 50, or UDP
// to port 4500) the SA is sas[SPI's last byte % 4] — tests/fuzz/make_corpus.py uses the same SPIs,
// keys and addresses, so its packets decrypt. Bit 0 of the frame's byte 11 (the last byte of the
// source MAC) sends the packet twice in one burst. DPVPN_FUZZ_VERBOSE=1 prints what happened.
//
// tests/fuzz/regressions/ holds inputs that once crashed (a short neighbour solicitation that
// was answered past the end of its buffer); fuzz.sh runs them first.
#include <netinet/in.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "eal/eal_session.hpp"
#include "esp/esp_inbound.hpp"
#include "esp/esp_sa.hpp"
#include "esp/ipsec_mb_engine.hpp"
#include "esp/replay_window.hpp"
#include "net/local_responder.hpp"
#include "net/packet_view.hpp"
#include "port/port_info.hpp"

using namespace dpvpn;
using namespace dpvpn::dataplane;

namespace {

constexpr size_t kMaxInput = 2000;
constexpr uint32_t kSpiBase = 0x0d0c0b00;  // SA i has SPI kSpiBase + i
constexpr uint32_t kNumSas = 4;
constexpr uint8_t kIcmp6NeighborSolicit = 135, kIcmp6NeighborAdvert = 136;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_packet: %s\n", what);
  std::abort();
}

IpAddr addr(const char* text) {
  const std::optional<IpAddr> a = IpAddr::parse(text);
  if (!a) fail("bad address literal");
  return *a;
}

// The same keys as make_corpus.py: cipher key (+ salt) bytes 0x10*(i+1)+j, auth key 0x80+3i+j.
std::vector<uint8_t> key_bytes(size_t n, uint8_t first) {
  std::vector<uint8_t> k(n);
  for (size_t j = 0; j < n; ++j) k[j] = static_cast<uint8_t>(first + j);
  return k;
}

struct SaSpec {
  EspAlgorithm algorithm;
  bool esn, natt, v6, selectors;
};
// 0: AES-GCM-128 + ESN, outer IPv4; 1: AES-256-CBC/HMAC-SHA-256 + NAT-T, outer IPv4;
// 2: ChaCha20-Poly1305, outer IPv6, with traffic selectors; 3: AES-256-CBC + ESN + NAT-T, IPv6.
constexpr SaSpec kSaSpecs[kNumSas] = {
    {EspAlgorithm::kAesGcm128, true, false, false, false},
    {EspAlgorithm::kAesCbc256HmacSha256, false, true, false, false},
    {EspAlgorithm::kChaCha20Poly1305, false, false, true, true},
    {EspAlgorithm::kAesCbc256HmacSha256, true, true, true, false},
};

SaParams sa_params(uint32_t i) {
  const SaSpec& s = kSaSpecs[i];
  SaParams p;
  p.name = "fuzz" + std::to_string(i);
  p.spi = kSpiBase + i;
  p.direction = SaDirection::kInbound;
  p.algorithm = s.algorithm;
  p.key = key_bytes(expected_key_size(s.algorithm), static_cast<uint8_t>(0x10 * (i + 1)));
  p.auth_key = key_bytes(expected_auth_key_size(s.algorithm), static_cast<uint8_t>(0x80 + 3 * i));
  p.local = addr(s.v6 ? "2001:db8::1" : "192.0.2.1");
  p.remote = addr(s.v6 ? "2001:db8:ffff::2" : "198.51.100.2");
  p.esn = s.esn;
  p.natt = s.natt;
  p.natt_local_port = 4500;
  p.natt_remote_port = 14500;
  if (s.selectors) {
    p.remote_ts = {TrafficSelector::prefix(addr("10.0.0.0"), 24), TrafficSelector::prefix(addr("fd00::"), 16)};
    p.local_ts = {TrafficSelector::prefix(addr("10.1.0.0"), 16, 17), TrafficSelector::prefix(addr("fd01::"), 16)};
  }
  return p;
}

struct Fixture {
  EalSession eal{no_device_eal_args("fuzz", 256)};
  rte_mempool* pool = nullptr;
  std::unique_ptr<IpsecMbEngine> engine;
  std::unique_ptr<EspSa> sas[kNumSas];
  PortInfo port;
  bool verbose = std::getenv("DPVPN_FUZZ_VERBOSE") != nullptr;

  Fixture() {
    if (!eal.status().is_ok()) fail(eal.status().to_string().c_str());
    // Mbuf headers only (data room 0): every frame lives in its own external buffer. No cache,
    // so rte_mempool_in_use_count is exact.
    pool = rte_pktmbuf_pool_create("fuzz", 63, 0, 0, 0, SOCKET_ID_ANY);
    if (pool == nullptr) fail("rte_pktmbuf_pool_create failed");
    if (const Status s = IpsecMbEngine::create(&engine); !s.is_ok()) fail(s.to_string().c_str());
    for (uint32_t i = 0; i < kNumSas; ++i) renew_sa(i);
    port.name = "fuzz0";
    port.mac = {0x02, 0, 0, 0, 0, 0x01};
    port.addresses = {{addr("192.0.2.1"), 24}, {addr("198.51.100.1"), 24}, {addr("2001:db8::1"), 64},
                      {addr("fe80::1"), 64}};
  }
  ~Fixture() {
    for (auto& sa : sas) sa.reset();
    engine.reset();
    rte_mempool_free(pool);
  }

  // A fresh SA (empty replay window), so that every input is judged on its own.
  void renew_sa(uint32_t i) {
    sas[i].reset();
    if (const Status s = create_esp_sa(sa_params(i), *engine, {}, &sas[i]); !s.is_ok()) fail(s.to_string().c_str());
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void free_ext(void* buf, void* shinfo) {
  std::free(buf);
  std::free(shinfo);
}

// An mbuf whose data is a malloc'd copy of the frame, exactly `size` bytes, no headroom and
// `tailroom` bytes (0xdb) after the frame.
rte_mbuf* make_mbuf(rte_mempool* pool, const uint8_t* data, size_t size, size_t tailroom = 0) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) fail("mbuf pool empty (leak?)");
  const size_t buf_len = size + tailroom;
  auto* buf = static_cast<uint8_t*>(std::malloc(buf_len == 0 ? 1 : buf_len));
  auto* shinfo = static_cast<rte_mbuf_ext_shared_info*>(std::malloc(sizeof(rte_mbuf_ext_shared_info)));
  if (buf == nullptr || shinfo == nullptr) fail("malloc failed");
  if (size != 0) std::memcpy(buf, data, size);
  std::memset(buf + size, 0xdb, tailroom);
  shinfo->free_cb = free_ext;
  shinfo->fcb_opaque = shinfo;
  rte_mbuf_ext_refcnt_set(shinfo, 1);
  rte_pktmbuf_attach_extbuf(m, buf, 0, static_cast<uint16_t>(buf_len), shinfo);
  m->data_off = 0;
  m->data_len = static_cast<uint16_t>(size);
  m->pkt_len = static_cast<uint32_t>(size);
  return m;
}

// A reply a responder built goes back out of the port: it must parse as what it claims to be.
void check_reply(const rte_mbuf* m, L3 l3, const char* what) {
  PacketView r;
  if (parse_packet(m, &r) != DropReason::kNone || r.l3 != l3) fail(what);
}

void run_responders(Fixture& f, rte_mbuf* m, const PacketView& v) {
  IpAddr learned;
  std::array<uint8_t, 6> mac{};
  neighbor_from_packet(m, v, &learned, &mac);  // what the main thread does with punted ARP / ND
  if (v.l3 == L3::kArp) {
    if (classify_arp(m, v, f.port) == ArpKind::kRequestForUs) {
      make_arp_reply(m, v, f.port);
      check_reply(m, L3::kArp, "ARP reply does not parse");
      if (classify_arp(m, v, f.port) != ArpKind::kLearnOnly) fail("ARP reply is not a reply");
    }
    return;
  }
  const uint8_t icmp_type = static_cast<uint8_t>(v.sport >> 8);
  if (v.l3 == L3::kIpv6 && v.proto == IPPROTO_ICMPV6 &&
      (icmp_type == kIcmp6NeighborSolicit || icmp_type == kIcmp6NeighborAdvert)) {
    const bool answered = answer_neighbor_solicitation(m, v, f.port);
    if (answered) {
      PacketView r;
      if (parse_packet(m, &r) != DropReason::kNone || r.l3 != L3::kIpv6 || r.proto != IPPROTO_ICMPV6 ||
          (r.sport >> 8) != kIcmp6NeighborAdvert || r.l4_len != 32) {
        fail("neighbour advertisement does not parse");
      }
    }
    return;
  }
  if (answer_echo(m, v)) check_reply(m, v.l3, "echo reply does not parse");
}

void run_esp(Fixture& f, const uint8_t* data, size_t size, rte_mbuf* first, const PacketView& v) {
  const bool udp = v.proto == IPPROTO_UDP;
  const size_t spi_at = size_t{v.l2_len} + v.l3_len + (udp ? 8 : 0);
  const uint32_t index = spi_at + 4 <= size ? data[spi_at + 3] % kNumSas : 0;
  EspSa* sa = f.sas[index].get();
  const uint32_t n = (data[11] & 1) != 0 ? 2 : 1;
  rte_mbuf* pkts[2] = {first, n == 2 ? make_mbuf(f.pool, data, size) : nullptr};
  EspSa* sas[2] = {sa, sa};
  EspResult results[2] = {EspResult::kCount, EspResult::kCount};
  for (uint32_t i = 0; i < n; ++i) rte_pktmbuf_adj(pkts[i], v.l2_len);
  esp_inbound_burst(*f.engine, pkts, sas, n, results);
  uint32_t accepted = 0;
  for (uint32_t i = 0; i < n; ++i) {
    if (f.verbose) std::fprintf(stderr, "  esp sa %u: %s\n", index, std::string(esp_result_name(results[i])).c_str());
    if (results[i] == EspResult::kCount) fail("esp_inbound_burst left a result unset");
    if (results[i] != EspResult::kOk) continue;
    ++accepted;
    const rte_mbuf* m = pkts[i];
    const auto* ip = rte_pktmbuf_mtod(m, const uint8_t*);
    if (m->nb_segs != 1 || m->pkt_len != m->data_len || m->data_len < 20) fail("bad decapsulated mbuf");
    const uint32_t ip_len = (ip[0] >> 4) == 4 ? (ip[2] << 8 | ip[3])
                            : (ip[0] >> 4) == 6 ? 40u + (ip[4] << 8 | ip[5])
                                                : 0;
    if (ip_len != m->data_len) fail("decapsulated packet is not exactly one inner IP packet");
  }
  if (accepted > 1) fail("the same ESP packet was accepted twice in one burst");
  if (n == 2) rte_pktmbuf_free(pkts[1]);
  // Whatever the outcome, the next input starts from an empty replay window.
  if (sa->replay_window()->top() != 0) f.renew_sa(index);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return 0;
  Fixture& f = fixture();
  rte_mbuf* m = make_mbuf(f.pool, data, size);
  PacketView v;
  const DropReason reason = parse_packet(m, &v);
  if (f.verbose) {
    std::fprintf(stderr, "fuzz_packet: %zu bytes: %s l3=%d proto=%u sport=%u dport=%u\n", size,
                 std::string(drop_reason_name(reason)).c_str(), static_cast<int>(v.l3), v.proto, v.sport, v.dport);
  }
  if (reason == DropReason::kNone) {
    const bool ip = v.l3 == L3::kIpv4 || v.l3 == L3::kIpv6;
    if (ip && (v.proto == IPPROTO_ESP || (v.proto == IPPROTO_UDP && v.dport == 4500))) {
      run_esp(f, data, size, m, v);
    } else {
      run_responders(f, m, v);
    }
  }
  rte_pktmbuf_free(m);
  if (rte_mempool_in_use_count(f.pool) != 0) fail("mbuf leak: the pool's in-use count is not 0 after an input");
  return 0;
}
