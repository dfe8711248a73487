#include "esp/ipsec_mb_engine.hpp"

#include <emmintrin.h>
#include <intel-ipsec-mb.h>
#include <openssl/rand.h>
#include <x86intrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "esp/esp_sa.hpp"  // secure_zero

namespace dpvpn::dataplane {

namespace {

// What this engine keeps in an SA's EspKeyBlock.
struct MbCbcKeys {
  alignas(16) uint8_t enc[16 * 15];
  alignas(16) uint8_t dec[16 * 15];
  alignas(16) uint8_t ipad[32];  // SHA-256 state after (auth key ^ 0x36..)
  alignas(16) uint8_t opad[32];  // SHA-256 state after (auth key ^ 0x5c..)
  // AES-128 key for the IV generator: IV = AES(iv_key, seq), unpredictable without the key.
  alignas(16) uint8_t iv_key_enc[16 * 15];
};

struct MbKeys {
  union {
    gcm_key_data gcm;
    MbCbcKeys cbc;
    alignas(16) uint8_t chacha[32];
  };
  uint8_t salt[4];
  uint8_t cipher_key_len;  // 16 or 32
};
static_assert(sizeof(MbKeys) <= EspKeyBlock::kBytes, "EspKeyBlock too small for intel-ipsec-mb keys");
static_assert(alignof(MbKeys) <= alignof(EspKeyBlock));

// Bit mask of the 64-byte lines bytes [offset, offset + len) of the key block fall in.
constexpr uint32_t lines_of(size_t offset, size_t len) {
  uint32_t mask = 0;
  for (size_t line = offset / 64; line * 64 < offset + len; ++line) mask |= 1u << line;
  return mask;
}
static_assert(sizeof(MbKeys) <= 32 * 64, "hot_key_lines' mask has 32 bits");

const MbKeys* mb_keys(const EspKeyBlock* block) { return reinterpret_cast<const MbKeys*>(block->bytes); }

void put64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

// Constant-time: the time taken must not tell how many ICV bytes matched.
bool icv_equal(const uint8_t* a, const uint8_t* b) {
  static_assert(kEspIcvLen == 16);
  uint64_t x[2], y[2];
  std::memcpy(x, a, 16);
  std::memcpy(y, b, 16);
  return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;  // no early exit
}

constexpr uint8_t kZeroBlock[16] = {};

void complete(IMB_JOB* job) {
  auto* op = static_cast<CryptoOp*>(job->user_data);
  if (job->status != IMB_STATUS_COMPLETED) {
    op->status = CryptoStatus::kError;
    return;
  }
  if (op->direction == CryptoDirection::kEncrypt) {
    std::memcpy(op->icv, op->computed_icv, kEspIcvLen);
    op->status = CryptoStatus::kOk;
  } else {
    op->status = icv_equal(op->computed_icv, op->received_icv) ? CryptoStatus::kOk
                                                                : CryptoStatus::kAuthFailed;
  }
}

// One CBC+HMAC or ChaCha20-Poly1305 op through the JOB API of `mgr`: queued, and whatever completes
// meanwhile finished (complete()).
void submit_job(IMB_MGR* mgr, CryptoOp& op) {
  const MbKeys* k = mb_keys(op.keys);
  const bool encrypt = op.direction == CryptoDirection::kEncrypt;
  const bool cbc = is_cbc(op.algorithm);
  // CBC IVs were made by make_cbc_ivs. RFC 4106 / 7634: the sequence number is a unique IV per key.
  if (encrypt && !cbc) put64(op.iv, op.seq);

  IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
  job->user_data = &op;
  job->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
  job->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
  job->key_len_in_bytes = k->cipher_key_len;
  job->dst = op.cipher;
  job->auth_tag_output = op.computed_icv;
  job->auth_tag_output_len_in_bytes = kEspIcvLen;
  job->msg_len_to_cipher_in_bytes = op.cipher_len;
  if (cbc) {
    job->cipher_mode = IMB_CIPHER_CBC;
    job->hash_alg = IMB_AUTH_HMAC_SHA_256;
    job->enc_keys = k->cbc.enc;
    job->dec_keys = k->cbc.dec;
    job->iv = op.iv;
    job->iv_len_in_bytes = 16;
    job->src = op.esp;
    job->cipher_start_src_offset_in_bytes = static_cast<uint64_t>(op.cipher - op.esp);
    job->hash_start_src_offset_in_bytes = 0;
    job->msg_len_to_hash_in_bytes = op.auth_len;
    job->u.HMAC._hashed_auth_key_xor_ipad = k->cbc.ipad;
    job->u.HMAC._hashed_auth_key_xor_opad = k->cbc.opad;
  } else {
    std::memcpy(op.nonce, k->salt, 4);
    std::memcpy(op.nonce + 4, op.iv, 8);
    job->iv = op.nonce;
    job->iv_len_in_bytes = 12;
    job->src = op.cipher;
    job->cipher_start_src_offset_in_bytes = 0;
    job->hash_start_src_offset_in_bytes = 0;
    job->msg_len_to_hash_in_bytes = op.cipher_len;
    job->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;  // the only AEAD here: GCM takes the direct API
    job->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
    job->enc_keys = k->chacha;
    job->dec_keys = k->chacha;
    job->u.CHACHA20_POLY1305.aad = op.aad;
    job->u.CHACHA20_POLY1305.aad_len_in_bytes = op.aad_len;
  }
  // Jobs come back in submission order, possibly before the burst is fully submitted.
  job = IMB_SUBMIT_JOB_NOCHECK(mgr);  // every field is set above; DPDK's aesni_mb PMD does the same
  while (job != nullptr) {
    complete(job);
    job = IMB_GET_COMPLETED_JOB(mgr);
  }
}

void flush(IMB_MGR* mgr) {
  IMB_JOB* job;
  while ((job = IMB_FLUSH_JOB(mgr)) != nullptr) complete(job);
}

}  // namespace

Status IpsecMbEngine::create(std::unique_ptr<IpsecMbEngine>* out) {
  std::unique_ptr<IpsecMbEngine> engine(new (std::nothrow) IpsecMbEngine());
  if (!engine) return {StatusCode::kResourceExhausted, "intel-ipsec-mb: out of memory"};
  engine->mgr_ = alloc_mb_mgr(0);
  if (engine->mgr_ == nullptr) return {StatusCode::kResourceExhausted, "intel-ipsec-mb: alloc_mb_mgr failed"};
  IMB_ARCH arch = IMB_ARCH_NONE;
  init_mb_mgr_auto(engine->mgr_, &arch);
  if (arch == IMB_ARCH_NONE || arch == IMB_ARCH_NOAESNI) {
    // The no-AESNI path is far too slow for a gateway; refuse rather than silently crawl.
    return {StatusCode::kInternal, "intel-ipsec-mb: no AES-NI code path on this CPU"};
  }
  if (imb_get_errno(engine->mgr_) != 0) {
    return {StatusCode::kInternal, std::string("intel-ipsec-mb: init failed: ") +
                                       imb_get_strerror(imb_get_errno(engine->mgr_))};
  }
  engine->arch_ = arch;
  if (arch != IMB_ARCH_SSE && (engine->mgr_->features & IMB_FEATURE_SHANI) != 0) {
    engine->sha_ni_mgr_ = alloc_mb_mgr(0);
    if (engine->sha_ni_mgr_ == nullptr) return {StatusCode::kResourceExhausted, "intel-ipsec-mb: alloc_mb_mgr failed"};
    init_mb_mgr_sse(engine->sha_ni_mgr_);
    if (imb_get_errno(engine->sha_ni_mgr_) != 0) {
      return {StatusCode::kInternal, std::string("intel-ipsec-mb: SSE manager init failed: ") +
                                         imb_get_strerror(imb_get_errno(engine->sha_ni_mgr_))};
    }
    static const std::array<uint32_t, 2> below = engine->measure_cbc_split();
    engine->set_cbc_sha_ni_below(below[0], below[1]);
    if (below[0] == 0 && below[1] == 0) {  // SHA-NI is never faster here: no second manager
      free_mb_mgr(engine->sha_ni_mgr_);
      engine->sha_ni_mgr_ = nullptr;
    }
  }
  *out = std::move(engine);
  return Status::ok();
}

IpsecMbEngine::~IpsecMbEngine() {
  if (mgr_ != nullptr) free_mb_mgr(mgr_);
  if (sha_ni_mgr_ != nullptr) free_mb_mgr(sha_ni_mgr_);
}

void IpsecMbEngine::set_cbc_sha_ni_below(uint32_t encrypt_below, uint32_t decrypt_below) {
  if (sha_ni_mgr_ == nullptr) return;  // nothing to send them to
  cbc_sha_ni_below_[0] = encrypt_below;
  cbc_sha_ni_below_[1] = decrypt_below;
}

namespace {

// TSC cycles of one burst of 32 CBC ops of `cipher_len` bytes on `mgr`, queued and flushed.
uint64_t cbc_burst_cycles(IMB_MGR* mgr, const EspKeyBlock& keys, CryptoDirection direction, uint32_t cipher_len,
                          uint8_t* buffers, uint32_t stride) {
  constexpr uint32_t kOps = 32;
  CryptoOp ops[kOps];
  for (uint32_t i = 0; i < kOps; ++i) {
    CryptoOp& op = ops[i];
    op = CryptoOp{};
    op.keys = &keys;
    op.algorithm = EspAlgorithm::kAesCbc128HmacSha256;
    op.direction = direction;
    op.esp = buffers + size_t{i} * stride;
    op.iv = op.esp + kEspHeaderLen;
    op.cipher = op.iv + 16;
    op.cipher_len = cipher_len;
    op.auth_len = kEspHeaderLen + 16 + cipher_len;
    op.icv = op.cipher + cipher_len;
    op.seq = i + 1;
  }
  const uint64_t t0 = __rdtsc();
  for (CryptoOp& op : ops) submit_job(mgr, op);
  flush(mgr);
  return __rdtsc() - t0;
}

}  // namespace

// Each manager's cost at a short and a long packet (64- and 1420-byte inner packets: cipher lengths
// 80 and 1424), per direction; each cost is close to a line in the length, and the SHA-NI manager
// takes the lengths below where the lines cross. Measured on this machine because the answer is the
// CPU's: on AMD Zen 4 (AVX-512 on 256-bit units) SHA-NI wins up to 550-780 bytes; with full-width
// AVX-512 vectors it may never. Timed with AES-128; the split serves AES-256 too.
std::array<uint32_t, 2> IpsecMbEngine::measure_cbc_split() const {
  constexpr uint32_t kShort = 80, kLong = 1424, kStride = 1536;
  SaParams params;
  params.algorithm = EspAlgorithm::kAesCbc128HmacSha256;
  params.direction = SaDirection::kOutbound;
  params.key.assign(expected_key_size(params.algorithm), 0x11);
  params.auth_key.assign(expected_auth_key_size(params.algorithm), 0x22);
  auto keys = std::make_unique<EspKeyBlock>();
  if (!prepare_keys(params, keys.get()).is_ok()) return {0, 0};
  std::vector<uint8_t> buffers(size_t{32} * kStride, 0x5a);
  std::array<uint32_t, 2> below{};
  for (const CryptoDirection d : {CryptoDirection::kEncrypt, CryptoDirection::kDecrypt}) {
    // The best of many bursts (what the code costs, not what the machine's other load adds), the four
    // cases taking turns so that a busy moment does not favour one of them.
    IMB_MGR* const mgrs[2] = {sha_ni_mgr_, mgr_};
    constexpr uint32_t kLens[2] = {kShort, kLong};
    uint64_t best[2][2] = {{UINT64_MAX, UINT64_MAX}, {UINT64_MAX, UINT64_MAX}};  // [manager][length]
    for (uint32_t rep = 0; rep < 16; ++rep) {
      for (int m = 0; m < 2; ++m) {
        for (int l = 0; l < 2; ++l) {
          best[m][l] = std::min(best[m][l], cbc_burst_cycles(mgrs[m], *keys, d, kLens[l], buffers.data(), kStride));
        }
      }
    }
    const auto ni_short = static_cast<double>(best[0][0]), ni_long = static_cast<double>(best[0][1]);
    const auto main_short = static_cast<double>(best[1][0]), main_long = static_cast<double>(best[1][1]);
    uint32_t& limit = below[index(d)];
    if (ni_short >= main_short) {
      limit = 0;
    } else if (ni_long <= main_long) {
      limit = UINT32_MAX;
    } else {  // the lines cross between the two lengths
      const double ni_slope = (ni_long - ni_short) / (kLong - kShort);
      const double main_slope = (main_long - main_short) / (kLong - kShort);
      limit = static_cast<uint32_t>(kShort + (main_short - ni_short) / (ni_slope - main_slope));
    }
  }
  secure_zero(keys.get(), sizeof(EspKeyBlock));
  return below;
}

std::string_view IpsecMbEngine::arch_name() const {
  switch (arch_) {
    case IMB_ARCH_SSE: return "sse";
    case IMB_ARCH_AVX: return "avx";
    case IMB_ARCH_AVX2: return "avx2";
    case IMB_ARCH_AVX512: return "avx512";
    default: return "none";
  }
}

std::string IpsecMbEngine::code_paths() const {
  std::string s(arch_name());
  if (has_sha_ni_manager()) {
    s += "; CBC+HMAC-SHA-256 below " + std::to_string(cbc_sha_ni_below(CryptoDirection::kEncrypt)) + "/" +
         std::to_string(cbc_sha_ni_below(CryptoDirection::kDecrypt)) + " bytes (encrypt/decrypt) on SSE with SHA-NI";
  }
  return s;
}

Status IpsecMbEngine::prepare_keys(const SaParams& params, EspKeyBlock* out) const {
  if (params.key.size() != expected_key_size(params.algorithm) ||
      params.auth_key.size() != expected_auth_key_size(params.algorithm)) {
    return {StatusCode::kInvalidArgument, "key/auth_key: wrong size for the algorithm"};
  }
  static_assert(sizeof(MbKeys) <= sizeof(out->bytes));
  secure_zero(out, sizeof(*out));
  auto* k = new (out->bytes) MbKeys;
  const uint8_t* key = params.key.data();
  switch (params.algorithm) {
    case EspAlgorithm::kAesGcm128:
      IMB_AES128_GCM_PRE(mgr_, key, &k->gcm);
      std::memcpy(k->salt, key + 16, 4);
      k->cipher_key_len = 16;
      break;
    case EspAlgorithm::kAesGcm256:
      IMB_AES256_GCM_PRE(mgr_, key, &k->gcm);
      std::memcpy(k->salt, key + 32, 4);
      k->cipher_key_len = 32;
      break;
    case EspAlgorithm::kChaCha20Poly1305:
      std::memcpy(k->chacha, key, 32);
      std::memcpy(k->salt, key + 32, 4);
      k->cipher_key_len = 32;
      break;
    case EspAlgorithm::kAesCbc128HmacSha256:
    case EspAlgorithm::kAesCbc256HmacSha256: {
      if (params.algorithm == EspAlgorithm::kAesCbc128HmacSha256) {
        IMB_AES_KEYEXP_128(mgr_, key, k->cbc.enc, k->cbc.dec);
        k->cipher_key_len = 16;
      } else {
        IMB_AES_KEYEXP_256(mgr_, key, k->cbc.enc, k->cbc.dec);
        k->cipher_key_len = 32;
      }
      // HMAC (RFC 2104) with a 32-byte key: the key fits one 64-byte block, zero-padded.
      alignas(16) uint8_t block[64];
      for (int pad = 0; pad < 2; ++pad) {
        const uint8_t x = pad == 0 ? 0x36 : 0x5c;
        std::memset(block, x, sizeof(block));
        for (size_t i = 0; i < params.auth_key.size(); ++i) block[i] ^= params.auth_key[i];
        IMB_SHA256_ONE_BLOCK(mgr_, block, pad == 0 ? k->cbc.ipad : k->cbc.opad);
      }
      secure_zero(block, sizeof(block));
      alignas(16) uint8_t iv_key[16];
      alignas(16) uint8_t unused_dec[16 * 15];
      if (RAND_bytes(iv_key, sizeof(iv_key)) != 1) {
        return {StatusCode::kInternal, "RAND_bytes failed making the CBC IV key"};
      }
      IMB_AES_KEYEXP_128(mgr_, iv_key, k->cbc.iv_key_enc, unused_dec);
      secure_zero(iv_key, sizeof(iv_key));
      secure_zero(unused_dec, sizeof(unused_dec));
      break;
    }
  }
  return Status::ok();
}

uint32_t IpsecMbEngine::hot_key_lines(const SaParams& params) const {
  const bool aes256 = params.algorithm == EspAlgorithm::kAesGcm256 ||
                      params.algorithm == EspAlgorithm::kAesCbc256HmacSha256;
  const size_t round_keys = 16 * (aes256 ? 15 : 11);
  const uint32_t salt = lines_of(offsetof(MbKeys, salt), sizeof(MbKeys::salt));
  switch (params.algorithm) {
    case EspAlgorithm::kAesGcm128:
    case EspAlgorithm::kAesGcm256: {
      // GHASH reads HashKey^8..HashKey^1 for a short packet (more powers only for long ones, whose
      // cipher time hides the miss). Where they are depends on the code path (intel-ipsec-mb's
      // gcm_keys_*.asm): after the round keys (SSE/AVX/AVX2/AVX512), or at the end of the 48-power
      // table (VAES AVX512).
      const auto* mgr = static_cast<const IMB_MGR*>(mgr_);
      const bool vaes = arch_ == IMB_ARCH_AVX512 && (mgr->features & IMB_FEATURE_VAES) != 0 &&
                        (mgr->features & IMB_FEATURE_VPCLMULQDQ) != 0;
      const size_t hkeys = offsetof(gcm_key_data, ghash_keys);
      const size_t powers = 16 * 8;
      const uint32_t ghash = vaes ? lines_of(hkeys + sizeof(gcm_key_data::ghash_keys.vaes_avx512) - powers, powers)
                                  : lines_of(hkeys, 2 * powers);  // SSE/AVX: also the Karatsuba halves
      return lines_of(offsetof(gcm_key_data, expanded_keys), round_keys) | ghash | salt;
    }
    case EspAlgorithm::kChaCha20Poly1305: return lines_of(offsetof(MbKeys, chacha), 32) | salt;
    case EspAlgorithm::kAesCbc128HmacSha256:
    case EspAlgorithm::kAesCbc256HmacSha256: {
      const uint32_t hmac = lines_of(offsetof(MbCbcKeys, ipad), 64);
      if (params.direction == SaDirection::kInbound) return lines_of(offsetof(MbCbcKeys, dec), round_keys) | hmac;
      return lines_of(offsetof(MbCbcKeys, enc), round_keys) | lines_of(offsetof(MbCbcKeys, iv_key_enc), 16 * 11) | hmac;
    }
  }
  return 0xfu;
}

// CBC IV = AES-128(iv_key, 0^64 || seq): unique (seq never repeats) and unpredictable without the
// key. A run of consecutive ops of one SA gets its IVs from one ECB pass over their counter blocks
// (~6 cycles an IV for 32, against ~39 for one AES call each: measured with intel-ipsec-mb 1.3,
// AVX-512); short runs (SAs interleaved) take one call each, as the ECB job's fixed cost is ~100.
void IpsecMbEngine::make_cbc_ivs(CryptoOp* ops, uint32_t n) {
  static constexpr uint32_t kMinEcbRun = 4, kMaxRun = 64;
  alignas(16) uint8_t blocks[kMaxRun][16];
  const auto cbc_encrypt = [](const CryptoOp& op) {
    return op.direction == CryptoDirection::kEncrypt && is_cbc(op.algorithm);
  };
  for (uint32_t i = 0; i < n;) {
    if (!cbc_encrypt(ops[i])) {
      ++i;
      continue;
    }
    uint32_t end = i + 1;
    while (end < n && end - i < kMaxRun && cbc_encrypt(ops[end]) && ops[end].keys == ops[i].keys) ++end;
    const uint32_t run = end - i;
    const uint8_t* iv_key = mb_keys(ops[i].keys)->cbc.iv_key_enc;
    const auto counter_blocks = [&] {  // 0^64 || seq, one per op
      for (uint32_t j = 0; j < run; ++j) {
        std::memset(blocks[j], 0, 8);
        put64(blocks[j] + 8, ops[i + j].seq);
      }
    };
    counter_blocks();
    bool done = false;
    if (run >= kMinEcbRun) {
      IMB_JOB* job = IMB_GET_NEXT_JOB(mgr_);
      job->cipher_mode = IMB_CIPHER_ECB;
      job->hash_alg = IMB_AUTH_NULL;
      job->chain_order = IMB_ORDER_CIPHER_HASH;
      job->cipher_direction = IMB_DIR_ENCRYPT;
      job->key_len_in_bytes = 16;
      job->enc_keys = iv_key;
      job->dec_keys = iv_key;  // unused by ECB encrypt
      job->src = blocks[0];
      job->dst = blocks[0];
      job->cipher_start_src_offset_in_bytes = 0;
      job->msg_len_to_cipher_in_bytes = 16ull * run;
      job->iv = nullptr;
      job->iv_len_in_bytes = 0;
      job->user_data = nullptr;
      // Nothing else is queued (the previous burst ended with a flush): the job that returns is this one.
      job = IMB_SUBMIT_JOB_NOCHECK(mgr_);
      if (job == nullptr) job = IMB_FLUSH_JOB(mgr_);
      done = job != nullptr && job->status == IMB_STATUS_COMPLETED;
      if (done) {
        for (uint32_t j = 0; j < run; ++j) std::memcpy(ops[i + j].iv, blocks[j], 16);
      } else {  // cannot happen with valid arguments; the block-by-block path below is the fallback
        counter_blocks();
      }
    }
    if (!done) {
      for (uint32_t j = 0; j < run; ++j) {
        IMB_AES128_CFB_ONE(mgr_, ops[i + j].iv, kZeroBlock, blocks[j], iv_key, 16);
      }
    }
    i = end;
  }
}

namespace {

// Asks for the lines of an op's payload that ESP has not touched: its first and last lines hold the
// headers and trailer just written; the middle of a large packet is in L3 or DRAM (where a NIC's DMA
// or the feed left it), and GCM, one packet at a time, would wait at the start of each packet until
// the hardware prefetcher caught up. Encrypt only. Outbound 1420 B (bench/ab.py, interleaved pairs):
// with the machine's memory contended, 9 of 10 pairs faster, median +34 %; quiet, level (6 pairs,
// median 1.01); 64 B pays ~7 instructions. Decrypt measured -2.5 % (2 of 10 faster): there the feed's
// CPU has just written those lines.
inline void prefetch_payload_middle(const CryptoOp& op) {
  if (op.cipher_len <= 128) return;  // no line in the middle
  const auto first = (reinterpret_cast<uintptr_t>(op.cipher) | 63u) + 1u;
  const auto end = reinterpret_cast<uintptr_t>(op.cipher) + op.cipher_len - 64u;
  for (uintptr_t line = first; line < end; line += 64) _mm_prefetch(reinterpret_cast<const char*>(line), _MM_HINT_T0);
}

}  // namespace

void IpsecMbEngine::process_burst(CryptoOp* ops, uint32_t n) {
  bool sha_ni_used = false;
  bool cbc_ivs_made = false;  // at the first CBC encrypt, for it and every later one (GCM bursts skip the pass)
  if (n != 0 && ops[0].direction == CryptoDirection::kEncrypt) prefetch_payload_middle(ops[0]);
  for (uint32_t i = 0; i < n; ++i) {
    CryptoOp& op = ops[i];
    const MbKeys* k = mb_keys(op.keys);
    const bool encrypt = op.direction == CryptoDirection::kEncrypt;
    if (op.algorithm == EspAlgorithm::kAesGcm128 || op.algorithm == EspAlgorithm::kAesGcm256) {
      // The next packet's payload arrives while this one is encrypted.
      if (encrypt && i + 1 < n) prefetch_payload_middle(ops[i + 1]);
      // AES-GCM through the direct API: ipsec-mb runs GCM one packet at a time anyway (no
      // multi-buffer lanes), so the job manager only adds its queueing. In place; on encrypt the
      // tag goes straight to the packet.
      gcm_context_data ctx;
      alignas(16) uint8_t nonce[16];
      uint64_t iv_be;
      if (encrypt) {
        iv_be = __builtin_bswap64(op.seq);  // RFC 4106: the sequence number is a unique IV per key
        std::memcpy(op.iv, &iv_be, 8);      // one store, and the nonce below from the register
      } else {
        std::memcpy(&iv_be, op.iv, 8);
      }
      // salt || IV as one 16-byte store: ipsec-mb reads the nonce as 8 + 4 bytes, and a load that
      // spans two separate stores cannot be forwarded from them (a stall per packet).
      uint32_t salt;
      std::memcpy(&salt, k->salt, 4);
      _mm_store_si128(reinterpret_cast<__m128i*>(nonce),
                      _mm_set_epi64x(static_cast<long long>(iv_be >> 32),
                                     static_cast<long long>(uint64_t{salt} | (iv_be << 32))));
      const bool g128 = op.algorithm == EspAlgorithm::kAesGcm128;
      if (encrypt) {
        if (g128) {
          IMB_AES128_GCM_ENC(mgr_, &k->gcm, &ctx, op.cipher, op.cipher, op.cipher_len, nonce, op.aad, op.aad_len,
                             op.icv, kEspIcvLen);
        } else {
          IMB_AES256_GCM_ENC(mgr_, &k->gcm, &ctx, op.cipher, op.cipher, op.cipher_len, nonce, op.aad, op.aad_len,
                             op.icv, kEspIcvLen);
        }
        op.status = CryptoStatus::kOk;
      } else {
        if (g128) {
          IMB_AES128_GCM_DEC(mgr_, &k->gcm, &ctx, op.cipher, op.cipher, op.cipher_len, nonce, op.aad, op.aad_len,
                             op.computed_icv, kEspIcvLen);
        } else {
          IMB_AES256_GCM_DEC(mgr_, &k->gcm, &ctx, op.cipher, op.cipher, op.cipher_len, nonce, op.aad, op.aad_len,
                             op.computed_icv, kEspIcvLen);
        }
        op.status = icv_equal(op.computed_icv, op.received_icv) ? CryptoStatus::kOk : CryptoStatus::kAuthFailed;
      }
      continue;
    }
    const bool cbc = is_cbc(op.algorithm);  // else ChaCha20-Poly1305
    if (!cbc_ivs_made && encrypt && cbc) {
      make_cbc_ivs(ops + i, n - i);
      cbc_ivs_made = true;
    }
    IMB_MGR* mgr = mgr_;
    if (cbc && op.cipher_len < cbc_sha_ni_below_[index(op.direction)]) {
      mgr = sha_ni_mgr_;
      sha_ni_used = true;
    }
    submit_job(mgr, op);
  }
  flush(mgr_);
  if (sha_ni_used) flush(sha_ni_mgr_);
}

}  // namespace dpvpn::dataplane
