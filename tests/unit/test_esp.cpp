// dataplane/esp: round trips per algorithm, padding for every length mod 16, ICV/ciphertext
// checked against OpenSSL (an independent implementation), bad inbound packets with their exact
// result codes and counters, sequence-number exhaustion, lifetimes, key wiping, the SA factory's
// validation, and concurrent outbound use of one SA.
#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

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

IpsecMbEngine& engine() {
  static std::unique_ptr<IpsecMbEngine> e = [] {
    std::unique_ptr<IpsecMbEngine> out;
    const Status s = IpsecMbEngine::create(&out);
    if (!s.is_ok()) FAIL(s.to_string());
    return out;
  }();
  return *e;
}

uint32_t get32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

// IPv4 UDP packet 10.0.0.1 -> 10.1.0.1 with `payload` bytes of UDP payload.
Bytes inner_v4(size_t payload, uint32_t dst = 0x0a010001, uint8_t fill = 0x5a) {
  Bytes b(28 + payload, fill);
  b[0] = 0x45;
  b[1] = 0;
  put16(&b[2], static_cast<uint16_t>(b.size()));
  put16(&b[4], 0x1234);
  b[6] = 0x40;
  b[7] = 0;
  b[8] = 64;
  b[9] = 17;
  b[10] = b[11] = 0;
  put32(&b[12], 0x0a000001);
  put32(&b[16], dst);
  put16(&b[20], 1111);
  put16(&b[22], 2222);
  put16(&b[24], static_cast<uint16_t>(8 + payload));
  put16(&b[26], 0);
  const uint16_t ck = rte_ipv4_cksum(reinterpret_cast<const rte_ipv4_hdr*>(b.data()));
  std::memcpy(&b[10], &ck, 2);
  return b;
}

// IPv6 UDP packet fd00::1 -> fd01::1.
Bytes inner_v6(size_t payload) {
  Bytes b(48 + payload, 0xa5);
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
  put16(&b[40], 1111);
  put16(&b[42], 2222);
  put16(&b[44], static_cast<uint16_t>(8 + payload));
  put16(&b[46], 0);
  return b;
}

SaParams make_params(EspAlgorithm alg, SaDirection dir, bool esn = false, bool natt = false, bool v6 = false) {
  return make_test_sa(alg, dir, esn, natt, v6, {});
}

std::unique_ptr<EspSa> make_sa(const SaParams& p, const EspSaOptions& o = {}) {
  std::unique_ptr<EspSa> sa;
  const Status s = create_esp_sa(p, engine(), o, &sa);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  return sa;
}

std::vector<EspResult> run_burst(bool outbound, EspSa* sa, std::vector<Mbuf>& mbufs) {
  std::vector<rte_mbuf*> raw;
  for (auto& m : mbufs) raw.push_back(m.get());
  std::vector<EspSa*> sas(raw.size(), sa);
  std::vector<EspResult> results(raw.size(), EspResult::kCount);
  if (outbound) {
    esp_outbound_burst(engine(), raw.data(), sas.data(), static_cast<uint32_t>(raw.size()), results.data());
  } else {
    esp_inbound_burst(engine(), raw.data(), sas.data(), static_cast<uint32_t>(raw.size()), results.data());
  }
  return results;
}

EspResult run_one(bool outbound, EspSa* sa, Mbuf& m) {
  std::vector<Mbuf> v;
  v.push_back(std::move(m));
  const EspResult r = run_burst(outbound, sa, v)[0];
  m = std::move(v[0]);
  return r;
}

// Encrypts one inner packet with `sa` and returns the ESP packet bytes.
Bytes encrypt_one(EspSa* sa, const Bytes& inner) {
  Mbuf m = make_mbuf(inner);
  REQUIRE(run_one(true, sa, m) == EspResult::kOk);
  return bytes_of(m.get());
}

// ---- OpenSSL as the independent implementation -----------------------------------------------

const EVP_CIPHER* aead_cipher(EspAlgorithm alg) {
  switch (alg) {
    case EspAlgorithm::kAesGcm128: return EVP_aes_128_gcm();
    case EspAlgorithm::kAesGcm256: return EVP_aes_256_gcm();
    case EspAlgorithm::kChaCha20Poly1305: return EVP_chacha20_poly1305();
    default: return nullptr;
  }
}

// AEAD with a 12-byte nonce: returns ciphertext || tag (encrypt), or plaintext (decrypt; empty
// optional-like flag via ok).
Bytes openssl_aead(bool encrypt, EspAlgorithm alg, const Bytes& key, const uint8_t* nonce, const Bytes& aad,
                   const Bytes& in, const uint8_t* tag_in, bool* ok) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  Bytes out(in.size() + 16);
  *ok = EVP_CipherInit_ex(ctx, aead_cipher(alg), nullptr, nullptr, nullptr, encrypt ? 1 : 0) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, nullptr) == 1 &&
        EVP_CipherInit_ex(ctx, nullptr, nullptr, key.data(), nonce, -1) == 1 &&
        EVP_CipherUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size())) == 1 &&
        EVP_CipherUpdate(ctx, out.data(), &len, in.data(), static_cast<int>(in.size())) == 1;
  if (*ok && !encrypt) {
    *ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, const_cast<uint8_t*>(tag_in)) == 1;
  }
  int fin = 0;
  if (*ok) *ok = EVP_CipherFinal_ex(ctx, out.data() + len, &fin) == 1;
  if (*ok && encrypt) *ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out.data() + in.size()) == 1;
  EVP_CIPHER_CTX_free(ctx);
  out.resize(encrypt ? in.size() + 16 : in.size());
  return out;
}

Bytes openssl_cbc_decrypt(EspAlgorithm alg, const Bytes& key, const uint8_t* iv, const uint8_t* in, size_t n) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const EVP_CIPHER* c = alg == EspAlgorithm::kAesCbc128HmacSha256 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
  Bytes out(n + 16);
  int len = 0, fin = 0;
  REQUIRE(EVP_DecryptInit_ex(ctx, c, nullptr, key.data(), iv) == 1);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  REQUIRE(EVP_DecryptUpdate(ctx, out.data(), &len, in, static_cast<int>(n)) == 1);
  REQUIRE(EVP_DecryptFinal_ex(ctx, out.data() + len, &fin) == 1);
  EVP_CIPHER_CTX_free(ctx);
  out.resize(static_cast<size_t>(len + fin));
  return out;
}

Bytes hmac_sha256_128(const Bytes& key, const Bytes& data) {
  unsigned char md[32];
  unsigned int md_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), md, &md_len);
  return Bytes(md, md + 16);
}

Bytes aad_for(uint32_t spi, uint64_t seq, bool esn) {
  Bytes a(esn ? 12 : 8);
  put32(a.data(), spi);
  if (esn) {
    put32(&a[4], static_cast<uint32_t>(seq >> 32));
    put32(&a[8], static_cast<uint32_t>(seq));
  } else {
    put32(&a[4], static_cast<uint32_t>(seq));
  }
  return a;
}

