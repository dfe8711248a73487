// Traffic feed for scripts/bench.sh that costs the gateway under test nothing: a DPDK *secondary*
// process attached to the gateway (dpvpn-dataplane or ipsec-secgw, the primary) that writes packets
// straight into the RX ring of the gateway's `net_ring` port, running on the other CPU.
//
//   dpvpn-bench-feed --proc-type=secondary --file-prefix PREFIX --lcores 2@0 --no-pci --
//       --ring ETH_RXTX0_net_ring0 --pool dpvpn_mbufs --port 0 --templates T.pcap --flows 8
//       --dir outbound|inbound [--alg aes128gcm|aes128cbc-sha256] [--key HEX] [--auth-key HEX]
//       [--sas N --conns F --remote-base IP --peer-base IP --spi-base SPI]
//       [--duration-ms D] [--wait-ms W] [--burst 32] [--full-sleep-us U]
//   dpvpn-bench-feed --dump OUT.pcap --count N --templates T.pcap --dir ... [same traffic options]   (no DPDK)
//
// - The ring: a `--vdev net_ring0` port creates one ring per queue, named ETH_RXTX<queue>_<device>,
//   used for both its RX and its TX (the gateways never transmit on the traffic port here).
// - The mbufs come from the gateway's own pool, found by name (dpvpn: dpvpn_mbufs, ipsec-secgw:
//   mbuf_pool_0_0), dequeued straight from the pool's ring: the mempool ops index stored in a pool is
//   per process (another binary's driver table differs), so neither a pool of our own nor
//   rte_mempool_get would come back right. Each mbuf's first cache line is reset as a NIC's RX path
//   resets it (the second line is left as the gateway's free left it: next == NULL). The
//   gateway sends every packet to a port that frees it (net_null / net_pcap without a TX file), which
//   puts it back into its pool through its lcore cache; an empty pool ring is waited out (counted).
// - The traffic is the pcaps' (bench/gen_traffic.py), from the first --flows frames of one of them:
//   outbound: the clear IPv4/UDP frames from the inside host. Only the 42 bytes of Ethernet, IPv4 and
//     UDP headers are written into a recycled mbuf (the UDP checksum 0, "none", since the payload is
//     whatever the buffer held: its content does not matter to a gateway, and copying 1420 bytes per
//     packet would make the feed, not the gateway, the bottleneck).
//   inbound: ESP from the peer (AES-GCM-128, RFC 4106, or AES-CBC-128 + HMAC-SHA-256-128, RFC 3602 /
//     4868). The templates are the pcaps' first frames (sequence numbers s0..s0+N_FLOWS-1); the feed
//     decrypts each once with the SA's keys (its ICV must verify), then encrypts every packet it feeds
//     with intel-ipsec-mb, with strictly increasing sequence numbers from 1 per SA and the IV made from
//     the sequence number, exactly as gen_traffic.py builds packet number s (so the gateway's
//     anti-replay window stays on and nothing is ever replayed; --dump writes the same frames to a
//     pcap, which run_bench.py checks against gen_traffic.py / scapy).
//   --sas N / --conns F: the traffic of N SA pairs and F flows (struct Flows below: addresses, ports
//     and SPIs rewritten per frame, checksums recomputed).
// - It keeps the ring full (a burst whenever there is room for one) until --duration-ms has passed or
//   SIGINT/SIGTERM, then prints one JSON line: packets fed, the last sequence number, how often it
//   found the ring holding less than one burst / empty after it had first filled it (the gateway may
//   then have received a short burst or nothing: the feed, not the gateway, was the bottleneck), how
//   long the ring was empty at most (starved_s: for each time it found the ring empty, the time since
//   it last saw or left it holding k packets less the time the gateway needs to dequeue k), how
//   often the pool was empty, and those counters at each SIGUSR1 it received ("marks": run_bench.py
//   marks the edges of its measuring window so that only the window's counters are judged).
// - When the ring is full it sleeps (at most --full-sleep-us; 0: it always spins) for as long as the
//   gateway takes to empty about half of it at the rate measured over the last millisecond, less twice
//   the wake-up delay it measures (its tail is long on a VM), and spins when that leaves under 5 us
//   (at the forward-only baseline's rates). Run at a real-time priority (chrt -f) it then takes only
//   the CPU time its packets need while it can sleep, and preempts anything else on its CPU the moment
//   it wakes: other users' jobs on that CPU cannot starve the gateway of packets.
#include <intel-ipsec-mb.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include <arpa/inet.h>

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr uint32_t kMaxBurst = 64;
constexpr uint32_t kEthLen = 14, kIpLen = 20, kUdpLen = 8;
constexpr uint32_t kEspHdr = 8, kIcvLen = 16;
constexpr uint32_t kEspOffset = kEthLen + kIpLen;  // ESP header in an inbound frame

