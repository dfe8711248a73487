// Crypto-only ceiling for scripts/bench.sh: AES-GCM-128 through intel-ipsec-mb's job API on one
// core, bursts of 32 packets, the byte counts ESP tunnel mode encrypts for each inner size (inner
// packet + padding + the 2-byte trailer, 8-byte AAD, 12-byte nonce, 16-byte ICV). No packet I/O,
// no parsing: what a perfect gateway would spend per packet on crypto alone.
//
//   dpvpn-bench-crypto [--sizes 64,1420] [--bursts N] [--reps R]
// Prints one JSON object per line: {"size":..,"dir":"encrypt"|"decrypt","cycles_per_packet":..,
// "mpps":..,"tsc_hz":..,"arch":".."}; cycles are TSC cycles (rdtsc), the fastest of R repetitions.
#include <intel-ipsec-mb.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kBurst = 32;
constexpr uint32_t kIcvLen = 16;

double measure_tsc_hz() {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const uint64_t c0 = __rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const uint64_t c1 = __rdtsc();
  const auto t1 = Clock::now();
  return static_cast<double>(c1 - c0) / std::chrono::duration<double>(t1 - t0).count();
}

// ESP (RFC 4303) encrypts inner || pad || pad_len || next_header, padded to 4 bytes.
uint32_t esp_cipher_len(uint32_t inner) { return (inner + 2 + 3) / 4 * 4; }

struct Packet {
  alignas(64) uint8_t data[2048];
  uint8_t nonce[12];
  uint8_t aad[8];
  uint8_t tag[kIcvLen];
};

const char* arch_name(IMB_ARCH a) {
  switch (a) {
    case IMB_ARCH_SSE: return "sse";
    case IMB_ARCH_AVX: return "avx";
    case IMB_ARCH_AVX2: return "avx2";
    case IMB_ARCH_AVX512: return "avx512";
    default: return "none";
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<uint32_t> sizes = {64, 1420};
  uint64_t bursts = 100000;
  int reps = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--sizes") {
      sizes.clear();
      for (char* s = std::strtok(argv[i + 1], ","); s != nullptr; s = std::strtok(nullptr, ",")) {
        sizes.push_back(static_cast<uint32_t>(std::atoi(s)));
      }
    } else if (a == "--bursts") {
      bursts = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (a == "--reps") {
      reps = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: %s [--sizes 64,1420] [--bursts N] [--reps R]\n", argv[0]);
      return 2;
    }
  }

  IMB_MGR* mgr = alloc_mb_mgr(0);
  if (mgr == nullptr) return 1;
  IMB_ARCH arch = IMB_ARCH_NONE;
  init_mb_mgr_auto(mgr, &arch);
  if (arch == IMB_ARCH_NONE || arch == IMB_ARCH_NOAESNI) {
    std::fprintf(stderr, "intel-ipsec-mb: no AES-NI code path\n");
    return 1;
  }
  alignas(64) gcm_key_data key{};
  uint8_t raw_key[16];
  for (int i = 0; i < 16; ++i) raw_key[i] = static_cast<uint8_t>(i * 17 + 3);
  IMB_AES128_GCM_PRE(mgr, raw_key, &key);

  std::vector<Packet> pkts(kBurst);
  for (int i = 0; i < kBurst; ++i) {
    std::memset(pkts[i].data, i, sizeof(pkts[i].data));
    std::memset(pkts[i].nonce, 0x5a, sizeof(pkts[i].nonce));
    std::memset(pkts[i].aad, 0xa5, sizeof(pkts[i].aad));
  }
  const double tsc_hz = measure_tsc_hz();
  uint64_t completed = 0;

  for (const uint32_t size : sizes) {
    const uint32_t len = esp_cipher_len(size);
    if (len > sizeof(Packet::data)) {
      std::fprintf(stderr, "size %u too large\n", size);
      return 2;
    }
    for (const IMB_CIPHER_DIRECTION dir : {IMB_DIR_ENCRYPT, IMB_DIR_DECRYPT}) {
      std::vector<double> samples;
      for (int r = 0; r < reps + 1; ++r) {  // the first repetition warms up caches and clocks
        const uint64_t t0 = __rdtsc();
        for (uint64_t b = 0; b < bursts; ++b) {
          for (int i = 0; i < kBurst; ++i) {
            Packet& p = pkts[i];
            p.nonce[11] = static_cast<uint8_t>(b);  // a different nonce per burst, as ESP's IV
            IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
            job->cipher_mode = IMB_CIPHER_GCM;
            job->hash_alg = IMB_AUTH_AES_GMAC;
            job->cipher_direction = dir;
            job->chain_order = dir == IMB_DIR_ENCRYPT ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
            job->key_len_in_bytes = IMB_KEY_128_BYTES;
            job->enc_keys = &key;
            job->dec_keys = &key;
            job->src = p.data;
            job->dst = p.data;
            job->cipher_start_src_offset_in_bytes = 0;
            job->msg_len_to_cipher_in_bytes = len;
            job->hash_start_src_offset_in_bytes = 0;
            job->msg_len_to_hash_in_bytes = len;
            job->iv = p.nonce;
            job->iv_len_in_bytes = 12;
            job->u.GCM.aad = p.aad;
            job->u.GCM.aad_len_in_bytes = sizeof(p.aad);
            job->auth_tag_output = p.tag;
            job->auth_tag_output_len_in_bytes = kIcvLen;
            job->user_data = &p;
            job = IMB_SUBMIT_JOB(mgr);
            while (job != nullptr) {
              completed += job->status == IMB_STATUS_COMPLETED;
              job = IMB_GET_COMPLETED_JOB(mgr);
            }
          }
          IMB_JOB* job;
          while ((job = IMB_FLUSH_JOB(mgr)) != nullptr) completed += job->status == IMB_STATUS_COMPLETED;
        }
        const uint64_t t1 = __rdtsc();
        if (r > 0) samples.push_back(static_cast<double>(t1 - t0) / static_cast<double>(bursts * kBurst));
      }
      // The fastest repetition: a ceiling, and other processes on a shared machine only add time.
      std::sort(samples.begin(), samples.end());
      const double cpp = samples.front();
      std::printf(
          "{\"size\": %u, \"dir\": \"%s\", \"cipher_len\": %u, \"cycles_per_packet\": %.1f, \"mpps\": %.3f, "
          "\"tsc_hz\": %.0f, \"arch\": \"%s\", \"burst\": %d}\n",
          size, dir == IMB_DIR_ENCRYPT ? "encrypt" : "decrypt", len, cpp, tsc_hz / cpp / 1e6, tsc_hz, arch_name(arch),
          kBurst);
      std::fflush(stdout);
    }
  }
  free_mb_mgr(mgr);
  if (completed == 0) return 1;
  return 0;
}