// Decrypts and authenticates an ESP packet (outer IPv4, no UDP) with OpenSSL; returns the
// plaintext including padding, pad length and next header.
Bytes openssl_open(const SaParams& p, const Bytes& pkt, uint64_t seq) {
  const uint8_t* esp = pkt.data() + 20;
  const size_t esp_len = pkt.size() - 20;
  const Bytes& key = p.key;
  if (is_aead(p.algorithm)) {
    const size_t klen = key.size() - 4;
    uint8_t nonce[12];
    std::memcpy(nonce, key.data() + klen, 4);
    std::memcpy(nonce + 4, esp + 8, 8);
    const Bytes ct(esp + 16, esp + esp_len - 16);
    bool ok = false;
    const Bytes plain = openssl_aead(false, p.algorithm, Bytes(key.begin(), key.begin() + static_cast<long>(klen)),
                                     nonce, aad_for(p.spi, seq, p.esn), ct, esp + esp_len - 16, &ok);
    REQUIRE(ok);
    return plain;
  }
  Bytes authed(esp, esp + esp_len - 16);
  if (p.esn) {
    authed.resize(authed.size() + 4);
    put32(&authed[authed.size() - 4], static_cast<uint32_t>(seq >> 32));
  }
  REQUIRE(hmac_sha256_128(p.auth_key, authed) == Bytes(esp + esp_len - 16, esp + esp_len));
  return openssl_cbc_decrypt(p.algorithm, key, esp + 8, esp + 24, esp_len - 24 - 16);
}

// Builds an ESP packet (outer IPv4 192.0.2.2 -> 192.0.2.1) around `plain` (which must already
// carry its padding, pad length and next header) with OpenSSL AES-GCM-128: a packet dpvpn never
// made, so inbound's checks after the ICV can be driven with any trailer.
Bytes openssl_seal_gcm(const SaParams& p, uint64_t seq, const Bytes& plain) {
  REQUIRE(p.algorithm == EspAlgorithm::kAesGcm128);
  uint8_t iv[8];
  for (int i = 0; i < 8; ++i) iv[i] = static_cast<uint8_t>(seq >> (56 - 8 * i));
  uint8_t nonce[12];
  std::memcpy(nonce, p.key.data() + 16, 4);
  std::memcpy(nonce + 4, iv, 8);
  bool ok = false;
  const Bytes sealed = openssl_aead(true, p.algorithm, Bytes(p.key.begin(), p.key.begin() + 16), nonce,
                                    aad_for(p.spi, seq, p.esn), plain, nullptr, &ok);
  REQUIRE(ok);
  Bytes pkt(20 + 8 + 8 + sealed.size());
  pkt[0] = 0x45;
  put16(&pkt[2], static_cast<uint16_t>(pkt.size()));
  pkt[8] = 64;
  pkt[9] = 50;
  put32(&pkt[12], 0xc0000202);
  put32(&pkt[16], 0xc0000201);
  put32(&pkt[20], p.spi);
  put32(&pkt[24], static_cast<uint32_t>(seq));
  std::memcpy(&pkt[28], iv, 8);
  std::memcpy(&pkt[36], sealed.data(), sealed.size());
  return pkt;
}

Bytes with_trailer(const Bytes& inner, uint8_t next_header, size_t block = 4) {
  Bytes b = inner;
  const size_t pad = (block - (inner.size() + 2) % block) % block;
  for (size_t i = 0; i < pad; ++i) b.push_back(static_cast<uint8_t>(i + 1));
  b.push_back(static_cast<uint8_t>(pad));
  b.push_back(next_header);
  return b;
}

}  // namespace

TEST_CASE("EspSaHot is one cache line", "[esp]") {
  STATIC_REQUIRE(sizeof(EspSaHot) == 64);
  STATIC_REQUIRE(alignof(EspSaHot) == 64);
  auto sa = make_sa(make_params(EspAlgorithm::kAesGcm128, SaDirection::kOutbound));
  CHECK(reinterpret_cast<uintptr_t>(&sa->hot()) % 64 == 0);
  CHECK(reinterpret_cast<uintptr_t>(sa->key_block_for_test()) % 64 == 0);
}

TEST_CASE("round trip for every algorithm, ESN, NAT-T and outer family", "[esp]") {
  const EspAlgorithm alg = GENERATE(from_range(std::begin(kAllAlgorithms), std::end(kAllAlgorithms)));
  const bool esn = GENERATE(false, true);
  const bool natt = GENERATE(false, true);
  const bool v6 = GENERATE(false, true);
  CAPTURE(algorithm_name(alg), esn, natt, v6);
  auto out_sa = make_sa(make_params(alg, SaDirection::kOutbound, esn, natt, v6),
                        EspSaOptions{.first_seq = esn ? 0xfffffff0ull : 1});
  auto in_sa = make_sa(make_params(alg, SaDirection::kInbound, esn, natt, v6));
  if (esn) {
    // A live SA's window is already near where the sender is (a fresh one infers epoch 0).
    uint64_t full;
    REQUIRE(in_sa->replay_window()->check(0xffffffe0u, &full) == ReplayVerdict::kOk);
    in_sa->replay_window()->accept(full);
  }
  std::vector<Bytes> inners;
  for (size_t size : {0, 1, 15, 16, 17, 100, 1000, 1400}) inners.push_back(size % 2 ? inner_v4(size) : inner_v6(size));
  std::vector<Mbuf> mbufs;
  for (const Bytes& b : inners) mbufs.push_back(make_mbuf(b));
  for (EspResult r : run_burst(true, out_sa.get(), mbufs)) CHECK(r == EspResult::kOk);
  for (EspResult r : run_burst(false, in_sa.get(), mbufs)) CHECK(r == EspResult::kOk);
  for (size_t i = 0; i < inners.size(); ++i) CHECK(bytes_of(mbufs[i].get()) == inners[i]);
  const EspSaCounters oc = out_sa->counters(), ic = in_sa->counters();
  CHECK(oc.packets == inners.size());
  CHECK(ic.packets == inners.size());
  uint64_t total = 0;
  for (const Bytes& b : inners) total += b.size();
  CHECK(oc.bytes == total);
  CHECK(ic.bytes == total);
  CHECK(ic.auth_failures + ic.replay_drops + ic.other_drops + ic.ts_drops == 0);
  if (esn) CHECK(in_sa->replay_window()->top() == 0xfffffff0ull + inners.size() - 1);
}