std::atomic<bool> g_stop{false};

std::atomic<uint32_t> g_marks{0};

void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }
void on_mark(int) { g_marks.fetch_add(1, std::memory_order_relaxed); }

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "dpvpn-bench-feed: %s\n", msg.c_str());
  std::exit(1);
}

// The first `max_frames` frames of a pcap (all when 0).
std::vector<std::vector<uint8_t>> read_pcap(const std::string& path, size_t max_frames) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) die("cannot open " + path);
  uint8_t global[24];
  if (std::fread(global, 1, sizeof global, f) != sizeof global) die(path + ": no pcap header");
  uint32_t magic;
  std::memcpy(&magic, global, 4);
  if (magic != 0xA1B2C3D4u) die(path + ": not a little-endian microsecond pcap");
  std::vector<std::vector<uint8_t>> frames;
  uint32_t rec[4];
  while ((max_frames == 0 || frames.size() < max_frames) && std::fread(rec, 1, sizeof rec, f) == sizeof rec) {
    if (rec[2] != rec[3] || rec[2] > 9000) die(path + ": truncated or oversized frame");
    std::vector<uint8_t> fr(rec[2]);
    if (std::fread(fr.data(), 1, fr.size(), f) != fr.size()) die(path + ": short frame");
    frames.push_back(std::move(fr));
  }
  std::fclose(f);
  if (frames.empty()) die(path + ": no frames");
  return frames;
}

void write_pcap(const std::string& path, const std::vector<std::vector<uint8_t>>& frames) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) die("cannot create " + path);
  const uint32_t global[6] = {0xA1B2C3D4u, 2u | (4u << 16), 0, 0, 65535, 1};
  std::fwrite(global, 1, sizeof global, f);
  for (const auto& fr : frames) {
    const uint32_t rec[4] = {0, 0, static_cast<uint32_t>(fr.size()), static_cast<uint32_t>(fr.size())};
    std::fwrite(rec, 1, sizeof rec, f);
    std::fwrite(fr.data(), 1, fr.size(), f);
  }
  if (std::fclose(f) != 0) die("writing " + path);
}

uint32_t load_be32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return ntohl(v);
}

void store_be32(uint8_t* p, uint32_t v) {
  v = htonl(v);
  std::memcpy(p, &v, 4);
}

// The flows and SAs of a case (bench/bench_topology.py's, which documents the scheme; run_bench.py checks
// the frames against scapy): frame k carries flow f of F (outbound f = (k-1) mod F, inbound f = k mod F,
// as gen_traffic.py pairs packets with its 8 templates), of SA pair s = f mod N. Flow f's UDP source port
// is 10000 + f mod 50000, its destination port 5001 + f / 50000 (the inside host stays the one the
// gateway knows the MAC of); with N > 1 SA pair s's remote host is
// remote_base + s and its peer peer_base + s, its inbound SPI spi_base + s. With N = 1 and F = 8 the
// frames are the templates' (nothing is rewritten).
struct Flows {
  uint32_t sas = 1, flows = 8;
  uint32_t remote_base = 0, peer_base = 0, spi_base = 0;
  bool rewrite() const { return sas > 1 || flows > 8; }
};

void ipv4_checksum(uint8_t* ip) {
  ip[10] = ip[11] = 0;
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = static_cast<uint8_t>(~sum >> 8);
  ip[11] = static_cast<uint8_t>(~sum);
}

// Rewrites an inner IPv4/UDP packet (no options) to flow f: its ports, and with N > 1 the remote
// host's address (destination outbound, source inbound).
void rewrite_inner(uint8_t* ip, uint32_t f, const Flows& fl, bool inbound) {
  if (fl.sas > 1) store_be32(ip + (inbound ? 12 : 16), fl.remote_base + f % fl.sas);
  const uint32_t sport = 10000 + f % 50000, dport = 5001 + f / 50000;
  ip[20] = static_cast<uint8_t>(sport >> 8);
  ip[21] = static_cast<uint8_t>(sport);
  ip[22] = static_cast<uint8_t>(dport >> 8);
  ip[23] = static_cast<uint8_t>(dport);
  ip[26] = ip[27] = 0;  // UDP checksum: none (the addresses changed)
  ipv4_checksum(ip);
}

