// CryptodevEngine (DPDK cryptodev) against IpsecMbEngine (intel-ipsec-mb), on crypto_aesni_mb0
// and crypto_openssl0 vdevs created at run time:
//  - AEADs (IV = sequence number): byte-identical ESP packets from both engines, every
//    algorithm x ESN (across the 2^32 wrap) x NAT-T x outer family, and each engine decrypts both;
//  - AES-CBC + HMAC-SHA-256-128 (random per-SA IV key): cross-decryption both ways, fresh IVs;
//  - seq_hi is under the ICV with ESN (a receiver in the wrong epoch gets kAuthFailed);
//  - tampering (ciphertext, ICV, sequence number) -> kAuthFailed and counted;
//  - slices of more than one enqueue, sessions shared by two queue pairs used concurrently,
//    release_keys returning sessions, and the errors: unknown device, unsupported algorithm,
//    queue pair taken or out of range, a key block from another engine, a key-only engine.
#include <catch2/catch.hpp>

#include <rte_cycles.h>
#include <rte_cryptodev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "esp/cryptodev_engine.hpp"
#include "esp/esp_inbound.hpp"
#include "esp/esp_outbound.hpp"
#include "esp/esp_sa.hpp"
#include "esp/ipsec_mb_engine.hpp"
#include "esp/replay_window.hpp"
#include "esp_test_support.hpp"

using namespace dpvpn;
using namespace dpvpn::dataplane;
using namespace dpvpn::test;