TEST_CASE("outer headers checked by the caller (esp_offsets) decrypt as the library's own checks do", "[esp]") {
  const EspAlgorithm alg = GENERATE(EspAlgorithm::kAesGcm128, EspAlgorithm::kAesCbc128HmacSha256);
  const bool natt = GENERATE(false, true);
  const bool v6 = GENERATE(false, true);
  CAPTURE(algorithm_name(alg), natt, v6);
  auto out_sa = make_sa(make_params(alg, SaDirection::kOutbound, false, natt, v6));
  // Two SAs with the same keys, one window each: one burst with offsets, the same bytes without.
  auto in_checked = make_sa(make_params(alg, SaDirection::kInbound, false, natt, v6));
  auto in_own = make_sa(make_params(alg, SaDirection::kInbound, false, natt, v6));
  std::vector<Bytes> inners;
  for (size_t size : {1, 17, 100, 1000}) inners.push_back(size % 2 ? inner_v4(size) : inner_v6(size));
  std::vector<Mbuf> esp;
  for (const Bytes& b : inners) esp.push_back(make_mbuf(b));
  for (EspResult r : run_burst(true, out_sa.get(), esp)) REQUIRE(r == EspResult::kOk);
  const uint16_t offset = static_cast<uint16_t>((v6 ? 40 : 20) + (natt ? 8 : 0));
  std::vector<Bytes> wire;
  for (auto& m : esp) wire.push_back(bytes_of(m.get()));
  // Packet 2 names an offset past its end and packet 3 none: both are parsed by the library.
  const std::vector<uint16_t> offsets = {offset, offset, static_cast<uint16_t>(wire[2].size()), 0};
  std::vector<Mbuf> a, b;
  std::vector<rte_mbuf*> raw_a, raw_b;
  for (const Bytes& w : wire) {
    a.push_back(make_mbuf(w));
    b.push_back(make_mbuf(w));
    raw_a.push_back(a.back().get());
    raw_b.push_back(b.back().get());
  }
  std::vector<EspSa*> sas_a(wire.size(), in_checked.get()), sas_b(wire.size(), in_own.get());
  std::vector<EspResult> ra(wire.size(), EspResult::kCount), rb(wire.size(), EspResult::kCount);
  esp_inbound_burst(engine(), raw_a.data(), sas_a.data(), static_cast<uint32_t>(wire.size()), ra.data(), offsets.data());
  esp_inbound_burst(engine(), raw_b.data(), sas_b.data(), static_cast<uint32_t>(wire.size()), rb.data());
  for (size_t i = 0; i < wire.size(); ++i) {
    CAPTURE(i);
    CHECK(ra[i] == EspResult::kOk);
    CHECK(rb[i] == EspResult::kOk);
    CHECK(bytes_of(raw_a[i]) == inners[i]);
    CHECK(bytes_of(raw_b[i]) == inners[i]);
  }
  CHECK(in_checked->counters().packets == in_own->counters().packets);
  CHECK(in_checked->counters().bytes == in_own->counters().bytes);
}

TEST_CASE("inner headers checked by the caller (inner_checked) encrypt as the library's own checks do", "[esp]") {
  const EspAlgorithm alg = GENERATE(EspAlgorithm::kAesGcm128, EspAlgorithm::kAesCbc128HmacSha256);
  const bool natt = GENERATE(false, true);
  const bool v6 = GENERATE(false, true);
  CAPTURE(algorithm_name(alg), natt, v6);
  // Two outbound SAs with the same keys (each from sequence number 1): one burst vouched for, the
  // same packets checked by the library. Their outer headers must match byte for byte (GCM: the
  // whole packet; CBC's IV comes from a per-SA random key), and both must decrypt to the input.
  auto out_checked = make_sa(make_params(alg, SaDirection::kOutbound, false, natt, v6));
  auto out_own = make_sa(make_params(alg, SaDirection::kOutbound, false, natt, v6));
  auto in_a = make_sa(make_params(alg, SaDirection::kInbound, false, natt, v6));
  auto in_b = make_sa(make_params(alg, SaDirection::kInbound, false, natt, v6));
  std::vector<Bytes> inners;
  for (size_t size : {1, 17, 100, 1000}) inners.push_back(size % 2 ? inner_v4(size) : inner_v6(size));
  Bytes marked = inner_v4(40);  // DSCP EF + ECT(0), DF clear: both copied to the outer header
  marked[1] = 0xba;
  marked[6] = 0;
  marked[10] = marked[11] = 0;
  const uint16_t ck = rte_ipv4_cksum(reinterpret_cast<const rte_ipv4_hdr*>(marked.data()));
  std::memcpy(&marked[10], &ck, 2);
  inners.push_back(marked);
  Bytes classed = inner_v6(30);  // traffic class 0xb8
  classed[0] = 0x6b;
  classed[1] = 0x80;
  inners.push_back(classed);
  std::vector<Mbuf> a, b;
  std::vector<rte_mbuf*> raw_a, raw_b;
  for (const Bytes& inner : inners) {
    a.push_back(make_mbuf(inner));
    b.push_back(make_mbuf(inner));
    raw_a.push_back(a.back().get());
    raw_b.push_back(b.back().get());
  }
  const auto n = static_cast<uint32_t>(inners.size());
  std::vector<EspSa*> sas_a(n, out_checked.get()), sas_b(n, out_own.get());
  std::vector<EspResult> ra(n, EspResult::kCount), rb(n, EspResult::kCount);
  esp_outbound_burst(engine(), raw_a.data(), sas_a.data(), n, ra.data(), /*inner_checked=*/true);
  esp_outbound_burst(engine(), raw_b.data(), sas_b.data(), n, rb.data());
  // CBC: the outer headers, but not the UDP checksum over IPv6 (it covers the ciphertext).
  const size_t outer_len = (v6 ? 40 : 20) + (natt ? 8 : 0) - (natt && v6 ? 2 : 0);
  for (uint32_t i = 0; i < n; ++i) {
    CAPTURE(i);
    REQUIRE(ra[i] == EspResult::kOk);
    REQUIRE(rb[i] == EspResult::kOk);
    const Bytes wa = bytes_of(raw_a[i]), wb = bytes_of(raw_b[i]);
    REQUIRE(wa.size() == wb.size());
    if (alg == EspAlgorithm::kAesGcm128) {
      CHECK(wa == wb);
    } else {
      CHECK(Bytes(wa.begin(), wa.begin() + static_cast<long>(outer_len)) ==
            Bytes(wb.begin(), wb.begin() + static_cast<long>(outer_len)));
    }
  }
  if (!v6) {
    CHECK(rte_pktmbuf_mtod(raw_a[4], const uint8_t*)[1] == 0xba);
    CHECK((rte_pktmbuf_mtod(raw_a[4], const uint8_t*)[6] & 0x40) == 0);
  }
  CHECK(out_checked->counters().bytes == out_own->counters().bytes);
  std::vector<EspSa*> in_sas_a(n, in_a.get()), in_sas_b(n, in_b.get());
  esp_inbound_burst(engine(), raw_a.data(), in_sas_a.data(), n, ra.data());
  esp_inbound_burst(engine(), raw_b.data(), in_sas_b.data(), n, rb.data());
  for (uint32_t i = 0; i < n; ++i) {
    CAPTURE(i);
    CHECK(ra[i] == EspResult::kOk);
    CHECK(rb[i] == EspResult::kOk);
    CHECK(bytes_of(raw_a[i]) == inners[i]);
    CHECK(bytes_of(raw_b[i]) == inners[i]);
  }
}