// Builds frame number `k` (1, 2, ...) of the traffic into `dst` (room for the whole frame) and
// returns its length. Outbound writes the headers only (see the file comment). CBC frames are
// complete only after finish() (their jobs are submitted in build() and flushed there).
class Traffic {
 public:
  Traffic(const std::string& dir, const std::string& alg, const std::vector<std::vector<uint8_t>>& templates,
          const std::string& key_hex, const std::string& auth_key_hex, const Flows& flows)
      : inbound_(dir == "inbound"), cbc_(alg == "aes128cbc-sha256"), flows_(flows) {
    if (!inbound_ && dir != "outbound") die("--dir must be outbound or inbound");
    if (!cbc_ && alg != "aes128gcm") die("--alg must be aes128gcm or aes128cbc-sha256");
    if (flows_.sas == 0 || flows_.flows < flows_.sas || flows_.flows > 50000u * 240) {
      die("--sas N and --conns F: 1 <= N <= F <= 12000000");
    }
    if (flows_.rewrite() && templates.size() != 8) die("rewriting flows needs the 8 templates of gen_traffic.py");
    seqs_.assign(flows_.sas, 0);
    const size_t len = templates[0].size();
    for (const auto& t : templates) {
      if (t.size() != len) die("templates of different lengths");
    }
    frame_len_ = static_cast<uint32_t>(len);
    if (!inbound_) {
      for (const auto& t : templates) {
        if (t.size() < kEthLen + kIpLen + kUdpLen || t[12] != 0x08 || t[13] != 0x00 || t[14] != 0x45 || t[23] != 17) {
          die("outbound template is not Ethernet/IPv4 (no options)/UDP");
        }
        std::vector<uint8_t> header(t.begin(), t.begin() + kEthLen + kIpLen + kUdpLen);
        header[40] = header[41] = 0;  // UDP checksum: none (the payload is not written)
        headers_.push_back(std::move(header));
      }
      return;
    }
    const std::vector<uint8_t> key = hex(key_hex, cbc_ ? 16 : 20, "--key");
    mgr_ = alloc_mb_mgr(0);
    if (mgr_ == nullptr) die("alloc_mb_mgr failed");
    init_mb_mgr_auto(mgr_, &arch_);
    iv_len_ = cbc_ ? 16 : 8;
    if (cbc_) {
      IMB_AES_KEYEXP_128(mgr_, key.data(), enc_keys_, dec_keys_);
      const std::vector<uint8_t> auth = hex(auth_key_hex, 32, "--auth-key");
      alignas(16) uint8_t block[64];
      for (int pad = 0; pad < 2; ++pad) {  // HMAC (RFC 2104): the states after key ^ ipad / opad
        std::memset(block, pad == 0 ? 0x36 : 0x5c, sizeof block);
        for (size_t i = 0; i < auth.size(); ++i) block[i] ^= auth[i];
        IMB_SHA256_ONE_BLOCK(mgr_, block, pad == 0 ? ipad_ : opad_);
      }
    } else {
      std::memcpy(salt_, key.data() + 16, 4);
      IMB_AES128_GCM_PRE(mgr_, key.data(), &gcm_key_);
    }
    cipher_offset_ = kEspOffset + kEspHdr + iv_len_;
    if (frame_len_ < cipher_offset_ + 16 + kIcvLen) die("inbound template too short for ESP");
    cipher_len_ = frame_len_ - cipher_offset_ - kIcvLen;
    plain_.resize(templates.size());
    for (size_t i = 0; i < templates.size(); ++i) {
      const auto& t = templates[i];
      if (t[12] != 0x08 || t[13] != 0x00 || t[14] != 0x45 || t[23] != 50) die("inbound template is not IPv4 (no options)/ESP");
      const uint32_t seq = load_be32(&t[kEspOffset + 4]);
      if (i == 0) {
        spi_ = load_be32(&t[kEspOffset]);
        outer_.assign(t.begin(), t.begin() + kEspOffset);
      } else if (seq != load_be32(&templates[0][kEspOffset + 4]) + i || load_be32(&t[kEspOffset]) != spi_) {
        die("inbound templates must be one SA's consecutive sequence numbers");
      }
      // Decrypt a copy; the plaintext belongs to inner packet seq mod n (gen_traffic.py's pairing).
      std::vector<uint8_t> frame = t;
      uint8_t tag[kIcvLen];
      crypt(frame.data(), false, salt_, tag);
      flush();
      if (std::memcmp(tag, &t[cipher_offset_ + cipher_len_], kIcvLen) != 0) {
        die("inbound template " + std::to_string(i) + ": ICV does not verify with the keys");
      }
      plain_[seq % templates.size()].assign(frame.begin() + cipher_offset_, frame.begin() + cipher_offset_ + cipher_len_);
      if (cbc_) {
        if (std::any_of(&t[kEspOffset + kEspHdr], &t[kEspOffset + kEspHdr + 8], [](uint8_t b) { return b != 0; }) ||
            load_be32(&t[kEspOffset + kEspHdr + 12]) != seq % 8) {
          die("CBC template " + std::to_string(i) + ": IV is not 8 zero bytes + sequence number mod 8");
        }
        cipher_text_.resize(templates.size());
        cipher_text_[seq % templates.size()].assign(t.begin() + cipher_offset_, t.begin() + cipher_offset_ + cipher_len_);
      }
    }
  }