namespace {

constexpr EspAlgorithm kAllAlgorithms[] = {EspAlgorithm::kAesGcm128, EspAlgorithm::kAesGcm256,
                                           EspAlgorithm::kAesCbc128HmacSha256,
                                           EspAlgorithm::kAesCbc256HmacSha256,
                                           EspAlgorithm::kChaCha20Poly1305};
constexpr const char* kAesniMb = "crypto_aesni_mb0";
constexpr const char* kOpenssl = "crypto_openssl0";

IpsecMbEngine& mb() {
  static std::unique_ptr<IpsecMbEngine> e = [] {
    std::unique_ptr<IpsecMbEngine> out;
    const Status s = IpsecMbEngine::create(&out);
    if (!s.is_ok()) FAIL(s.to_string());
    return out;
  }();
  return *e;
}

// One device as the dataplane uses it: a key engine (no queue pair, the writer thread's) that
// prepares every SA, and a worker engine on its own queue pair that runs the bursts.
struct Cdev {
  std::unique_ptr<CryptodevEngine> keys;
  std::unique_ptr<CryptodevEngine> worker;
};

Cdev make_cdev(const std::string& device, uint16_t qp = 0) {
  Cdev c;
  Status s = CryptodevEngine::create(device, CryptodevEngine::kNoQueuePair, &c.keys);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  s = CryptodevEngine::create(device, qp, &c.worker);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  return c;
}


// IPv4 UDP 10.0.0.1 -> 10.1.0.1, or IPv6 UDP fd00::1 -> fd01::1, with `payload` bytes.
Bytes inner_packet(size_t payload, bool v6, uint8_t seed) {
  Bytes b((v6 ? 48 : 28) + payload);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(seed + i * 13);
  if (!v6) {
    b[0] = 0x45;
    b[1] = 0;
    put16(&b[2], static_cast<uint16_t>(b.size()));
    b[6] = 0x40;
    b[7] = 0;
    b[8] = 64;
    b[9] = 17;
    b[10] = b[11] = 0;
    put32(&b[12], 0x0a000001);
    put32(&b[16], 0x0a010001);
    put16(&b[24], static_cast<uint16_t>(8 + payload));
    const uint16_t ck = rte_ipv4_cksum(reinterpret_cast<const rte_ipv4_hdr*>(b.data()));
    std::memcpy(&b[10], &ck, 2);
  } else {
    b[0] = 0x60;
    b[1] = b[2] = b[3] = 0;
    put16(&b[4], static_cast<uint16_t>(8 + payload));
    b[6] = 17;
    b[7] = 64;
    std::memset(&b[8], 0, 32);
    b[8] = 0xfd;
    b[23] = 1;
    b[24] = 0xfd;
    b[25] = 0x01;
    b[39] = 1;
    put16(&b[44], static_cast<uint16_t>(8 + payload));
  }
  return b;
}

std::vector<Bytes> inner_set(uint8_t seed) {
  std::vector<Bytes> out;
  size_t k = 0;
  for (size_t size : {0, 1, 15, 16, 17, 100, 999, 1000, 1400}) out.push_back(inner_packet(size, ++k % 2 == 0, seed));
  return out;
}

SaParams make_params(EspAlgorithm alg, SaDirection dir, bool esn, bool natt = false, bool v6 = false) {
  return make_test_sa(alg, dir, esn, natt, v6, {0x51525354, 0x21, 0x91});
}

// An SA whose key block came from `keys`; its cryptodev session is released with it.
struct TestSa {
  std::unique_ptr<EspSa> sa;
  const CryptoEngine* keys = nullptr;
  TestSa() = default;
  TestSa(TestSa&&) = default;
  ~TestSa() {
    if (sa) keys->release_keys(const_cast<EspKeyBlock*>(sa->key_block_for_test()));
  }
  EspSa* operator->() { return sa.get(); }
  EspSa* get() { return sa.get(); }
};

TestSa make_sa(const CryptoEngine& keys, const SaParams& p, uint64_t first_seq = 1) {
  TestSa t;
  t.keys = &keys;
  EspSaOptions o;
  o.first_seq = first_seq;
  const Status s = create_esp_sa(p, keys, o, &t.sa);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  return t;
}

// An inbound SA whose window already sits just below `near` (a live SA near the sender).
TestSa make_inbound(const CryptoEngine& keys, const SaParams& p, uint64_t near) {
  TestSa t = make_sa(keys, p);
  if (near > 64) t->replay_window()->accept(near - 32);
  return t;
}

std::vector<EspResult> run_burst(CryptoEngine& engine, bool outbound, EspSa* sa, std::vector<Mbuf>& mbufs) {
  std::vector<rte_mbuf*> raw;
  for (auto& m : mbufs) raw.push_back(m.get());
  std::vector<EspSa*> sas(raw.size(), sa);
  std::vector<EspResult> results(raw.size(), EspResult::kCount);
  if (outbound) {
    esp_outbound_burst(engine, raw.data(), sas.data(), static_cast<uint32_t>(raw.size()), results.data());
  } else {
    esp_inbound_burst(engine, raw.data(), sas.data(), static_cast<uint32_t>(raw.size()), results.data());
  }
  return results;
}

std::vector<Mbuf> mbufs_of(const std::vector<Bytes>& packets) {
  std::vector<Mbuf> out;
  for (const Bytes& b : packets) out.push_back(make_mbuf(b));
  return out;
}

std::vector<Bytes> contents(const std::vector<Mbuf>& mbufs) {
  std::vector<Bytes> out;
  for (const Mbuf& m : mbufs) out.push_back(bytes_of(m.get()));
  return out;
}

void require_all(const std::vector<EspResult>& results, EspResult want) {
  for (size_t i = 0; i < results.size(); ++i) {
    CAPTURE(i);
    CHECK(results[i] == want);
  }
}

// Offset of the ESP header in an outbound packet of `p` (outer IP + optional UDP).
size_t esp_offset(const SaParams& p) { return (p.local.is_v4() ? 20 : 40) + (p.natt ? 8 : 0); }

}  // namespace