TEST_CASE("one burst mixing SAs of every algorithm", "[esp]") {
  std::vector<std::unique_ptr<EspSa>> outs, ins;
  for (EspAlgorithm alg : kAllAlgorithms) {
    SaParams op = make_params(alg, SaDirection::kOutbound, alg == EspAlgorithm::kAesCbc256HmacSha256);
    SaParams ip = make_params(alg, SaDirection::kInbound, alg == EspAlgorithm::kAesCbc256HmacSha256);
    op.spi = ip.spi = 0x1000 + static_cast<uint32_t>(alg);
    op.key = ip.key = pattern(expected_key_size(alg), static_cast<uint8_t>(alg));
    outs.push_back(make_sa(op));
    ins.push_back(make_sa(ip));
  }
  constexpr size_t kPackets = 150;  // more than one 64-packet chunk
  std::vector<Bytes> inners;
  std::vector<rte_mbuf*> pkts;
  std::vector<EspSa*> out_sas, in_sas;
  std::vector<Mbuf> owned;
  for (size_t i = 0; i < kPackets; ++i) {
    inners.push_back(i % 3 ? inner_v4(i * 7 % 300) : inner_v6(i * 5 % 300));
    owned.push_back(make_mbuf(inners.back()));
    pkts.push_back(owned.back().get());
    out_sas.push_back(outs[(i * 7) % outs.size()].get());
    in_sas.push_back(ins[(i * 7) % ins.size()].get());
  }
  std::vector<EspResult> results(kPackets, EspResult::kCount);
  esp_outbound_burst(engine(), pkts.data(), out_sas.data(), kPackets, results.data());
  for (EspResult r : results) CHECK(r == EspResult::kOk);
  for (size_t i = 0; i < kPackets; ++i) CHECK(get32(rte_pktmbuf_mtod_offset(pkts[i], const uint8_t*, 20)) == out_sas[i]->spi());
  std::fill(results.begin(), results.end(), EspResult::kCount);
  esp_inbound_burst(engine(), pkts.data(), in_sas.data(), kPackets, results.data());
  for (EspResult r : results) CHECK(r == EspResult::kOk);
  for (size_t i = 0; i < kPackets; ++i) CHECK(bytes_of(pkts[i]) == inners[i]);
  uint64_t total = 0;
  for (const auto& sa : outs) total += sa->counters().packets;
  CHECK(total == kPackets);
  CHECK(ins[0]->replay_window()->top() == outs[0]->next_seq() - 1);
}

TEST_CASE("padding for every payload length mod 16, checked with OpenSSL", "[esp]") {
  const EspAlgorithm alg = GENERATE(from_range(std::begin(kAllAlgorithms), std::end(kAllAlgorithms)));
  const bool esn = GENERATE(false, true);
  CAPTURE(algorithm_name(alg), esn);
  const SaParams p = make_params(alg, SaDirection::kOutbound, esn);
  const uint64_t first = esn ? 0x1fffffffeull : 1;
  auto sa = make_sa(p, EspSaOptions{.first_seq = first});
  const size_t block = is_aead(alg) ? 4 : 16;
  const size_t iv_len = is_aead(alg) ? 8 : 16;
  for (size_t extra = 0; extra < 32; ++extra) {
    const Bytes inner = inner_v4(extra);
    CAPTURE(inner.size());
    const uint64_t seq = first + extra;
    const Bytes pkt = encrypt_one(sa.get(), inner);
    const size_t pad = (block - (inner.size() + 2) % block) % block;
    REQUIRE(pkt.size() == 20 + 8 + iv_len + inner.size() + pad + 2 + 16);
    CHECK(get32(&pkt[20]) == p.spi);
    CHECK(get32(&pkt[24]) == static_cast<uint32_t>(seq));
    // OpenSSL decrypts and authenticates what intel-ipsec-mb produced: ciphertext and ICV agree.
    const Bytes plain = openssl_open(p, pkt, seq);
    CHECK(plain == with_trailer(inner, 4, block));
  }
}