  Traffic(const Traffic&) = delete;
  Traffic& operator=(const Traffic&) = delete;
  ~Traffic() {
    if (mgr_ != nullptr) free_mb_mgr(mgr_);
  }

  uint32_t frame_len() const { return frame_len_; }
  uint32_t sas() const { return flows_.sas; }

  uint32_t build(uint8_t* dst, uint64_t k) {
    if (!inbound_) {
      const auto f = static_cast<uint32_t>((k - 1) % flows_.flows);
      const std::vector<uint8_t>& h = headers_[f % headers_.size()];
      std::memcpy(dst, h.data(), h.size());
      if (flows_.rewrite()) rewrite_inner(dst + kEthLen, f, flows_, false);
      return frame_len_;
    }
    const auto f = static_cast<uint32_t>(k % flows_.flows);
    const uint32_t s = f % flows_.sas;
    const uint32_t seq = ++seqs_[s];
    if (seq == 0) die("ESP sequence numbers exhausted (no ESN): use a shorter duration");
    std::memcpy(dst, outer_.data(), kEspOffset);
    uint8_t* esp = dst + kEspOffset;
    store_be32(esp, flows_.sas > 1 ? flows_.spi_base + s : spi_);
    store_be32(esp + 4, seq);
    // IV: GCM: the sequence number, 64 bits big-endian; CBC: 8 zero bytes, then the sequence number modulo
    // the 8 templates (64 bits big-endian): with one flow per template the ciphertext is then the same for
    // every packet of a template, so it is encrypted once and only the HMAC (over the sequence number) is
    // computed per packet. Both as gen_traffic.py makes them. (Predictable or repeated IVs: a benchmark may.)
    std::memset(esp + kEspHdr, 0, iv_len_);
    store_be32(esp + kEspHdr + iv_len_ - 4, cbc_ ? seq % 8 : seq);
    uint8_t* cipher = dst + cipher_offset_;
    if (cbc_ && !flows_.rewrite()) {
      std::memcpy(cipher, cipher_text_[seq % 8].data(), cipher_len_);
      authenticate(esp, cipher + cipher_len_);
      return frame_len_;
    }
    const std::vector<uint8_t>& plain = plain_[f % plain_.size()];
    std::memcpy(cipher, plain.data(), cipher_len_);
    uint8_t salt[4];
    std::memcpy(salt, salt_, 4);
    if (flows_.rewrite()) {
      rewrite_inner(cipher, f, flows_, true);
      if (flows_.sas > 1) {
        store_be32(dst + kEthLen + 12, flows_.peer_base + s);
        ipv4_checksum(dst + kEthLen);
        store_be32(salt, load_be32(salt_) ^ s);  // bench_topology.cipher_key: salt XOR s
      }
    }
    crypt(dst, true, salt, cipher + cipher_len_);
    return frame_len_;
  }

  // Completes the CBC jobs build() submitted.
  void finish() {
    if (cbc_ && inbound_) flush();
  }

  const char* arch() const {
    if (!inbound_) return "none";
    switch (arch_) {
      case IMB_ARCH_SSE: return "sse";
      case IMB_ARCH_AVX: return "avx";
      case IMB_ARCH_AVX2: return "avx2";
      case IMB_ARCH_AVX512: return "avx512";
      default: return "other";
    }
  }

 private:
  static std::vector<uint8_t> hex(const std::string& text, size_t bytes, const char* what) {
    if (text.size() != 2 * bytes) die(std::string(what) + ": " + std::to_string(bytes) + " bytes in hex");
    std::vector<uint8_t> out(bytes);
    for (size_t i = 0; i < bytes; ++i) out[i] = static_cast<uint8_t>(std::stoul(text.substr(2 * i, 2), nullptr, 16));
    return out;
  }

  // En/decrypts the ESP frame in place (ICV to `tag`). GCM completes at once; CBC+HMAC submits a job.
  void crypt(uint8_t* frame, bool encrypt, const uint8_t salt[4], uint8_t* tag) {
    uint8_t* esp = frame + kEspOffset;
    uint8_t* cipher = frame + cipher_offset_;
    if (!cbc_) {
      uint8_t iv[12];
      std::memcpy(iv, salt, 4);
      std::memcpy(iv + 4, esp + kEspHdr, 8);
      if (encrypt) {
        IMB_AES128_GCM_ENC(mgr_, &gcm_key_, &ctx_, cipher, cipher, cipher_len_, iv, esp, kEspHdr, tag, kIcvLen);
      } else {
        IMB_AES128_GCM_DEC(mgr_, &gcm_key_, &ctx_, cipher, cipher, cipher_len_, iv, esp, kEspHdr, tag, kIcvLen);
      }
      return;
    }
    IMB_JOB* job = IMB_GET_NEXT_JOB(mgr_);
    job->cipher_mode = IMB_CIPHER_CBC;
    job->hash_alg = IMB_AUTH_HMAC_SHA_256;
    job->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
    job->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
    job->key_len_in_bytes = IMB_KEY_128_BYTES;
    job->enc_keys = enc_keys_;
    job->dec_keys = dec_keys_;
    job->src = esp;
    job->dst = cipher;
    job->cipher_start_src_offset_in_bytes = kEspHdr + iv_len_;
    job->msg_len_to_cipher_in_bytes = cipher_len_;
    job->iv = esp + kEspHdr;
    job->iv_len_in_bytes = 16;
    submit_hmac(job, tag);
  }