TEST_CASE("cryptodev devices: capabilities as expected", "[cryptodev]") {
  Cdev aesni = make_cdev(kAesniMb);
  CHECK(aesni.worker->driver_name() == "crypto_aesni_mb");
  CHECK(aesni.worker->device_name() == kAesniMb);
  for (EspAlgorithm alg : kAllAlgorithms) {
    CAPTURE(algorithm_name(alg));
    CHECK(aesni.worker->supports(alg));
  }
  Cdev ossl = make_cdev(kOpenssl);
  CHECK(ossl.worker->driver_name() == "crypto_openssl");
  CHECK(ossl.worker->supports(EspAlgorithm::kAesGcm128));
  CHECK(ossl.worker->supports(EspAlgorithm::kAesGcm256));
  CHECK(ossl.worker->supports(EspAlgorithm::kAesCbc128HmacSha256));
  CHECK(ossl.worker->supports(EspAlgorithm::kAesCbc256HmacSha256));
  // The unsupported algorithm is refused when the SA is made, naming device and algorithm.
  if (!ossl.worker->supports(EspAlgorithm::kChaCha20Poly1305)) {
    std::unique_ptr<EspSa> sa;
    const Status s = create_esp_sa(make_params(EspAlgorithm::kChaCha20Poly1305, SaDirection::kOutbound, false),
                                   *ossl.keys, {}, &sa);
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.message().find("crypto_openssl0") != std::string::npos);
    CHECK(s.message().find("chacha20poly1305") != std::string::npos);
  }
}

TEST_CASE("cryptodev AEAD output is byte-identical to intel-ipsec-mb; both decrypt both", "[cryptodev]") {
  const std::string device = GENERATE(as<std::string>{}, kAesniMb, kOpenssl);
  const EspAlgorithm alg = GENERATE(EspAlgorithm::kAesGcm128, EspAlgorithm::kAesGcm256, EspAlgorithm::kChaCha20Poly1305);
  const bool esn = GENERATE(false, true);
  const bool natt = GENERATE(false, true);
  const bool v6 = GENERATE(false, true);
  CAPTURE(device, algorithm_name(alg), esn, natt, v6);
  Cdev cd = make_cdev(device);
  if (!cd.worker->supports(alg)) {
    REQUIRE(device == kOpenssl);  // crypto_aesni_mb runs them all
    REQUIRE(alg == EspAlgorithm::kChaCha20Poly1305);
    return;
  }
  const uint64_t first = esn ? 0xfffffffaull : 1;  // ESN: the burst crosses into seq_hi = 1
  const SaParams out_p = make_params(alg, SaDirection::kOutbound, esn, natt, v6);
  const SaParams in_p = make_params(alg, SaDirection::kInbound, esn, natt, v6);
  TestSa cd_out = make_sa(*cd.keys, out_p, first);
  TestSa mb_out = make_sa(mb(), out_p, first);

  const std::vector<Bytes> inners = inner_set(0x33);
  std::vector<Mbuf> a = mbufs_of(inners), b = mbufs_of(inners);
  require_all(run_burst(*cd.worker, true, cd_out.get(), a), EspResult::kOk);
  require_all(run_burst(mb(), true, mb_out.get(), b), EspResult::kOk);
  const std::vector<Bytes> cd_bytes = contents(a), mb_bytes = contents(b);
  for (size_t i = 0; i < inners.size(); ++i) {
    CAPTURE(i);
    CHECK(cd_bytes[i] == mb_bytes[i]);
  }

  // Each engine decrypts the other's packets (identical, but run both to prove the inbound path).
  TestSa cd_in = make_inbound(*cd.keys, in_p, first);
  TestSa mb_in = make_inbound(mb(), in_p, first);
  require_all(run_burst(*cd.worker, false, cd_in.get(), b), EspResult::kOk);
  require_all(run_burst(mb(), false, mb_in.get(), a), EspResult::kOk);
  CHECK(contents(a) == inners);
  CHECK(contents(b) == inners);
  CHECK(cd_in->counters().packets == inners.size());
  if (esn) CHECK(cd_in->replay_window()->top() == first + inners.size() - 1);
}