TEST_CASE("inbound accepts OpenSSL-made packets and rejects bad ones with the exact reason", "[esp]") {
  SaParams p = make_params(EspAlgorithm::kAesGcm128, SaDirection::kInbound);
  p.replay_window = 64;
  p.local_ts = {TrafficSelector::prefix(IpAddr::v4(0x0a010000), 16)};
  p.remote_ts = {TrafficSelector::prefix(IpAddr::v4(0x0a000000), 16)};
  auto sa = make_sa(p);
  const Bytes inner = inner_v4(30);
  auto in = [&](const Bytes& pkt) {
    Mbuf m = make_mbuf(pkt);
    const EspResult r = run_one(false, sa.get(), m);
    return std::make_pair(r, bytes_of(m.get()));
  };

  SECTION("good packet") {
    auto [r, out] = in(openssl_seal_gcm(p, 1, with_trailer(inner, 4)));
    CHECK(r == EspResult::kOk);
    CHECK(out == inner);
    CHECK(sa->counters().packets == 1);
  }
  SECTION("TFC padding after the inner packet is removed") {
    Bytes padded = inner;
    padded.insert(padded.end(), 13, 0);
    auto [r, out] = in(openssl_seal_gcm(p, 1, with_trailer(padded, 4)));
    CHECK(r == EspResult::kOk);
    CHECK(out == inner);
  }
  SECTION("L2 padding after the outer packet is ignored") {
    Bytes pkt = openssl_seal_gcm(p, 1, with_trailer(inner, 4));
    pkt.insert(pkt.end(), 6, 0xee);
    CHECK(in(pkt).first == EspResult::kOk);
  }
  SECTION("truncated ESP") {
    Bytes pkt = openssl_seal_gcm(p, 1, with_trailer(inner, 4));
    pkt.resize(20 + 8 + 8 + 16 + 3);
    put16(&pkt[2], static_cast<uint16_t>(pkt.size()));
    CHECK(in(pkt).first == EspResult::kTruncated);
    pkt = openssl_seal_gcm(p, 1, with_trailer(inner, 4));
    put16(&pkt[2], static_cast<uint16_t>(pkt.size() + 4));  // IP says more than there is
    CHECK(in(pkt).first == EspResult::kTruncated);
    CHECK(sa->counters().other_drops == 2);
    CHECK(sa->replay_window()->top() == 0);
  }
  SECTION("wrong ICV: auth failure, counted, window unmoved; the genuine packet still passes") {
    Bytes pkt = openssl_seal_gcm(p, 7, with_trailer(inner, 4));
    Bytes bad = pkt;
    bad.back() ^= 0x80;
    CHECK(in(bad).first == EspResult::kAuthFailed);
    CHECK(sa->counters().auth_failures == 1);
    CHECK(sa->replay_window()->top() == 0);
    CHECK(in(pkt).first == EspResult::kOk);
    CHECK(sa->replay_window()->top() == 7);
  }
  SECTION("duplicate and too old") {
    CHECK(in(openssl_seal_gcm(p, 200, with_trailer(inner, 4))).first == EspResult::kOk);
    CHECK(in(openssl_seal_gcm(p, 200, with_trailer(inner, 4))).first == EspResult::kReplayDuplicate);
    CHECK(in(openssl_seal_gcm(p, 100, with_trailer(inner, 4))).first == EspResult::kReplayTooOld);
    CHECK(in(openssl_seal_gcm(p, 150, with_trailer(inner, 4))).first == EspResult::kOk);
    CHECK(sa->counters().replay_drops == 2);
    CHECK(sa->counters().packets == 2);
  }
  SECTION("duplicate within one burst: the second copy is dropped after the crypto") {
    const Bytes pkt = openssl_seal_gcm(p, 9, with_trailer(inner, 4));
    std::vector<Mbuf> v;
    v.push_back(make_mbuf(pkt));
    v.push_back(make_mbuf(pkt));
    const auto r = run_burst(false, sa.get(), v);
    CHECK(r[0] == EspResult::kOk);
    CHECK(r[1] == EspResult::kReplayDuplicate);
  }
  SECTION("bad padding") {
    Bytes plain = inner_v4(32);  // 60 bytes
    plain.insert(plain.end(), {1, 3, 2, 4});  // pad length 2 over bytes 1, 3 (must be 1, 2)
    CHECK(in(openssl_seal_gcm(p, 1, plain)).first == EspResult::kBadPadding);
    Bytes too_long = with_trailer(inner, 4);
    too_long[too_long.size() - 2] = 250;  // longer than the payload
    CHECK(in(openssl_seal_gcm(p, 2, too_long)).first == EspResult::kBadPadding);
    CHECK(sa->counters().other_drops == 2);
    // The ICV was good, so the window moved (RFC 4303: update after integrity, before the rest).
    CHECK(sa->replay_window()->top() == 2);
  }
  SECTION("padding of any length up to 255 (the short ones are checked as one word): good and one bad byte") {
    uint32_t seq = 10;
    for (uint32_t pad_len : {0u, 1u, 2u, 3u, 5u, 7u, 8u, 9u, 12u, 16u, 255u}) {
      // Inner size so that inner + padding + 2 is a multiple of 4 (AEAD block size).
      const Bytes body = inner_v4((4 - (28 + pad_len + 2) % 4) % 4 + 4);
      Bytes plain = body;
      for (uint32_t j = 0; j < pad_len; ++j) plain.push_back(static_cast<uint8_t>(j + 1));
      plain.push_back(static_cast<uint8_t>(pad_len));
      plain.push_back(4);
      INFO("pad_len " << pad_len);
      CHECK(in(openssl_seal_gcm(p, ++seq, plain)).first == EspResult::kOk);
      for (uint32_t wrong : {0u, pad_len / 2, pad_len - 1}) {
        if (pad_len == 0) break;
        Bytes bad = plain;
        bad[body.size() + wrong] ^= 0x10;
        INFO("wrong byte " << wrong);
        CHECK(in(openssl_seal_gcm(p, ++seq, bad)).first == EspResult::kBadPadding);
      }
    }
  }
  SECTION("bad next header") {
    CHECK(in(openssl_seal_gcm(p, 1, with_trailer(inner, 17))).first == EspResult::kBadNextHeader);
    CHECK(in(openssl_seal_gcm(p, 2, with_trailer(inner, 41))).first == EspResult::kBadNextHeader);
    CHECK(in(openssl_seal_gcm(p, 3, with_trailer(inner_v6(10), 4))).first == EspResult::kBadNextHeader);
    CHECK(in(openssl_seal_gcm(p, 4, with_trailer(inner, 59))).first == EspResult::kDummyPacket);
  }
  SECTION("inner packet whose length does not fit") {
    Bytes broken = inner;
    put16(&broken[2], static_cast<uint16_t>(broken.size() + 10));
    CHECK(in(openssl_seal_gcm(p, 1, with_trailer(broken, 4))).first == EspResult::kBadInnerPacket);
  }
  SECTION("traffic selector mismatch") {
    CHECK(in(openssl_seal_gcm(p, 1, with_trailer(inner_v4(5, 0x0a090001), 4))).first == EspResult::kTsMismatch);
    CHECK(sa->counters().ts_drops == 1);
    CHECK(sa->counters().packets == 0);
  }
  SECTION("wrong SPI, IKE on 4500, outer fragment, multi-segment") {
    Bytes pkt = openssl_seal_gcm(p, 1, with_trailer(inner, 4));
    Bytes other = pkt;
    other[23] ^= 1;
    CHECK(in(other).first == EspResult::kSpiMismatch);
    Bytes frag = pkt;
    frag[6] = 0x20;  // MF
    CHECK(in(frag).first == EspResult::kOuterFragment);
    // UDP 4500 with a zero non-ESP marker is IKE, not ESP.
    Bytes ike(20 + 8 + 40, 0);
    ike[0] = 0x45;
    put16(&ike[2], static_cast<uint16_t>(ike.size()));
    ike[9] = 17;
    put16(&ike[20], 4500);
    put16(&ike[22], 4500);
    put16(&ike[24], 48);
    CHECK(in(ike).first == EspResult::kBadOuterPacket);
    Mbuf head = make_mbuf(Bytes(pkt.begin(), pkt.begin() + 40));
    Mbuf tail = make_mbuf(Bytes(pkt.begin() + 40, pkt.end()));
    REQUIRE(rte_pktmbuf_chain(head.get(), tail.release()) == 0);
    CHECK(run_one(false, sa.get(), head) == EspResult::kMultiSegment);
  }
  SECTION("an outbound SA is refused") {
    auto out_sa = make_sa(make_params(EspAlgorithm::kAesGcm128, SaDirection::kOutbound));
    Mbuf m = make_mbuf(openssl_seal_gcm(p, 1, with_trailer(inner, 4)));
    CHECK(run_one(false, out_sa.get(), m) == EspResult::kWrongDirection);
  }
}

TEST_CASE("inbound selectors: several per side, and swapped by update", "[esp]") {
  // One selector per side is held inside the selectors object, several in a vector: both forms.
  SaParams p = make_params(EspAlgorithm::kAesGcm128, SaDirection::kInbound);
  p.local_ts = {TrafficSelector::prefix(IpAddr::v4(0x0a010000), 16), TrafficSelector::prefix(IpAddr::v4(0x0a090000), 16)};
  p.remote_ts = {TrafficSelector::prefix(IpAddr::v4(0x0a000000), 16)};
  auto sa = make_sa(p);
  uint64_t seq = 0;
  auto in = [&](uint32_t dst) {
    Mbuf m = make_mbuf(openssl_seal_gcm(p, ++seq, with_trailer(inner_v4(5, dst), 4)));
    return run_one(false, sa.get(), m);
  };
  CHECK(in(0x0a010001) == EspResult::kOk);
  CHECK(in(0x0a090001) == EspResult::kOk);
  CHECK(in(0x0a070001) == EspResult::kTsMismatch);

  std::unique_ptr<const EspSaSelectors> retired;
  REQUIRE(sa->update(p.lifetime, {TrafficSelector::prefix(IpAddr::v4(0x0a070000), 16)}, p.remote_ts, &retired).is_ok());
  REQUIRE(retired != nullptr);
  CHECK(retired->local_ranges.size() == 2);  // the old object stays intact for readers still holding it
  CHECK(sa->selectors().local_ranges.size() == 1);
  CHECK(in(0x0a070001) == EspResult::kOk);
  CHECK(in(0x0a090001) == EspResult::kTsMismatch);
  CHECK(sa->counters().ts_drops == 2);
  CHECK(sa->counters().packets == 3);
}

TEST_CASE("CBC inbound: cipher length must be whole blocks", "[esp]") {
  const SaParams out_p = make_params(EspAlgorithm::kAesCbc128HmacSha256, SaDirection::kOutbound);
  auto out_sa = make_sa(out_p);
  auto in_sa = make_sa(make_params(EspAlgorithm::kAesCbc128HmacSha256, SaDirection::kInbound));
  Bytes pkt = encrypt_one(out_sa.get(), inner_v4(40));
  pkt.insert(pkt.end() - 16, {0, 0, 0, 0});
  put16(&pkt[2], static_cast<uint16_t>(pkt.size()));
  Mbuf m = make_mbuf(pkt);
  CHECK(run_one(false, in_sa.get(), m) == EspResult::kBadCipherLength);
}