  // CBC: the HMAC of a frame whose ciphertext is in place (no cipher work).
  void authenticate(uint8_t* esp, uint8_t* tag) {
    IMB_JOB* job = IMB_GET_NEXT_JOB(mgr_);
    job->cipher_mode = IMB_CIPHER_NULL;
    job->hash_alg = IMB_AUTH_HMAC_SHA_256;
    job->cipher_direction = IMB_DIR_ENCRYPT;
    job->chain_order = IMB_ORDER_CIPHER_HASH;
    job->src = esp;
    job->dst = esp + kEspHdr + iv_len_;
    job->cipher_start_src_offset_in_bytes = kEspHdr + iv_len_;
    job->msg_len_to_cipher_in_bytes = cipher_len_;
    submit_hmac(job, tag);
  }

  // The HMAC-SHA-256 part every CBC job shares (over ESP header, IV and ciphertext), then submits it.
  void submit_hmac(IMB_JOB* job, uint8_t* tag) {
    job->hash_start_src_offset_in_bytes = 0;
    job->msg_len_to_hash_in_bytes = kEspHdr + iv_len_ + cipher_len_;
    job->u.HMAC._hashed_auth_key_xor_ipad = ipad_;
    job->u.HMAC._hashed_auth_key_xor_opad = opad_;
    job->auth_tag_output = tag;
    job->auth_tag_output_len_in_bytes = kIcvLen;
    job = IMB_SUBMIT_JOB(mgr_);
    while (job != nullptr) {
      check(job);
      job = IMB_GET_COMPLETED_JOB(mgr_);
    }
  }

  void flush() {
    IMB_JOB* job;
    while ((job = IMB_FLUSH_JOB(mgr_)) != nullptr) check(job);
  }

  static void check(const IMB_JOB* job) {
    if (job->status != IMB_STATUS_COMPLETED) die("intel-ipsec-mb job failed: status " + std::to_string(job->status));
  }

  bool inbound_, cbc_;
  Flows flows_;
  uint32_t frame_len_ = 0;
  std::vector<std::vector<uint8_t>> headers_;  // outbound: Ethernet/IPv4/UDP per template
  std::vector<uint8_t> outer_;                 // inbound: Ethernet/outer IPv4
  std::vector<std::vector<uint8_t>> plain_;    // inbound: inner packet + ESP padding + trailer, by seq mod n
  std::vector<std::vector<uint8_t>> cipher_text_;  // inbound CBC: the templates' ciphertext, by seq mod n
  std::vector<uint32_t> seqs_;                 // inbound: each SA's last sequence number
  IMB_MGR* mgr_ = nullptr;
  IMB_ARCH arch_ = IMB_ARCH_NONE;
  alignas(64) gcm_key_data gcm_key_{};
  gcm_context_data ctx_{};
  alignas(16) uint8_t enc_keys_[16 * 15] = {}, dec_keys_[16 * 15] = {};
  alignas(16) uint8_t ipad_[32] = {}, opad_[32] = {};
  uint8_t salt_[4] = {};
  uint32_t spi_ = 0, iv_len_ = 8, cipher_offset_ = 0, cipher_len_ = 0;
};

struct Options {
  std::string ring, pool, templates, dir, alg = "aes128gcm", key, auth_key, dump;
  uint16_t port = 0;
  uint32_t burst = 32, count = 64, templates_n = 0;
  Flows flows;
  uint64_t duration_ms = 0, wait_ms = 10000, full_sleep_us = 0;
};