TEST_CASE("cryptodev AES-CBC + HMAC-SHA-256-128 cross-decrypts with intel-ipsec-mb", "[cryptodev]") {
  const std::string device = GENERATE(as<std::string>{}, kAesniMb, kOpenssl);
  const EspAlgorithm alg = GENERATE(EspAlgorithm::kAesCbc128HmacSha256, EspAlgorithm::kAesCbc256HmacSha256);
  const bool esn = GENERATE(false, true);
  const bool natt = GENERATE(false, true);
  const bool v6 = GENERATE(false, true);
  CAPTURE(device, algorithm_name(alg), esn, natt, v6);
  Cdev cd = make_cdev(device);
  const uint64_t first = esn ? 0xfffffffaull : 1;
  const SaParams out_p = make_params(alg, SaDirection::kOutbound, esn, natt, v6);
  const SaParams in_p = make_params(alg, SaDirection::kInbound, esn, natt, v6);
  const std::vector<Bytes> inners = inner_set(0x77);

  // cryptodev -> intel-ipsec-mb and cryptodev -> cryptodev
  TestSa cd_out = make_sa(*cd.keys, out_p, first);
  std::vector<Mbuf> a = mbufs_of(inners), a2 = mbufs_of(inners);
  require_all(run_burst(*cd.worker, true, cd_out.get(), a), EspResult::kOk);
  // The second burst continues the sequence; its packets go to a second receiver pair.
  const std::vector<Bytes> cd_bytes = contents(a);
  std::set<std::array<uint8_t, 16>> ivs;
  for (const Bytes& pkt : cd_bytes) {
    std::array<uint8_t, 16> iv;
    std::memcpy(iv.data(), pkt.data() + esp_offset(out_p) + 8, 16);
    ivs.insert(iv);
  }
  CHECK(ivs.size() == inners.size());  // a fresh IV per packet
  {
    std::vector<Mbuf> copy = mbufs_of(cd_bytes);
    TestSa cd_in = make_inbound(*cd.keys, in_p, first);
    require_all(run_burst(*cd.worker, false, cd_in.get(), copy), EspResult::kOk);
    CHECK(contents(copy) == inners);
  }
  TestSa mb_in = make_inbound(mb(), in_p, first);
  require_all(run_burst(mb(), false, mb_in.get(), a), EspResult::kOk);
  CHECK(contents(a) == inners);

  // intel-ipsec-mb -> cryptodev
  TestSa mb_out = make_sa(mb(), out_p, first);
  require_all(run_burst(mb(), true, mb_out.get(), a2), EspResult::kOk);
  TestSa cd_in = make_inbound(*cd.keys, in_p, first);
  require_all(run_burst(*cd.worker, false, cd_in.get(), a2), EspResult::kOk);
  CHECK(contents(a2) == inners);
  CHECK(cd_in->counters().packets == inners.size());
  CHECK(cd_in->counters().auth_failures == 0);
}