TEST_CASE("CBC+HMAC with ESN authenticates seq_hi and sends fresh IVs", "[esp]") {
  const bool aes256 = GENERATE(false, true);
  const SaParams p = make_params(aes256 ? EspAlgorithm::kAesCbc256HmacSha256 : EspAlgorithm::kAesCbc128HmacSha256,
                                 SaDirection::kOutbound, true);
  auto sa = make_sa(p, EspSaOptions{.first_seq = 0x500000001ull});
  std::set<Bytes> ivs;
  for (int i = 0; i < 20; ++i) {
    const Bytes pkt = encrypt_one(sa.get(), inner_v4(static_cast<size_t>(i)));
    ivs.insert(Bytes(pkt.begin() + 28, pkt.begin() + 44));
    // openssl_open computes HMAC over ESP || seq_hi (5): it must match.
    CHECK(openssl_open(p, pkt, 0x500000001ull + static_cast<uint64_t>(i)) == with_trailer(inner_v4(static_cast<size_t>(i)), 4, 16));
  }
  CHECK(ivs.size() == 20);
}

// The engine makes a burst's CBC IVs per run of one SA's ops (one ECB pass over their counter
// blocks when the run is long enough, else one AES call each): both ways must give the same IV for
// the same key and sequence number, and IVs never repeat.
TEST_CASE("CBC IVs: one SA's run in one pass equals one by one; so do interleaved SAs", "[esp]") {
  const bool aes256 = GENERATE(false, true);
  const SaParams p = make_params(aes256 ? EspAlgorithm::kAesCbc256HmacSha256 : EspAlgorithm::kAesCbc128HmacSha256,
                                 SaDirection::kOutbound);
  EspKeyBlock a, b;  // two SAs: each its own random IV key
  REQUIRE(engine().prepare_keys(p, &a).is_ok());
  REQUIRE(engine().prepare_keys(p, &b).is_ok());
  // A GCM SA's key block: its ops may come first in a burst (the engine makes CBC IVs from the first CBC op on).
  const SaParams gcm_p = make_params(EspAlgorithm::kAesGcm128, SaDirection::kOutbound);
  EspKeyBlock gcm;
  REQUIRE(engine().prepare_keys(gcm_p, &gcm).is_ok());
  // IVs of ops (key block, sequence number), handed to the engine `per_call` at a time.
  const auto ivs_of = [&](const std::vector<std::pair<const EspKeyBlock*, uint64_t>>& specs, size_t per_call) {
    struct alignas(16) Packet {
      uint8_t bytes[8 + 16 + 32 + 16];  // ESP header, IV, two cipher blocks, ICV
    };
    std::vector<Packet> packets(specs.size());
    std::vector<CryptoOp> ops(specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      CryptoOp& op = ops[i];
      op = CryptoOp{};
      op.keys = specs[i].first;
      op.algorithm = specs[i].first == &gcm ? gcm_p.algorithm : p.algorithm;
      op.direction = CryptoDirection::kEncrypt;
      op.esp = packets[i].bytes;
      op.iv = op.esp + 8;
      op.cipher = op.iv + 16;
      op.cipher_len = 32;
      op.auth_len = 8 + 16 + 32;
      op.icv = op.cipher + 32;
      op.seq = specs[i].second;
    }
    for (size_t done = 0; done < ops.size(); done += per_call) {
      engine().process_burst(ops.data() + done, static_cast<uint32_t>(std::min(per_call, ops.size() - done)));
    }
    std::vector<std::array<uint8_t, 16>> ivs(ops.size());
    for (size_t i = 0; i < ops.size(); ++i) {
      CHECK(ops[i].status == CryptoStatus::kOk);
      std::memcpy(ivs[i].data(), ops[i].iv, 16);
    }
    return ivs;
  };
  std::vector<std::pair<const EspKeyBlock*, uint64_t>> run_a, run_b, mixed, after_gcm;
  for (uint64_t s = 0; s < 70; ++s) run_a.emplace_back(&a, 0xfffffff0ull + s);  // longer than one pass (64)
  for (uint64_t s = 0; s < 3; ++s) run_b.emplace_back(&b, 7 + s);              // too short for one
  for (uint64_t s = 0; s < 10; ++s) {
    mixed.emplace_back(&a, 0xfffffff0ull + s);
    mixed.emplace_back(&b, 7 + s);
  }
  after_gcm.emplace_back(&gcm, 1);
  after_gcm.emplace_back(&gcm, 2);
  for (uint64_t s = 0; s < 6; ++s) after_gcm.emplace_back(&a, 0xfffffff0ull + s);
  after_gcm.emplace_back(&gcm, 3);
  after_gcm.emplace_back(&b, 7);
  const auto one_by_one_a = ivs_of(run_a, 1), in_runs_a = ivs_of(run_a, run_a.size());
  CHECK(in_runs_a == one_by_one_a);
  CHECK(ivs_of(run_b, run_b.size()) == ivs_of(run_b, 1));
  const auto mixed_ivs = ivs_of(mixed, mixed.size());
  for (size_t s = 0; s < 10; ++s) {
    CHECK(mixed_ivs[2 * s] == one_by_one_a[s]);
    CHECK(mixed_ivs[2 * s + 1] != mixed_ivs[2 * s]);  // another SA's key
  }
  CHECK(std::set<std::array<uint8_t, 16>>(in_runs_a.begin(), in_runs_a.end()).size() == run_a.size());
  const auto after_gcm_ivs = ivs_of(after_gcm, after_gcm.size());
  for (size_t s = 0; s < 6; ++s) CHECK(after_gcm_ivs[2 + s] == one_by_one_a[s]);
  CHECK(after_gcm_ivs[9] == ivs_of(run_b, 1)[0]);
}

// CBC+HMAC runs on intel-ipsec-mb's SSE manager (SHA-NI) below a measured cipher length and on the
// main manager (AVX-512 vectors) above it: every split must give what OpenSSL computes, and either
// manager must open what the other sealed.
TEST_CASE("CBC+HMAC on either intel-ipsec-mb manager: OpenSSL agrees, and each opens the other's", "[esp]") {
  std::unique_ptr<IpsecMbEngine> eng;
  REQUIRE(IpsecMbEngine::create(&eng).is_ok());
  if (!eng->has_sha_ni_manager()) WARN("no SHA-NI here (or the SSE manager is the main one): one manager only");
  const bool aes256 = GENERATE(false, true);
  const EspAlgorithm alg = aes256 ? EspAlgorithm::kAesCbc256HmacSha256 : EspAlgorithm::kAesCbc128HmacSha256;
  const SaParams out_p = make_params(alg, SaDirection::kOutbound);
  const SaParams in_p = make_params(alg, SaDirection::kInbound);
  std::unique_ptr<EspSa> out_sa, in_sa;
  REQUIRE(create_esp_sa(out_p, *eng, {}, &out_sa).is_ok());
  REQUIRE(create_esp_sa(in_p, *eng, {}, &in_sa).is_ok());
  // (encrypt below, decrypt below): all SHA-NI, all vectors, and a split inside the burst each way.
  const std::pair<uint32_t, uint32_t> splits[] = {{UINT32_MAX, 0}, {0, UINT32_MAX}, {300, 700}, {700, 300}};
  uint64_t seq = 1;
  for (const auto& [enc_below, dec_below] : splits) {
    CAPTURE(enc_below, dec_below);
    eng->set_cbc_sha_ni_below(enc_below, dec_below);
    std::vector<Bytes> inners;
    std::vector<Mbuf> mbufs;
    for (size_t size : {0, 13, 64, 200, 270, 290, 310, 500, 690, 710, 1000, 1400}) {
      inners.push_back(inner_v4(size, 0x0a010001, static_cast<uint8_t>(size)));
      mbufs.push_back(make_mbuf(inners.back()));
    }
    std::vector<rte_mbuf*> pkts;
    for (Mbuf& m : mbufs) pkts.push_back(m.get());
    std::vector<EspSa*> outs(pkts.size(), out_sa.get()), ins(pkts.size(), in_sa.get());
    std::vector<EspResult> results(pkts.size(), EspResult::kCount);
    esp_outbound_burst(*eng, pkts.data(), outs.data(), static_cast<uint32_t>(pkts.size()), results.data());
    for (size_t i = 0; i < pkts.size(); ++i) {
      REQUIRE(results[i] == EspResult::kOk);
      CHECK(openssl_open(out_p, bytes_of(pkts[i]), seq + i) == with_trailer(inners[i], 4, 16));
    }
    seq += pkts.size();
    // Decrypted with the other split: the opposite manager for most sizes.
    eng->set_cbc_sha_ni_below(dec_below, enc_below);
    esp_inbound_burst(*eng, pkts.data(), ins.data(), static_cast<uint32_t>(pkts.size()), results.data());
    for (size_t i = 0; i < pkts.size(); ++i) {
      CHECK(results[i] == EspResult::kOk);
      CHECK(bytes_of(pkts[i]) == inners[i]);
    }
  }
  CHECK(in_sa->counters().auth_failures == 0);
}

