#include "esp/cryptodev_engine.hpp"

#include <immintrin.h>
#include <openssl/rand.h>
#include <rte_crypto.h>
#include <rte_cryptodev.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "esp/esp_sa.hpp"  // secure_zero

namespace dpvpn::dataplane {

// Process-wide state of one device, shared by every engine on it. Configured by the first engine;
// started while any engine exists (stopped with the last, so EAL can close it at exit). Sessions
// and the session pool outlive stops; the state itself lives for the process.
struct CryptodevDevice {
  std::string name;
  std::string driver;
  uint8_t dev_id = 0;
  uint16_t nb_qps = 0;
  rte_mempool* session_pool = nullptr;
  uint32_t session_pool_size = 0;
  std::vector<bool> qp_taken;
  uint32_t algorithms = 0;  // bit (1 << EspAlgorithm) when the device can run it
  uint32_t engines = 0;     // live engines; the last one to go stops the device
  bool started = false;
};

namespace {

// ---- What this engine keeps in an SA's EspKeyBlock ----------------------------------------
constexpr uint64_t kKeyMagic = 0x3176'6564'6f72'6370ull;  // "pcrodev1": prepared by a CryptodevEngine

struct CryptodevKeyBlock {
  uint64_t magic;               // kKeyMagic; anything else (zeroed, another engine's) -> kError
  void* session;                // the SA's cryptodev session, for `direction` only
  uint8_t dev_id;               // the device the session belongs to
  EspAlgorithm algorithm;
  CryptoDirection direction;    // outbound SA: kEncrypt; inbound SA: kDecrypt
  uint8_t aad_len;              // AEAD: 8, or 12 with ESN (fixed in the session); CBC: 0
  uint8_t salt[4];              // AEAD: nonce = salt || 8-byte explicit IV
  // CBC: AES-128 round keys of the per-SA random IV key; IV = AES-128(iv_key, 0^8 || seq),
  // the same construction as the intel-ipsec-mb engine (unique and unpredictable).
  alignas(16) uint8_t iv_round_keys[11 * 16];
};
static_assert(sizeof(CryptodevKeyBlock) <= EspKeyBlock::kBytes, "EspKeyBlock too small for cryptodev keys");
static_assert(alignof(CryptodevKeyBlock) <= alignof(EspKeyBlock));

const CryptodevKeyBlock* key_block(const EspKeyBlock* block) {
  return reinterpret_cast<const CryptodevKeyBlock*>(block->bytes);
}

// ---- The rte_crypto_op private area: IV first (the cryptodev IV offset), then AAD, digest --
struct OpPriv {
  alignas(16) uint8_t iv[16];   // CBC IV, or salt || explicit IV (12 bytes) for the AEADs
  alignas(16) uint8_t aad[16];  // 8 or 12 used; padded to 16 (some hardware reads 16)
  alignas(16) uint8_t digest[kEspIcvLen];  // encrypt: written by the device; decrypt: expected ICV
  CryptoOp* user;
};
// The private area starts right after the symmetric op; OpPriv starts at the next 16 bytes
// (ops are cache-line aligned in their mempool, checked in create()).
constexpr uint16_t kPrivStart = sizeof(rte_crypto_op) + sizeof(rte_crypto_sym_op);
constexpr uint16_t kIvOffset = (kPrivStart + 15) / 16 * 16;
constexpr uint16_t kPrivSize = kIvOffset - kPrivStart + sizeof(OpPriv);

OpPriv* priv_of(rte_crypto_op* op) { return rte_crypto_op_ctod_offset(op, OpPriv*, kIvOffset); }
rte_iova_t priv_iova(rte_crypto_op* op, size_t member_offset) {
  return rte_crypto_op_ctophys_offset(op, kIvOffset + member_offset);
}

// ---- Device sizing ----------------------------------------------------------------------
constexpr uint16_t kMaxQueuePairs = 8;
constexpr uint32_t kQpDescriptors = 1024;
constexpr uint32_t kSessionsPerDevice = 8191;   // one session per SA (each direction is an SA)
constexpr uint64_t kTimeoutMicros = 100'000;    // a slice not back after 100 ms: device stuck

std::mutex g_devices_mutex;
std::vector<std::unique_ptr<CryptodevDevice>>& devices() {
  static std::vector<std::unique_ptr<CryptodevDevice>> d;
  return d;
}

// ---- AES-128 for the CBC IV generator (AES-NI) -------------------------------------------
__attribute__((target("aes"))) __m128i expand_step(__m128i key, __m128i assist) {
  assist = _mm_shuffle_epi32(assist, 0xff);
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  return _mm_xor_si128(key, assist);
}

__attribute__((target("aes"))) void aes128_expand(const uint8_t key[16], uint8_t out[11 * 16]) {
  __m128i rk[11];
  rk[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
#define DPVPN_AES_STEP(i, rcon) rk[i] = expand_step(rk[i - 1], _mm_aeskeygenassist_si128(rk[i - 1], rcon))
  DPVPN_AES_STEP(1, 0x01);
  DPVPN_AES_STEP(2, 0x02);
  DPVPN_AES_STEP(3, 0x04);
  DPVPN_AES_STEP(4, 0x08);
  DPVPN_AES_STEP(5, 0x10);
  DPVPN_AES_STEP(6, 0x20);
  DPVPN_AES_STEP(7, 0x40);
  DPVPN_AES_STEP(8, 0x80);
  DPVPN_AES_STEP(9, 0x1b);
  DPVPN_AES_STEP(10, 0x36);
#undef DPVPN_AES_STEP
  for (int i = 0; i < 11; ++i) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * i), rk[i]);
  secure_zero(rk, sizeof(rk));
}

__attribute__((target("aes"))) void aes128_encrypt(const uint8_t* round_keys, const uint8_t in[16],
                                                   uint8_t out[16]) {
  const auto* rk = reinterpret_cast<const __m128i*>(round_keys);
  __m128i x = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in)), _mm_load_si128(rk));
  for (int r = 1; r < 10; ++r) x = _mm_aesenc_si128(x, _mm_load_si128(rk + r));
  x = _mm_aesenclast_si128(x, _mm_load_si128(rk + 10));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), x);
}