TEST_CASE("cryptodev: with ESN the high sequence bits are under the ICV", "[cryptodev]") {
  const std::string device = GENERATE(as<std::string>{}, kAesniMb, kOpenssl);
  const EspAlgorithm alg = GENERATE(from_range(std::begin(kAllAlgorithms), std::end(kAllAlgorithms)));
  CAPTURE(device, algorithm_name(alg));
  Cdev cd = make_cdev(device);
  if (!cd.worker->supports(alg)) return;
  // Sent in epoch seq_hi = 5; a fresh receiver infers epoch 0 for the same low 32 bits.
  TestSa out = make_sa(*cd.keys, make_params(alg, SaDirection::kOutbound, true), 0x500000010ull);
  std::vector<Mbuf> m = mbufs_of({inner_packet(60, false, 1), inner_packet(61, true, 2)});
  require_all(run_burst(*cd.worker, true, out.get(), m), EspResult::kOk);
  const std::vector<Bytes> sent = contents(m);
  TestSa wrong_epoch = make_sa(*cd.keys, make_params(alg, SaDirection::kInbound, true));
  require_all(run_burst(*cd.worker, false, wrong_epoch.get(), m), EspResult::kAuthFailed);
  CHECK(wrong_epoch->counters().auth_failures == 2);
  // ... while a receiver in the right epoch accepts them, on both engines.
  for (CryptoEngine* e : {static_cast<CryptoEngine*>(cd.worker.get()), static_cast<CryptoEngine*>(&mb())}) {
    const CryptoEngine& keys = e == &mb() ? static_cast<const CryptoEngine&>(mb()) : *cd.keys;
    TestSa right = make_inbound(keys, make_params(alg, SaDirection::kInbound, true), 0x500000010ull);
    std::vector<Mbuf> again = mbufs_of(sent);
    require_all(run_burst(*e, false, right.get(), again), EspResult::kOk);
  }
}

TEST_CASE("cryptodev: tampered packets fail authentication", "[cryptodev]") {
  const std::string device = GENERATE(as<std::string>{}, kAesniMb, kOpenssl);
  const EspAlgorithm alg = GENERATE(from_range(std::begin(kAllAlgorithms), std::end(kAllAlgorithms)));
  const bool esn = GENERATE(false, true);
  CAPTURE(device, algorithm_name(alg), esn);
  Cdev cd = make_cdev(device);
  if (!cd.worker->supports(alg)) return;
  const SaParams out_p = make_params(alg, SaDirection::kOutbound, esn);
  TestSa out = make_sa(*cd.keys, out_p, 100);
  const std::vector<Bytes> inners = {inner_packet(200, false, 9), inner_packet(200, true, 9), inner_packet(200, false, 8),
                                     inner_packet(200, true, 7)};
  std::vector<Mbuf> m = mbufs_of(inners);
  require_all(run_burst(*cd.worker, true, out.get(), m), EspResult::kOk);
  std::vector<Bytes> pkts = contents(m);
  const size_t esp = esp_offset(out_p);
  pkts[0][pkts[0].size() - 40] ^= 0x01;  // ciphertext
  pkts[1][pkts[1].size() - 1] ^= 0x80;   // ICV
  pkts[2][esp + 7] ^= 0x01;              // sequence number (in the AAD / under the HMAC)
  pkts[3][esp + 8] ^= 0x01;              // IV
  TestSa in = make_inbound(*cd.keys, make_params(alg, SaDirection::kInbound, esn), 100);
  std::vector<Mbuf> t = mbufs_of(pkts);
  const std::vector<EspResult> r = run_burst(*cd.worker, false, in.get(), t);
  CHECK(r[0] == EspResult::kAuthFailed);
  CHECK(r[1] == EspResult::kAuthFailed);
  CHECK(r[2] == EspResult::kAuthFailed);
  // CBC: the IV is under the HMAC; AEAD: it is the nonce. Either way the ICV no longer matches.
  CHECK(r[3] == EspResult::kAuthFailed);
  CHECK(in->counters().auth_failures == 4);
  CHECK(in->counters().packets == 0);
  // The untouched originals still decrypt afterwards (the window did not move).
  std::vector<Mbuf> ok = mbufs_of(contents(m));
  require_all(run_burst(*cd.worker, false, in.get(), ok), EspResult::kOk);
  CHECK(contents(ok) == inners);
}

namespace {
// Collects the CryptoOps ESP builds, without running them (the test runs them later, all at once).
class CapturingEngine final : public CryptoEngine {
 public:
  explicit CapturingEngine(const CryptoEngine& keys) : keys_(keys) {}
  Status prepare_keys(const SaParams& params, EspKeyBlock* out) const override { return keys_.prepare_keys(params, out); }
  void process_burst(CryptoOp* ops, uint32_t n) override {
    for (uint32_t i = 0; i < n; ++i) {
      ops[i].status = CryptoStatus::kOk;
      captured.push_back(ops[i]);
    }
  }
  std::vector<CryptoOp> captured;