TEST_CASE("outbound drops what it cannot encapsulate", "[esp]") {
  auto sa = make_sa(make_params(EspAlgorithm::kAesGcm128, SaDirection::kOutbound, false, true, true));
  SECTION("no headroom") {
    const Bytes inner = inner_v4(10);
    Mbuf m(rte_pktmbuf_alloc(pool()));
    REQUIRE(m);
    m->data_off = 40;  // IPv6 + UDP + ESP + IV needs 64
    std::memcpy(rte_pktmbuf_append(m.get(), static_cast<uint16_t>(inner.size())), inner.data(), inner.size());
    REQUIRE(rte_pktmbuf_headroom(m.get()) < esp_outbound_overhead(sa->hot()));
    CHECK(run_one(true, sa.get(), m) == EspResult::kNoHeadroom);
  }
  SECTION("no tailroom") {
    Mbuf m(rte_pktmbuf_alloc(pool()));
    REQUIRE(m);
    const uint16_t len = static_cast<uint16_t>(rte_pktmbuf_tailroom(m.get()) - 10);
    REQUIRE(rte_pktmbuf_append(m.get(), len) != nullptr);
    const Bytes inner = inner_v4(len - 28u);  // fills the buffer but for 10 bytes
    std::memcpy(rte_pktmbuf_mtod(m.get(), uint8_t*), inner.data(), inner.size());
    CHECK(run_one(true, sa.get(), m) == EspResult::kNoTailroom);
  }
  SECTION("not an IP packet") {
    Bytes junk(40, 0x11);
    Mbuf m = make_mbuf(junk);
    CHECK(run_one(true, sa.get(), m) == EspResult::kBadInnerPacket);
  }
  SECTION("multi-segment") {
    Mbuf head = make_mbuf(Bytes(20, 0x45));
    Mbuf tail = make_mbuf(Bytes(20, 0));
    REQUIRE(rte_pktmbuf_chain(head.get(), tail.release()) == 0);
    CHECK(run_one(true, sa.get(), head) == EspResult::kMultiSegment);
  }
  SECTION("an inbound SA is refused") {
    auto in_sa = make_sa(make_params(EspAlgorithm::kAesGcm128, SaDirection::kInbound));
    Mbuf m = make_mbuf(inner_v4(10));
    CHECK(run_one(true, in_sa.get(), m) == EspResult::kWrongDirection);
  }
  CHECK(sa->counters().packets == 0);
}

TEST_CASE("sequence number exhaustion is a hard stop", "[esp]") {
  SECTION("32-bit") {
    auto sa = make_sa(make_params(EspAlgorithm::kAesGcm128, SaDirection::kOutbound),
                      EspSaOptions{.first_seq = 0xfffffffeull});
    std::vector<Mbuf> v;
    for (int i = 0; i < 3; ++i) v.push_back(make_mbuf(inner_v4(10)));
    const auto r = run_burst(true, sa.get(), v);
    CHECK(r[0] == EspResult::kOk);
    CHECK(r[1] == EspResult::kOk);
    CHECK(r[2] == EspResult::kSeqExhausted);
    CHECK(get32(rte_pktmbuf_mtod_offset(v[1].get(), const uint8_t*, 24)) == 0xffffffffu);
    CHECK(sa->hard_expired());
    CHECK(sa->take_expiry_events() == esp_state::kHardEvent);
    Mbuf m = make_mbuf(inner_v4(10));
    CHECK(run_one(true, sa.get(), m) == EspResult::kSaExpired);
    CHECK(sa->counters().other_drops == 2);
    CHECK(sa->counters().packets == 2);
  }
  SECTION("exactly the last number also expires the SA") {
    auto sa = make_sa(make_params(EspAlgorithm::kAesGcm128, SaDirection::kOutbound),
                      EspSaOptions{.first_seq = 0xffffffffull});
    Mbuf m = make_mbuf(inner_v4(10));
    CHECK(run_one(true, sa.get(), m) == EspResult::kOk);
    CHECK(sa->hard_expired());
  }
  SECTION("64-bit (ESN)") {
    auto sa = make_sa(make_params(EspAlgorithm::kChaCha20Poly1305, SaDirection::kOutbound, true),
                      EspSaOptions{.first_seq = kMaxSeqEsn - 1});
    std::vector<Mbuf> v;
    for (int i = 0; i < 4; ++i) v.push_back(make_mbuf(inner_v4(10)));
    const auto r = run_burst(true, sa.get(), v);
    CHECK(r == std::vector<EspResult>{EspResult::kOk, EspResult::kOk, EspResult::kSeqExhausted,
                                      EspResult::kSeqExhausted});
    CHECK(sa->hard_expired());
  }
}