uint32_t parse_ipv4(const std::string& text) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) die("'" + text + "' is not an IPv4 address");
  return ntohl(a.s_addr);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--ring") o.ring = val();
    else if (a == "--pool") o.pool = val();
    else if (a == "--port") o.port = static_cast<uint16_t>(std::stoul(val()));
    else if (a == "--templates") o.templates = val();
    else if (a == "--flows") o.templates_n = static_cast<uint32_t>(std::stoul(val()));
    else if (a == "--dir") o.dir = val();
    else if (a == "--alg") o.alg = val();
    else if (a == "--key") o.key = val();
    else if (a == "--auth-key") o.auth_key = val();
    else if (a == "--sas") o.flows.sas = static_cast<uint32_t>(std::stoul(val()));
    else if (a == "--conns") o.flows.flows = static_cast<uint32_t>(std::stoul(val()));
    else if (a == "--remote-base") o.flows.remote_base = parse_ipv4(val());
    else if (a == "--peer-base") o.flows.peer_base = parse_ipv4(val());
    else if (a == "--spi-base") o.flows.spi_base = static_cast<uint32_t>(std::stoul(val(), nullptr, 0));
    else if (a == "--burst") o.burst = static_cast<uint32_t>(std::stoul(val()));
    else if (a == "--duration-ms") o.duration_ms = std::stoull(val());
    else if (a == "--wait-ms") o.wait_ms = std::stoull(val());
    else if (a == "--full-sleep-us") o.full_sleep_us = std::min<uint64_t>(std::stoull(val()), 999999);
    else if (a == "--dump") o.dump = val();
    else if (a == "--count") o.count = static_cast<uint32_t>(std::stoul(val()));
    else die("unknown argument " + a);
  }
  if (o.templates.empty() || o.dir.empty()) die("--templates and --dir are required");
  if (o.burst == 0 || o.burst > kMaxBurst) die("--burst must be 1.." + std::to_string(kMaxBurst));
  if (o.dump.empty() && (o.ring.empty() || o.pool.empty())) die("--ring and --pool are required (or --dump)");
  return o;
}

int dump(const Options& o, Traffic& traffic) {
  std::vector<std::vector<uint8_t>> frames;
  for (uint32_t k = 1; k <= o.count; ++k) {
    std::vector<uint8_t> fr(traffic.frame_len(), 0);  // outbound: the payload the feed leaves alone
    fr.resize(traffic.build(fr.data(), k));
    traffic.finish();
    frames.push_back(std::move(fr));
  }
  write_pcap(o.dump, frames);
  return 0;
}