 private:
  const CryptoEngine& keys_;
};
}  // namespace

TEST_CASE("cryptodev: one process_burst larger than an enqueue batch", "[cryptodev]") {
  Cdev cd = make_cdev(kAesniMb);
  const SaParams p = make_params(EspAlgorithm::kAesGcm256, SaDirection::kOutbound, true);
  TestSa cd_out = make_sa(*cd.keys, p, 7);
  TestSa mb_out = make_sa(mb(), p, 7);
  std::vector<Bytes> inners;
  for (size_t i = 0; i < 2 * CryptodevEngine::kBatch + 13; ++i) inners.push_back(inner_packet(i * 5, i % 3 == 0, 0x40));
  std::vector<Mbuf> a = mbufs_of(inners), b = mbufs_of(inners);
  CapturingEngine capture(*cd.keys);
  require_all(run_burst(capture, true, cd_out.get(), a), EspResult::kOk);  // headers/trailers only
  REQUIRE(capture.captured.size() == inners.size());
  rte_cryptodev_stats before{}, after{};
  REQUIRE(rte_cryptodev_stats_get(cd.worker->device_id(), &before) == 0);
  cd.worker->process_burst(capture.captured.data(), static_cast<uint32_t>(capture.captured.size()));
  REQUIRE(rte_cryptodev_stats_get(cd.worker->device_id(), &after) == 0);
  for (const CryptoOp& op : capture.captured) CHECK(op.status == CryptoStatus::kOk);
  // Every op went through the device (and came back), in three enqueue slices.
  CHECK(after.enqueued_count - before.enqueued_count == inners.size());
  CHECK(after.dequeued_count - before.dequeued_count == inners.size());
  CHECK(after.enqueue_err_count == before.enqueue_err_count);
  require_all(run_burst(mb(), true, mb_out.get(), b), EspResult::kOk);
  CHECK(contents(a) == contents(b));
}

TEST_CASE("cryptodev: sessions are shared by the queue pairs of a device", "[cryptodev]") {
  // Two worker engines (queue pairs 0 and 1) on two threads encrypt with one outbound SA whose
  // session the key engine made; every packet decrypts.
  const std::string device = GENERATE(as<std::string>{}, kAesniMb, kOpenssl);
  const EspAlgorithm alg = GENERATE(EspAlgorithm::kAesGcm128, EspAlgorithm::kAesCbc256HmacSha256);
  CAPTURE(device, algorithm_name(alg));
  Cdev cd = make_cdev(device, 0);
  std::unique_ptr<CryptodevEngine> second;
  REQUIRE(CryptodevEngine::create(device, 1, &second).is_ok());
  TestSa out = make_sa(*cd.keys, make_params(alg, SaDirection::kOutbound, false));
  constexpr int kBursts = 50;
  // Packets made here: Catch's macros are not for other threads.
  std::vector<std::vector<Mbuf>> pkts(2);
  for (int index = 0; index < 2; ++index) {
    for (int i = 0; i < kBursts; ++i) {
      for (Mbuf& m : mbufs_of(inner_set(static_cast<uint8_t>(index * 100 + i)))) pkts[index].push_back(std::move(m));
    }
  }
  const size_t per_burst = inner_set(0).size();
  std::atomic<int> bad{0};
  auto worker = [&](CryptodevEngine* engine, int index) {
    for (int i = 0; i < kBursts; ++i) {
      std::vector<rte_mbuf*> raw;
      for (size_t j = 0; j < per_burst; ++j) raw.push_back(pkts[index][i * per_burst + j].get());
      std::vector<EspSa*> sas(raw.size(), out.get());
      std::vector<EspResult> r(raw.size());
      esp_outbound_burst(*engine, raw.data(), sas.data(), static_cast<uint32_t>(raw.size()), r.data());
      for (EspResult x : r) bad += x != EspResult::kOk;
    }
  };
  std::thread t0(worker, cd.worker.get(), 0), t1(worker, second.get(), 1);
  t0.join();
  t1.join();
  REQUIRE(bad == 0);
  CHECK(cd.worker->device_errors() == 0);
  CHECK(second->device_errors() == 0);
  // One receiver decrypts all 2 x 450 (sequence numbers interleave, all within its window).
  TestSa in = make_sa(*cd.keys, make_params(alg, SaDirection::kInbound, false));
  std::vector<Mbuf> all;
  for (auto& v : pkts) {
    for (Mbuf& m : v) all.push_back(std::move(m));
  }
  require_all(run_burst(*second, false, in.get(), all), EspResult::kOk);
  CHECK(in->counters().packets == 2 * kBursts * per_burst);
  for (size_t k = 0; k < all.size(); ++k) {
    const size_t index = k / (kBursts * per_burst), i = (k / per_burst) % kBursts;
    CHECK(bytes_of(all[k].get()) == inner_set(static_cast<uint8_t>(index * 100 + i))[k % per_burst]);
  }
}