// FIPS-197 C.1, once per process: the IV generator must be AES, not merely "some bytes".
bool aes128_self_test() {
  static const uint8_t key[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                  0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
  static const uint8_t pt[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  static const uint8_t ct[16] = {0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
                                 0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a};
  alignas(16) uint8_t rk[11 * 16];
  uint8_t out[16];
  aes128_expand(key, rk);
  aes128_encrypt(rk, pt, out);
  return std::memcmp(out, ct, 16) == 0;
}

void put64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

uint16_t cipher_key_len(EspAlgorithm a) {
  return a == EspAlgorithm::kAesGcm128 || a == EspAlgorithm::kAesCbc128HmacSha256 ? 16 : 32;
}
uint32_t bit(EspAlgorithm a) { return 1u << static_cast<unsigned>(a); }

// ---- Capabilities -------------------------------------------------------------------------
bool aead_capable(uint8_t dev_id, rte_crypto_aead_algorithm algo, uint16_t key_len) {
  rte_cryptodev_sym_capability_idx idx{};
  idx.type = RTE_CRYPTO_SYM_XFORM_AEAD;
  idx.algo.aead = algo;
  const rte_cryptodev_symmetric_capability* cap = rte_cryptodev_sym_capability_get(dev_id, &idx);
  return cap != nullptr && rte_cryptodev_sym_capability_check_aead(cap, key_len, kEspIcvLen, 8, 12) == 0 &&
         rte_cryptodev_sym_capability_check_aead(cap, key_len, kEspIcvLen, 12, 12) == 0;
}

bool cbc_hmac_capable(uint8_t dev_id, uint64_t features, uint16_t key_len) {
  if ((features & RTE_CRYPTODEV_FF_SYM_OPERATION_CHAINING) == 0) return false;
  rte_cryptodev_sym_capability_idx idx{};
  idx.type = RTE_CRYPTO_SYM_XFORM_CIPHER;
  idx.algo.cipher = RTE_CRYPTO_CIPHER_AES_CBC;
  const rte_cryptodev_symmetric_capability* cipher = rte_cryptodev_sym_capability_get(dev_id, &idx);
  idx = {};
  idx.type = RTE_CRYPTO_SYM_XFORM_AUTH;
  idx.algo.auth = RTE_CRYPTO_AUTH_SHA256_HMAC;
  const rte_cryptodev_symmetric_capability* auth = rte_cryptodev_sym_capability_get(dev_id, &idx);
  return cipher != nullptr && auth != nullptr &&
         rte_cryptodev_sym_capability_check_cipher(cipher, key_len, 16) == 0 &&
         rte_cryptodev_sym_capability_check_auth(auth, 32, kEspIcvLen, 0) == 0;
}

uint32_t device_algorithms(uint8_t dev_id, uint64_t features) {
  uint32_t mask = 0;
  if (aead_capable(dev_id, RTE_CRYPTO_AEAD_AES_GCM, 16)) mask |= bit(EspAlgorithm::kAesGcm128);
  if (aead_capable(dev_id, RTE_CRYPTO_AEAD_AES_GCM, 32)) mask |= bit(EspAlgorithm::kAesGcm256);
  if (aead_capable(dev_id, RTE_CRYPTO_AEAD_CHACHA20_POLY1305, 32)) mask |= bit(EspAlgorithm::kChaCha20Poly1305);
  // CBC also needs AES-NI on this CPU for the IV generator.
  if (__builtin_cpu_supports("aes") && aes128_self_test()) {
    if (cbc_hmac_capable(dev_id, features, 16)) mask |= bit(EspAlgorithm::kAesCbc128HmacSha256);
    if (cbc_hmac_capable(dev_id, features, 32)) mask |= bit(EspAlgorithm::kAesCbc256HmacSha256);
  }
  return mask;
}

// ---- Finding and configuring the device (control path, under g_devices_mutex) --------------
bool looks_like_pci(const std::string& s) {
  // "0000:3d:01.0" or "3d:01.0"
  const size_t colon = s.find(':');
  const size_t dot = s.rfind('.');
  return colon != std::string::npos && dot != std::string::npos && dot > colon &&
         s.find_first_not_of("0123456789abcdefABCDEF:.") == std::string::npos;
}

Status find_device(const std::string& spec, uint8_t* dev_id) {
  const std::string name = spec.substr(0, spec.find(','));
  if (name.empty()) return {StatusCode::kInvalidArgument, "cryptodev: empty device name"};
  int id = rte_cryptodev_get_dev_id(name.c_str());
  if (id < 0) {
    // A PCI address (or any bus name): the cryptodev whose rte_device has that name.
    for (uint8_t d = 0; d < rte_cryptodev_count(); ++d) {
      rte_cryptodev_info info{};
      rte_cryptodev_info_get(d, &info);
      if (info.device != nullptr && name == rte_dev_name(info.device)) {
        id = d;
        break;
      }
    }
  }
  if (id < 0 && !looks_like_pci(name)) {
    // A vdev that EAL was not given: create it now (what rte_vdev_init does, through EAL's
    // generic probe, so that no bus driver library has to be linked).
    if (int rc = rte_dev_probe(spec.c_str()); rc != 0) {
      return {StatusCode::kNotFound, "cryptodev " + spec + ": cannot create the vdev: " + rte_strerror(-rc)};
    }
    id = rte_cryptodev_get_dev_id(name.c_str());
  }
  if (id < 0) {
    return {StatusCode::kNotFound, "cryptodev " + name + " not found" +
                                       (looks_like_pci(name) ? " (give the PCI device to EAL with -a)" : "")};
  }
  *dev_id = static_cast<uint8_t>(id);
  return Status::ok();
}

Status configure_device(uint8_t dev_id, CryptodevDevice** out) {
  for (auto& d : devices()) {
    if (d->dev_id == dev_id) {
      *out = d.get();
      return Status::ok();
    }
  }
  auto dev = std::make_unique<CryptodevDevice>();
  dev->dev_id = dev_id;
  dev->name = rte_cryptodev_name_get(dev_id);
  rte_cryptodev_info info{};
  rte_cryptodev_info_get(dev_id, &info);
  dev->driver = info.driver_name != nullptr ? info.driver_name : "?";
  const std::string what = "cryptodev " + dev->name + " (" + dev->driver + ")";
  if ((info.feature_flags & RTE_CRYPTODEV_FF_SYMMETRIC_CRYPTO) == 0) {
    return {StatusCode::kInvalidArgument, what + " has no symmetric crypto"};
  }
  if (info.max_nb_queue_pairs == 0) return {StatusCode::kInvalidArgument, what + " has no queue pairs"};
  dev->nb_qps = std::min<uint16_t>(kMaxQueuePairs, info.max_nb_queue_pairs);
  dev->qp_taken.assign(dev->nb_qps, false);
  dev->algorithms = device_algorithms(dev_id, info.feature_flags);
  if (dev->algorithms == 0) return {StatusCode::kInvalidArgument, what + " supports none of the ESP algorithms"};

  int socket = rte_cryptodev_socket_id(dev_id);
  if (socket < 0) socket = SOCKET_ID_ANY;
  const unsigned session_size = rte_cryptodev_sym_get_private_session_size(dev_id);
  const std::string pool_name = "dpvpn_cds" + std::to_string(dev_id);
  dev->session_pool = rte_mempool_lookup(pool_name.c_str());
  if (dev->session_pool == nullptr) {
    dev->session_pool = rte_cryptodev_sym_session_pool_create(pool_name.c_str(), kSessionsPerDevice, session_size,
                                                              0, 0, socket);
  }
  if (dev->session_pool == nullptr) {
    return {StatusCode::kResourceExhausted, what + ": session mempool: " + rte_strerror(rte_errno)};
  }
  dev->session_pool_size = kSessionsPerDevice;

  rte_cryptodev_config conf{};
  conf.socket_id = socket;
  conf.nb_queue_pairs = dev->nb_qps;
  conf.ff_disable = RTE_CRYPTODEV_FF_ASYMMETRIC_CRYPTO | RTE_CRYPTODEV_FF_SECURITY;
  if (int rc = rte_cryptodev_configure(dev_id, &conf); rc != 0) {
    return {StatusCode::kInternal, what + ": configure: " + rte_strerror(-rc)};
  }
  rte_cryptodev_qp_conf qp_conf{};
  qp_conf.nb_descriptors = kQpDescriptors;
  qp_conf.mp_session = dev->session_pool;
  for (uint16_t qp = 0; qp < dev->nb_qps; ++qp) {
    if (int rc = rte_cryptodev_queue_pair_setup(dev_id, qp, &qp_conf, socket); rc != 0) {
      return {StatusCode::kInternal, what + ": queue pair " + std::to_string(qp) + " setup: " + rte_strerror(-rc)};
    }
  }
  *out = dev.get();
  devices().push_back(std::move(dev));
  return Status::ok();
}

}  // namespace

// ---- Engine ---------------------------------------------------------------------------------

Status CryptodevEngine::create(const std::string& device_name, uint16_t queue_pair,
                               std::unique_ptr<CryptodevEngine>* out) {
  std::unique_ptr<CryptodevEngine> engine(new (std::nothrow) CryptodevEngine());
  if (!engine) return {StatusCode::kResourceExhausted, "cryptodev engine: out of memory"};
  {
    std::lock_guard<std::mutex> lock(g_devices_mutex);
    uint8_t dev_id = 0;
    if (Status s = find_device(device_name, &dev_id); !s) return s;
    CryptodevDevice* dev = nullptr;
    if (Status s = configure_device(dev_id, &dev); !s) return s;
    if (!dev->started) {
      if (int rc = rte_cryptodev_start(dev_id); rc != 0) {
        return {StatusCode::kInternal, "cryptodev " + dev->name + ": start: " + rte_strerror(-rc)};
      }
      dev->started = true;
    }
    if (queue_pair != kNoQueuePair) {
      if (queue_pair >= dev->nb_qps) {
        return {StatusCode::kResourceExhausted,
                "cryptodev " + dev->name + ": queue pair " + std::to_string(queue_pair) + " does not exist (" +
                    std::to_string(dev->nb_qps) + " configured: one per worker lcore)"};
      }
      if (dev->qp_taken[queue_pair]) {
        return {StatusCode::kAlreadyExists,
                "cryptodev " + dev->name + ": queue pair " + std::to_string(queue_pair) + " already has an engine"};
      }
      dev->qp_taken[queue_pair] = true;  // released by ~CryptodevEngine (qp_ set below)
    }
    engine->dev_ = dev;
    engine->dev_id_ = dev_id;
    engine->qp_ = queue_pair;
    ++dev->engines;
  }
  if (queue_pair == kNoQueuePair) {
    *out = std::move(engine);
    return Status::ok();
  }

  const int socket = rte_cryptodev_socket_id(engine->dev_id_);
  const std::string pool_name =
      "dpvpn_cop" + std::to_string(engine->dev_id_) + "_" + std::to_string(queue_pair);
  // Exactly the ops this engine takes once here and reuses every burst.
  engine->op_pool_ = rte_crypto_op_pool_create(pool_name.c_str(), RTE_CRYPTO_OP_TYPE_SYMMETRIC, kBatch, 0,
                                               kPrivSize, socket < 0 ? SOCKET_ID_ANY : socket);
  if (engine->op_pool_ == nullptr) {
    return {StatusCode::kResourceExhausted, "cryptodev " + engine->dev_->name + ": op mempool: " +
                                                rte_strerror(rte_errno)};
  }
  if (rte_crypto_op_bulk_alloc(engine->op_pool_, RTE_CRYPTO_OP_TYPE_SYMMETRIC, engine->cops_, kBatch) != kBatch) {
    return {StatusCode::kResourceExhausted, "cryptodev " + engine->dev_->name + ": cannot take the ops"};
  }
  for (rte_crypto_op* op : engine->cops_) {
    if (reinterpret_cast<uintptr_t>(priv_of(op)) % alignof(OpPriv) != 0) {
      return {StatusCode::kInternal, "cryptodev op private area misaligned"};
    }
    std::memset(priv_of(op), 0, sizeof(OpPriv));
  }
  engine->timeout_cycles_ = rte_get_tsc_hz() / 1'000'000 * kTimeoutMicros;
  *out = std::move(engine);
  return Status::ok();
}

CryptodevEngine::~CryptodevEngine() {
  if (op_pool_ != nullptr) {
    if (stale_ == 0) {
      for (rte_crypto_op*& op : cops_) {
        if (op != nullptr) rte_crypto_op_free(op);
        op = nullptr;
      }
      rte_mempool_free(op_pool_);
    }
    // else: the device still holds some ops; leave them (and their pool) rather than free
    // memory a device may write to.
  }
  if (dev_ != nullptr) {
    std::lock_guard<std::mutex> lock(g_devices_mutex);
    // A queue pair whose ops never came back stays taken: a new engine on it would dequeue them.
    if (qp_ != kNoQueuePair && stale_ == 0) dev_->qp_taken[qp_] = false;
    if (--dev_->engines == 0 && stale_ == 0) {
      rte_cryptodev_stop(dev_id_);
      dev_->started = false;
    }
  }
}

bool CryptodevEngine::supports(EspAlgorithm algorithm) const { return (dev_->algorithms & bit(algorithm)) != 0; }
uint8_t CryptodevEngine::device_id() const { return dev_id_; }
const std::string& CryptodevEngine::device_name() const { return dev_->name; }
std::string CryptodevEngine::driver_name() const { return dev_->driver; }
uint32_t CryptodevEngine::sessions_in_use() const { return rte_mempool_in_use_count(dev_->session_pool); }

Status CryptodevEngine::prepare_keys(const SaParams& params, EspKeyBlock* out) const {
  if (params.key.size() != expected_key_size(params.algorithm) ||
      params.auth_key.size() != expected_auth_key_size(params.algorithm)) {
    return {StatusCode::kInvalidArgument, "key/auth_key: wrong size for the algorithm"};
  }
  if (!supports(params.algorithm)) {
    return {StatusCode::kInvalidArgument, "cryptodev " + dev_->name + " (" + dev_->driver + ") does not support " +
                                              std::string(algorithm_name(params.algorithm)) +
                                              (is_cbc(params.algorithm) ? " (or the CPU has no AES-NI for CBC IVs)" : "")};
  }
  secure_zero(out, sizeof(*out));
  auto* k = new (out->bytes) CryptodevKeyBlock;
  const bool encrypt = params.direction == SaDirection::kOutbound;
  const uint16_t key_len = cipher_key_len(params.algorithm);
  k->dev_id = dev_id_;
  k->algorithm = params.algorithm;
  k->direction = encrypt ? CryptoDirection::kEncrypt : CryptoDirection::kDecrypt;

  rte_crypto_sym_xform first{};
  rte_crypto_sym_xform second{};
  if (!is_cbc(params.algorithm)) {
    std::memcpy(k->salt, params.key.data() + key_len, 4);
    k->aad_len = params.esn ? 12 : 8;
    first.type = RTE_CRYPTO_SYM_XFORM_AEAD;
    first.aead.op = encrypt ? RTE_CRYPTO_AEAD_OP_ENCRYPT : RTE_CRYPTO_AEAD_OP_DECRYPT;
    first.aead.algo = params.algorithm == EspAlgorithm::kChaCha20Poly1305 ? RTE_CRYPTO_AEAD_CHACHA20_POLY1305
                                                                          : RTE_CRYPTO_AEAD_AES_GCM;
    first.aead.key.data = params.key.data();
    first.aead.key.length = key_len;
    first.aead.iv.offset = kIvOffset;
    first.aead.iv.length = 12;
    first.aead.digest_length = kEspIcvLen;
    first.aead.aad_length = k->aad_len;
  } else {
    k->aad_len = 0;
    rte_crypto_sym_xform* cipher = encrypt ? &first : &second;
    rte_crypto_sym_xform* auth = encrypt ? &second : &first;
    // Outbound: encrypt, then HMAC over ESP header .. ciphertext (+ seq_hi with ESN).
    // Inbound: verify that HMAC first, then decrypt.
    first.next = &second;
    cipher->type = RTE_CRYPTO_SYM_XFORM_CIPHER;
    cipher->cipher.op = encrypt ? RTE_CRYPTO_CIPHER_OP_ENCRYPT : RTE_CRYPTO_CIPHER_OP_DECRYPT;
    cipher->cipher.algo = RTE_CRYPTO_CIPHER_AES_CBC;
    cipher->cipher.key.data = params.key.data();
    cipher->cipher.key.length = key_len;
    cipher->cipher.iv.offset = kIvOffset;
    cipher->cipher.iv.length = 16;
    auth->type = RTE_CRYPTO_SYM_XFORM_AUTH;
    auth->auth.op = encrypt ? RTE_CRYPTO_AUTH_OP_GENERATE : RTE_CRYPTO_AUTH_OP_VERIFY;
    auth->auth.algo = RTE_CRYPTO_AUTH_SHA256_HMAC;
    auth->auth.key.data = params.auth_key.data();
    auth->auth.key.length = static_cast<uint16_t>(params.auth_key.size());
    auth->auth.digest_length = kEspIcvLen;  // HMAC-SHA-256-128 (RFC 4868)
    if (encrypt) {
      alignas(16) uint8_t iv_key[16];
      if (RAND_bytes(iv_key, sizeof(iv_key)) != 1) {
        secure_zero(out, sizeof(*out));
        return {StatusCode::kInternal, "RAND_bytes failed making the CBC IV key"};
      }
      aes128_expand(iv_key, k->iv_round_keys);
      secure_zero(iv_key, sizeof(iv_key));
    }
  }
  k->session = rte_cryptodev_sym_session_create(dev_id_, &first, dev_->session_pool);
  if (k->session == nullptr) {
    const int err = rte_errno;
    secure_zero(out, sizeof(*out));
    if (err == ENOMEM) {
      return {StatusCode::kResourceExhausted, "cryptodev " + dev_->name + ": all " +
                                                  std::to_string(dev_->session_pool_size) + " sessions in use"};
    }
    return {StatusCode::kInternal, "cryptodev " + dev_->name + ": session for " +
                                       std::string(algorithm_name(params.algorithm)) + ": " + rte_strerror(err)};
  }
  k->magic = kKeyMagic;
  return Status::ok();
}

void CryptodevEngine::release_keys(EspKeyBlock* keys) const {
  auto* k = reinterpret_cast<CryptodevKeyBlock*>(keys->bytes);
  if (k->magic != kKeyMagic || k->session == nullptr) return;
  rte_cryptodev_sym_session_free(k->dev_id, k->session);  // the PMD wipes its key material
  k->session = nullptr;
  k->magic = 0;
}

// After a timeout: take back whatever the device returns now, without touching the CryptoOps of
// the burst that gave up on them. True when every op is home again.
bool CryptodevEngine::drain_stale() {
  while (stale_ > 0) {
    const uint16_t got = rte_cryptodev_dequeue_burst(dev_id_, qp_, done_, kBatch);
    if (got == 0) break;
    stale_ -= std::min<uint32_t>(stale_, got);
  }
  return stale_ == 0;
}

void CryptodevEngine::process_burst(CryptoOp* ops, uint32_t n) {
  for (uint32_t done = 0; done < n; done += kBatch) run_slice(ops + done, std::min(kBatch, n - done));
}

void CryptodevEngine::run_slice(CryptoOp* ops, uint32_t n) {
  if (qp_ == kNoQueuePair || (stale_ > 0 && !drain_stale())) {
    for (uint32_t i = 0; i < n; ++i) ops[i].status = CryptoStatus::kError;
    device_errors_ += n;
    return;
  }
  uint32_t nb = 0;
  for (uint32_t i = 0; i < n; ++i) {
    CryptoOp& op = ops[i];
    op.status = CryptoStatus::kError;  // until the device says otherwise
    const CryptodevKeyBlock* k = key_block(op.keys);
    const bool encrypt = op.direction == CryptoDirection::kEncrypt;
    const bool cbc = is_cbc(op.algorithm);
    if (k->magic != kKeyMagic || k->dev_id != dev_id_ || k->algorithm != op.algorithm ||
        k->direction != op.direction || op.mbuf == nullptr || (!cbc && op.aad_len != k->aad_len)) {
      ++device_errors_;
      continue;
    }
    // Regions as offsets from the packet's data start; they must lie inside the segment.
    uint8_t* base = rte_pktmbuf_mtod(op.mbuf, uint8_t*);
    const uint8_t* end = base + op.mbuf->data_len;
    const uint8_t* auth_end = cbc ? op.esp + op.auth_len : op.cipher;
    if (op.esp < base || op.cipher < op.esp || op.cipher + op.cipher_len > end || auth_end > end) {
      ++device_errors_;
      continue;
    }
    rte_crypto_op* c = cops_[nb++];
    c->status = RTE_CRYPTO_OP_STATUS_NOT_PROCESSED;
    c->sess_type = RTE_CRYPTO_OP_WITH_SESSION;
    rte_crypto_sym_op* sym = c->sym;
    sym->session = k->session;
    sym->m_src = op.mbuf;
    sym->m_dst = nullptr;
    OpPriv* priv = priv_of(c);
    priv->user = &op;
    if (!encrypt) std::memcpy(priv->digest, op.received_icv, kEspIcvLen);
    if (cbc) {
      if (encrypt) {
        // IV = AES-128(iv_key, 0^8 || seq): unique (seq never repeats) and unpredictable.
        alignas(16) uint8_t counter[16] = {};
        put64(counter + 8, op.seq);
        aes128_encrypt(k->iv_round_keys, counter, op.iv);
      }
      std::memcpy(priv->iv, op.iv, 16);
      sym->cipher.data.offset = static_cast<uint32_t>(op.cipher - base);
      sym->cipher.data.length = op.cipher_len;
      sym->auth.data.offset = static_cast<uint32_t>(op.esp - base);
      sym->auth.data.length = op.auth_len;  // with ESN: + the 4 seq_hi bytes where the ICV goes
      sym->auth.digest.data = priv->digest;
      sym->auth.digest.phys_addr = priv_iova(c, offsetof(OpPriv, digest));
    } else {
      if (encrypt) put64(op.iv, op.seq);  // RFC 4106 / 7634: the sequence number is a unique IV
      std::memcpy(priv->iv, k->salt, 4);
      std::memcpy(priv->iv + 4, op.iv, 8);
      std::memcpy(priv->aad, op.aad, sizeof(op.aad));
      sym->aead.data.offset = static_cast<uint32_t>(op.cipher - base);
      sym->aead.data.length = op.cipher_len;
      sym->aead.aad.data = priv->aad;
      sym->aead.aad.phys_addr = priv_iova(c, offsetof(OpPriv, aad));
      sym->aead.digest.data = priv->digest;
      sym->aead.digest.phys_addr = priv_iova(c, offsetof(OpPriv, digest));
    }
  }
  if (nb == 0) return;

  // Enqueue what fits, dequeue what is done, until everything is back or the device is stuck.
  uint32_t enqueued = 0, dequeued = 0;
  const uint64_t deadline = rte_get_tsc_cycles() + timeout_cycles_;
  while (dequeued < nb) {
    if (enqueued < nb) {
      enqueued += rte_cryptodev_enqueue_burst(dev_id_, qp_, cops_ + enqueued, static_cast<uint16_t>(nb - enqueued));
    }
    const uint16_t got = rte_cryptodev_dequeue_burst(dev_id_, qp_, done_, kBatch);
    for (uint16_t j = 0; j < got; ++j) {
      rte_crypto_op* c = done_[j];
      OpPriv* priv = priv_of(c);
      CryptoOp& op = *priv->user;
      switch (c->status) {
        case RTE_CRYPTO_OP_STATUS_SUCCESS:
          // Encrypt: the ICV lands on the packet now (with ESN it replaces the seq_hi bytes).
          if (op.direction == CryptoDirection::kEncrypt) std::memcpy(op.icv, priv->digest, kEspIcvLen);
          op.status = CryptoStatus::kOk;
          break;
        case RTE_CRYPTO_OP_STATUS_AUTH_FAILED:
          op.status = CryptoStatus::kAuthFailed;
          break;
        default:
          op.status = CryptoStatus::kError;
          ++device_errors_;
          break;
      }
    }
    dequeued += got;
    if (got == 0 && rte_get_tsc_cycles() > deadline) {
      // The ops still out stay kError; their rte_crypto_ops stay with the device until
      // drain_stale() sees them come back.
      stale_ = enqueued - dequeued;
      ++timeouts_;
      device_errors_ += nb - dequeued;
      break;
    }
  }
}

}  // namespace dpvpn::dataplane