template <typename T>
T* lookup(T* (*fn)(const char*), const std::string& name, uint64_t wait_ms, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    if (T* p = fn(name.c_str())) return p;
    if (g_stop.load(std::memory_order_relaxed) || std::chrono::steady_clock::now() > deadline) {
      die(std::string("no ") + what + " named " + name + " in the primary process");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGUSR1, on_mark);
  int sep = 1;
  while (sep < argc && std::strcmp(argv[sep], "--") != 0) ++sep;
  const bool have_eal = sep < argc;
  const Options o = have_eal ? parse(argc - sep - 1, argv + sep + 1) : parse(argc - 1, argv + 1);
  Traffic traffic(o.dir, o.alg, read_pcap(o.templates, o.templates_n), o.key, o.auth_key, o.flows);
  if (!o.dump.empty()) return dump(o, traffic);
  if (!have_eal) die("EAL arguments (secondary process of the gateway) and -- are required");

  if (rte_eal_init(sep, argv) < 0) die(std::string("rte_eal_init: ") + rte_strerror(rte_errno));
  if (rte_eal_process_type() != RTE_PROC_SECONDARY) die("must run as a secondary process (--proc-type=secondary)");
  rte_ring* rx = lookup<rte_ring>(rte_ring_lookup, o.ring, o.wait_ms, "ring");
  // The primary lists the pool by name (rte_mempool_create_empty) before it gives it its ring and
  // mbufs; with 100k SAs its start-up is slow enough for the feed to see the pool in between (and read
  // a null ring: the feed's segfault "at 108"). Wait until it is whole.
  rte_mempool* mp = lookup<rte_mempool>(
      [](const char* name) -> rte_mempool* {
        rte_mempool* p = rte_mempool_lookup(name);
        const auto* vp = reinterpret_cast<volatile const rte_mempool*>(p);
        return p != nullptr && vp->pool_data != nullptr && vp->populated_size == vp->size ? p : nullptr;
      },
      o.pool, o.wait_ms, "populated mempool");
  auto* pool_ring = static_cast<rte_ring*>(mp->pool_data);
  if (rte_pktmbuf_data_room_size(mp) < RTE_PKTMBUF_HEADROOM + traffic.frame_len()) die("the pool's mbufs are too small");

  const auto t0 = std::chrono::steady_clock::now();
  const auto end = t0 + std::chrono::milliseconds(o.duration_ms);
  // ring_low_seen: the ring held less than one burst when the feed looked (the gateway may have
  // received a short burst or none: the feed, not the gateway, was the bottleneck at that moment);
  // ring_empty_seen: it was empty. Both count only once the feed has filled the ring.
  uint64_t fed = 0, ring_empty_seen = 0, ring_low_seen = 0, pool_empty = 0, ring_full_polls = 0;
  struct Mark {
    double t;
    uint64_t fed, low, empty, pool_empty;
    double starved;
  };
  std::vector<Mark> marks;
  marks.reserve(16);
  uint32_t marks_seen = 0;
  bool filled = false;
  uint64_t k = 1;  // the next frame's number
  rte_mbuf* burst[kMaxBurst];
  const uint32_t n = o.burst;
  const unsigned capacity = rte_ring_get_capacity(rx);
  const auto tsc_hz = static_cast<double>(rte_get_tsc_hz());
  const double max_sleep = static_cast<double>(o.full_sleep_us) * tsc_hz / 1e6, min_sleep = 5e-6 * tsc_hz;
  double rate = 0, overshoot = 10e-6 * tsc_hz;  // packets per TSC cycle; wake-up delay (TSC cycles)
  double starved = 0;                            // TSC cycles the ring was empty (estimated, see below)
  uint64_t seen_tsc = 0;  // when the feed last saw the ring hold at least seen_count packets
  unsigned seen_count = 0;
  uint64_t rate_t = rte_rdtsc(), rate_fed = 0, sleeps = 0;
  const size_t priv = rte_pktmbuf_priv_size(mp);
  rte_mbuf* next[kMaxBurst];
  bool have_next = false;
  // An mbuf without its buffer address: before the first packet, the pool is populated but the gateway
  // has not initialised its mbufs yet (rte_pktmbuf_pool_create does that last): the burst goes back and
  // the feed waits. Later, the gateway stopped on its own (--duration-ms) and freed its pool (DPDK zeroes
  // freed memory; the ring loses its size too): the feed stops and reports (its window was marked
  // before) instead of writing through a null pointer.
  bool gateway_gone = false;
  const uint32_t needed_buf_len = RTE_PKTMBUF_HEADROOM + traffic.frame_len();  // checked for the pool at start
  // n mbufs from the gateway's pool, their first line and packet data prefetched for writing (they come
  // back from the gateway's CPU).
  auto take = [&](rte_mbuf** to) {
    if (rte_ring_dequeue_bulk(pool_ring, reinterpret_cast<void**>(to), n, nullptr) == 0) return false;
    for (uint32_t i = 0; i < n; ++i) {
      auto* m = reinterpret_cast<uint8_t*>(to[i]);
      __builtin_prefetch(m, 1, 3);
      __builtin_prefetch(m + sizeof(rte_mbuf) + priv + RTE_PKTMBUF_HEADROOM, 1, 3);
    }
    return true;
  };
  for (uint64_t iter = 0; !g_stop.load(std::memory_order_relaxed); ++iter) {
    if (o.duration_ms != 0 && (iter & 255) == 0 && std::chrono::steady_clock::now() >= end) break;
    if (g_marks.load(std::memory_order_relaxed) != marks_seen) {  // SIGUSR1: run_bench.py's window edges
      ++marks_seen;
      const double t = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
      marks.push_back({t, fed, ring_low_seen, ring_empty_seen, pool_empty, starved / tsc_hz});
    }
    const unsigned free_slots = rte_ring_free_count(rx);
    if (free_slots < n) {
      filled = true;
      ++ring_full_polls;
      const uint64_t now = rte_rdtsc();
      seen_tsc = now;
      seen_count = capacity - free_slots;
      if (now - rate_t > tsc_hz / 1000) {  // the gateway's rate over the last >= 1 ms
        rate = static_cast<double>(fed - rate_fed) / static_cast<double>(now - rate_t);
        rate_t = now;
        rate_fed = fed;
      }
      // Sleep while the gateway empties about half the ring, less the time waking up takes.
      const double budget = rate > 0 ? capacity / 2.0 / rate - 2 * overshoot : 0;
      if (max_sleep > 0 && budget > min_sleep) {
        const double want = std::min(budget, max_sleep);
        const timespec ts{0, static_cast<long>(want / tsc_hz * 1e9)};
        clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);
        const double late = static_cast<double>(rte_rdtsc() - now) - want;
        overshoot = 0.9 * overshoot + 0.1 * std::max(0.0, late);
        ++sleeps;
      } else {
        rte_pause();
      }
      continue;
    }
    if (filled && free_slots > capacity - n) {
      ++ring_low_seen;
      if (free_slots == capacity) {
        ++ring_empty_seen;
        // How long the ring has been empty, at most: the time since the feed last saw (or left) it
        // holding seen_count packets less the time the gateway takes to dequeue those at its recent rate.
        if (rate > 0) starved += std::max(0.0, static_cast<double>(rte_rdtsc() - seen_tsc) - seen_count / rate);
      }
    }
    // The burst to fill was taken from the pool (and its lines prefetched) one round earlier, so that
    // the cache misses on them overlap with the filling of the previous burst.
    if (!have_next && !take(next)) {
      ++pool_empty;
      rte_pause();
      continue;
    }
    std::memcpy(burst, next, n * sizeof burst[0]);
    have_next = take(next);  // (if the pool is empty now, the next round tries again)
    // Each mbuf's buffer is read once, here, and written through what was checked: a gateway that exits
    // meanwhile zeroes its pool, and reading the address again gave a null pointer (segfaults at 0 in
    // the header copy). The buffer stays mapped in this process, so a late write is harmless.
    bool unready = false;
    uint8_t* data[kMaxBurst];
    for (uint32_t i = 0; i < n; ++i) {
      auto* buf = static_cast<uint8_t*>(__atomic_load_n(&burst[i]->buf_addr, __ATOMIC_RELAXED));
      const uint16_t buf_len = __atomic_load_n(&burst[i]->buf_len, __ATOMIC_RELAXED);
      unready |= buf == nullptr || buf_len < needed_buf_len || burst[i]->pool != mp;
      data[i] = buf != nullptr ? buf + RTE_PKTMBUF_HEADROOM : nullptr;
    }
    if (unready) {
      if (fed != 0) {
        gateway_gone = true;
        break;
      }
      rte_ring_enqueue_bulk(pool_ring, reinterpret_cast<void**>(burst), n, nullptr);
      rte_delay_us_sleep(1000);
      continue;
    }
    for (uint32_t i = 0; i < n; ++i) {
      // What a NIC's RX path writes (rte_pktmbuf_reset's fields of the first cache line): a free mbuf
      // already has next == NULL and nb_segs == 1 (rte_pktmbuf_free_seg), and PMDs leave the second
      // line (next, tx_offload, ...) alone, so the gateway finds it where its own free left it.
      rte_mbuf* m = burst[i];
      m->data_off = RTE_PKTMBUF_HEADROOM;
      rte_mbuf_refcnt_set(m, 1);
      m->nb_segs = 1;
      m->port = o.port;
      m->ol_flags &= RTE_MBUF_F_EXTERNAL;
      m->packet_type = 0;
      m->vlan_tci = 0;
      m->vlan_tci_outer = 0;
      m->hash.rss = 0;
      const uint32_t len = traffic.build(data[i], k++);
      m->data_len = static_cast<uint16_t>(len);
      m->pkt_len = len;
    }
    traffic.finish();
    // One producer (this process; the gateway sends nothing on this port), room checked above: fewer
    // taken means the ring is gone (see gateway_gone).
    const unsigned sent = rte_ring_enqueue_burst(rx, reinterpret_cast<void**>(burst), n, nullptr);
    if (sent != n) {
      gateway_gone = true;
      break;
    }
    fed += n;
    seen_tsc = rte_rdtsc();
    seen_count = capacity - free_slots + n;
  }
  if (gateway_gone) {
    std::fprintf(stderr, "dpvpn-bench-feed: the gateway freed its pool or ring (it stopped): stopping\n");
  } else if (have_next) {
    rte_ring_enqueue_bulk(pool_ring, reinterpret_cast<void**>(next), n, nullptr);  // back to the pool
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string mk = "[";
  for (const Mark& m : marks) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "%s{\"t\":%.6f,\"fed\":%llu,\"ring_low_seen\":%llu,\"ring_empty_seen\":%llu,"
                  "\"pool_empty_polls\":%llu,\"starved_s\":%.6f}", mk.size() > 1 ? "," : "", m.t,
                  static_cast<unsigned long long>(m.fed), static_cast<unsigned long long>(m.low),
                  static_cast<unsigned long long>(m.empty), static_cast<unsigned long long>(m.pool_empty), m.starved);
    mk += buf;
  }
  mk += "]";
  std::printf("{\"fed\":%llu,\"frames\":%llu,\"seconds\":%.3f,\"ring_full_polls\":%llu,\"ring_low_seen\":%llu,"
              "\"ring_empty_seen\":%llu,\"starved_s\":%.6f,\"pool_empty_polls\":%llu,\"sleeps\":%llu,\"overshoot_us\":%.1f,"
              "\"frame_len\":%u,\"arch\":\"%s\",\"lcore\":%u,\"gateway_gone\":%s,\"marks\":%s}\n",
              static_cast<unsigned long long>(fed), static_cast<unsigned long long>(k - 1), secs, static_cast<unsigned long long>(ring_full_polls),
              static_cast<unsigned long long>(ring_low_seen), static_cast<unsigned long long>(ring_empty_seen),
              starved / tsc_hz, static_cast<unsigned long long>(pool_empty), static_cast<unsigned long long>(sleeps), overshoot / tsc_hz * 1e6,
              traffic.frame_len(), traffic.arch(), rte_lcore_id(), gateway_gone ? "true" : "false", mk.c_str());
  std::fflush(stdout);
  // No rte_eal_cleanup(): the primary may already be gone, and a secondary's cleanup has nothing of
  // ours to give back (the mbufs in the ring belong to the gateway's pool).
  return 0;
}