TEST_CASE("cryptodev: errors are clear and ops fail safely", "[cryptodev]") {
  std::unique_ptr<CryptodevEngine> e;
  SECTION("unknown device") {
    const Status s = CryptodevEngine::create("crypto_nosuchdriver0", 0, &e);
    CHECK(s.code() == StatusCode::kNotFound);
    CHECK(s.message().find("crypto_nosuchdriver0") != std::string::npos);
    const Status pci = CryptodevEngine::create("0000:99:00.0", 0, &e);
    CHECK(pci.code() == StatusCode::kNotFound);
  }
  SECTION("queue pairs: one engine each, and only those configured") {
    Cdev cd = make_cdev(kAesniMb, 3);
    const Status taken = CryptodevEngine::create(kAesniMb, 3, &e);
    CHECK(taken.code() == StatusCode::kAlreadyExists);
    const Status range = CryptodevEngine::create(kAesniMb, 8, &e);
    CHECK(range.code() == StatusCode::kResourceExhausted);
    cd.worker.reset();  // gives queue pair 3 back
    CHECK(CryptodevEngine::create(kAesniMb, 3, &e).is_ok());
  }
  SECTION("ops that cannot run are kError, never run") {
    Cdev cd = make_cdev(kAesniMb);
    const SaParams p = make_params(EspAlgorithm::kAesGcm128, SaDirection::kOutbound, false);
    TestSa from_mb = make_sa(mb(), p);       // an intel-ipsec-mb key block
    std::vector<Mbuf> m = mbufs_of(inner_set(1));
    require_all(run_burst(*cd.worker, true, from_mb.get(), m), EspResult::kCryptoError);
    TestSa from_cd = make_sa(*cd.keys, p);
    std::vector<Mbuf> m2 = mbufs_of(inner_set(1));
    require_all(run_burst(*cd.keys, true, from_cd.get(), m2), EspResult::kCryptoError);  // key-only engine
    CHECK(cd.worker->device_errors() == inner_set(1).size());
    CHECK(cd.worker->timeouts() == 0);
  }
  SECTION("a session only in its SA's direction") {
    Cdev cd = make_cdev(kAesniMb);
    TestSa out = make_sa(*cd.keys, make_params(EspAlgorithm::kAesGcm128, SaDirection::kOutbound, false));
    std::vector<Mbuf> m = mbufs_of(inner_set(2));
    require_all(run_burst(*cd.worker, true, out.get(), m), EspResult::kOk);
    // Feed the outbound SA's key block to a decrypt op: refused, not run with the wrong session.
    CryptoOp op{};
    op.keys = out->key_block_for_test();
    op.mbuf = m[0].get();
    op.algorithm = EspAlgorithm::kAesGcm128;
    op.direction = CryptoDirection::kDecrypt;
    op.aad_len = 8;
    op.esp = rte_pktmbuf_mtod_offset(m[0].get(), uint8_t*, 20);
    op.iv = op.esp + 8;
    op.cipher = op.iv + 8;
    op.cipher_len = 16;
    cd.worker->process_burst(&op, 1);
    CHECK(op.status == CryptoStatus::kError);
  }
}