TEST_CASE("lifetimes by packets and bytes", "[esp]") {
  SECTION("packets: soft raised once, hard drops exactly at the limit") {
    SaParams p = make_params(EspAlgorithm::kAesGcm256, SaDirection::kOutbound);
    p.lifetime.soft_packets = 3;
    p.lifetime.hard_packets = 5;
    auto sa = make_sa(p);
    std::vector<Mbuf> v;
    for (int i = 0; i < 3; ++i) v.push_back(make_mbuf(inner_v4(10)));
    for (EspResult r : run_burst(true, sa.get(), v)) CHECK(r == EspResult::kOk);
    CHECK(sa->soft_expired());
    CHECK_FALSE(sa->hard_expired());
    CHECK(sa->take_expiry_events() == esp_state::kSoftEvent);
    CHECK(sa->take_expiry_events() == 0);
    v.clear();
    for (int i = 0; i < 4; ++i) v.push_back(make_mbuf(inner_v4(10)));
    const auto r = run_burst(true, sa.get(), v);
    CHECK(r == std::vector<EspResult>{EspResult::kOk, EspResult::kOk, EspResult::kSaExpired, EspResult::kSaExpired});
    CHECK(sa->hard_expired());
    CHECK(sa->take_expiry_events() == esp_state::kHardEvent);
    CHECK(sa->counters().packets == 5);
    CHECK(sa->counters().other_drops == 2);
  }
  SECTION("bytes, inbound") {
    const Bytes inner = inner_v4(72);  // 100 bytes
    SaParams op = make_params(EspAlgorithm::kAesGcm128, SaDirection::kOutbound);
    SaParams ip = make_params(EspAlgorithm::kAesGcm128, SaDirection::kInbound);
    ip.lifetime.soft_bytes = 150;
    ip.lifetime.hard_bytes = 250;
    auto out_sa = make_sa(op);
    auto in_sa = make_sa(ip);
    std::vector<Mbuf> v;
    for (int i = 0; i < 3; ++i) v.push_back(make_mbuf(inner));
    for (EspResult r : run_burst(true, out_sa.get(), v)) CHECK(r == EspResult::kOk);
    const auto r = run_burst(false, in_sa.get(), v);
    CHECK(r == std::vector<EspResult>{EspResult::kOk, EspResult::kOk, EspResult::kSaExpired});
    CHECK(in_sa->counters().bytes == 200);
    CHECK(in_sa->soft_expired());
    CHECK(in_sa->hard_expired());
    CHECK(in_sa->take_expiry_events() == (esp_state::kSoftEvent | esp_state::kHardEvent));
  }
  SECTION("seconds, by the housekeeping thread") {
    SaParams p = make_params(EspAlgorithm::kAesGcm128, SaDirection::kOutbound);
    p.lifetime.soft_seconds = 10;
    p.lifetime.hard_seconds = 20;
    auto sa = make_sa(p, EspSaOptions{.now_seconds = 1000});
    sa->check_time(1009);
    CHECK_FALSE(sa->soft_expired());
    sa->check_time(1010);
    CHECK(sa->soft_expired());
    CHECK_FALSE(sa->hard_expired());
    sa->check_time(1011);
    CHECK(sa->take_expiry_events() == esp_state::kSoftEvent);
    sa->check_time(1020);
    CHECK(sa->hard_expired());
    CHECK(sa->take_expiry_events() == esp_state::kHardEvent);
    Mbuf m = make_mbuf(inner_v4(10));
    CHECK(run_one(true, sa.get(), m) == EspResult::kSaExpired);
  }
}

TEST_CASE("key material is wiped when the SA is destroyed", "[esp]") {
  const EspAlgorithm alg = GENERATE(from_range(std::begin(kAllAlgorithms), std::end(kAllAlgorithms)));
  auto storage = std::make_unique<EspKeyBlock>();
  std::memset(storage.get(), 0xcc, sizeof(EspKeyBlock));
  auto sa = make_sa(make_params(alg, SaDirection::kOutbound), EspSaOptions{.key_storage = storage.get()});
  REQUIRE(sa->key_block_for_test() == storage.get());
  size_t nonzero = 0;
  for (uint8_t b : storage->bytes) nonzero += b != 0;
  CHECK(nonzero > 32);
  CHECK(sa->params().key.empty());
  CHECK(sa->params().auth_key.empty());
  sa.reset();
  size_t left = 0;
  for (uint8_t b : storage->bytes) left += b != 0;
  CHECK(left == 0);
}

TEST_CASE("create_esp_sa names the bad field and never prints keys", "[esp]") {
  auto error_of = [](const SaParams& p) {
    std::unique_ptr<EspSa> sa;
    const Status s = create_esp_sa(p, engine(), {}, &sa);
    CHECK_FALSE(s.is_ok());
    CHECK(sa == nullptr);
    return s.message();
  };
  SaParams p = make_params(EspAlgorithm::kAesCbc128HmacSha256, SaDirection::kInbound);
  SaParams bad = p;
  bad.spi = 0;
  CHECK_THAT(error_of(bad), Catch::StartsWith("spi:"));
  bad = p;
  bad.key.push_back(0xab);
  const std::string key_error = error_of(bad);
  CHECK_THAT(key_error, Catch::StartsWith("key:"));
  CHECK_THAT(key_error, !Catch::Contains("1011"));  // the key pattern starts 10 11 ...
  bad = p;
  bad.auth_key.resize(20);
  CHECK_THAT(error_of(bad), Catch::StartsWith("auth_key:"));
  bad = p;
  bad.replay_window = 100;
  CHECK_THAT(error_of(bad), Catch::StartsWith("replay_window:"));
  bad.replay_window = 8192;
  CHECK_THAT(error_of(bad), Catch::StartsWith("replay_window:"));
  bad = p;
  bad.remote = *IpAddr::parse("2001:db8::9");
  CHECK_THAT(error_of(bad), Catch::StartsWith("local/remote:"));
  bad = p;
  bad.lifetime.soft_packets = 10;
  bad.lifetime.hard_packets = 5;
  CHECK_THAT(error_of(bad), Catch::StartsWith("lifetime.soft_packets:"));
}

TEST_CASE("one outbound SA on several threads: every sequence number used once", "[esp]") {
  auto sa = make_sa(make_params(EspAlgorithm::kAesGcm128, SaDirection::kOutbound));
  constexpr int kThreads = 4, kBursts = 50, kBurst = 32;
  std::vector<std::vector<uint32_t>> seqs(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<IpsecMbEngine> own;  // one engine per lcore
      if (!IpsecMbEngine::create(&own).is_ok()) {
        ++failures;
        return;
      }
      const Bytes inner = inner_v4(64);
      for (int b = 0; b < kBursts; ++b) {
        rte_mbuf* pkts[kBurst];
        EspSa* sas[kBurst];
        EspResult results[kBurst];
        for (int i = 0; i < kBurst; ++i) {
          pkts[i] = rte_pktmbuf_alloc(pool());
          if (pkts[i] == nullptr) {
            ++failures;
            return;
          }
          std::memcpy(rte_pktmbuf_append(pkts[i], static_cast<uint16_t>(inner.size())), inner.data(), inner.size());
          sas[i] = sa.get();
        }
        esp_outbound_burst(*own, pkts, sas, kBurst, results);
        for (int i = 0; i < kBurst; ++i) {
          if (results[i] != EspResult::kOk) ++failures;
          seqs[t].push_back(get32(rte_pktmbuf_mtod_offset(pkts[i], const uint8_t*, 24)));
          rte_pktmbuf_free(pkts[i]);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  std::set<uint32_t> all;
  for (const auto& s : seqs) all.insert(s.begin(), s.end());
  CHECK(all.size() == size_t{kThreads} * kBursts * kBurst);
  CHECK(*all.begin() == 1);
  CHECK(*all.rbegin() == uint32_t{kThreads} * kBursts * kBurst);
  CHECK(sa->counters().packets == uint64_t{kThreads} * kBursts * kBurst);
}

TEST_CASE("result names are unique and prefixed", "[esp]") {
  std::set<std::string_view> names;
  for (uint8_t i = 0; i < static_cast<uint8_t>(EspResult::kCount); ++i) {
    const std::string_view n = esp_result_name(static_cast<EspResult>(i));
    CHECK((n == "ok" || n.substr(0, 4) == "esp_"));
    names.insert(n);
  }
  CHECK(names.size() == static_cast<size_t>(EspResult::kCount));
}