TEST_CASE("cryptodev: release_keys returns sessions to the pool", "[cryptodev]") {
  Cdev cd = make_cdev(kAesniMb);
  const uint32_t before = cd.keys->sessions_in_use();
  {
    std::vector<TestSa> sas;
    for (EspAlgorithm alg : kAllAlgorithms) {
      sas.push_back(make_sa(*cd.keys, make_params(alg, SaDirection::kOutbound, false)));
      sas.push_back(make_sa(*cd.keys, make_params(alg, SaDirection::kInbound, true)));
    }
    CHECK(cd.keys->sessions_in_use() == before + 10);  // one session per SA
  }
  CHECK(cd.keys->sessions_in_use() == before);
}

// Not run by default: ./test_cryptodev_engine "[.bench]". Outbound ESP per packet (framing +
// crypto), 64-packet bursts, one lcore; the mbuf refill is timed separately and subtracted.
TEST_CASE("cryptodev vs intel-ipsec-mb: outbound cost per packet", "[.bench]") {
  Cdev aesni = make_cdev(kAesniMb, 5);
  Cdev ossl = make_cdev(kOpenssl, 5);
  constexpr uint32_t kBurst = 64;
  constexpr int kRounds = 2000;
  for (EspAlgorithm alg : {EspAlgorithm::kAesGcm128, EspAlgorithm::kAesCbc128HmacSha256}) {
    for (size_t size : {64, 1400}) {
      const Bytes inner = inner_packet(size - 28, false, 1);
      std::vector<Mbuf> m;
      for (uint32_t i = 0; i < kBurst; ++i) m.push_back(make_mbuf(inner));
      std::vector<rte_mbuf*> raw;
      for (auto& x : m) raw.push_back(x.get());
      auto refill = [&] {
        for (rte_mbuf* x : raw) {
          rte_pktmbuf_reset(x);
          std::memcpy(rte_pktmbuf_append(x, static_cast<uint16_t>(inner.size())), inner.data(), inner.size());
        }
      };
      auto time_ns = [&](CryptoEngine* engine, const CryptoEngine& keys) {
        TestSa sa = make_sa(keys, make_params(alg, SaDirection::kOutbound, false));
        std::vector<EspSa*> sas(kBurst, sa.get());
        EspResult r[kBurst];
        const uint64_t t0 = rte_get_tsc_cycles();
        for (int i = 0; i < kRounds; ++i) {
          refill();
          if (engine != nullptr) esp_outbound_burst(*engine, raw.data(), sas.data(), kBurst, r);
        }
        const uint64_t cycles = rte_get_tsc_cycles() - t0;
        return static_cast<double>(cycles) * 1e9 / static_cast<double>(rte_get_tsc_hz()) / (kRounds * kBurst);
      };
      const double base = time_ns(nullptr, mb());
      const double t_mb = time_ns(&mb(), mb()) - base;
      const double t_aesni = time_ns(aesni.worker.get(), *aesni.keys) - base;
      const double t_ossl = time_ns(ossl.worker.get(), *ossl.keys) - base;
      std::printf("%-18s %5zu B: ipsec-mb %7.1f ns  cryptodev aesni_mb %7.1f ns  cryptodev openssl %7.1f ns\n",
                  std::string(algorithm_name(alg)).c_str(), size, t_mb, t_aesni, t_ossl);
    }
  }
}
