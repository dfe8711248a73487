#pragma once
// CryptoEngine: the seam between ESP framing and the crypto implementation. ESP builds one
// CryptoOp per packet (pointers into the packet, lengths, AAD) and hands a whole burst to the
// engine; the engine en/decrypts in place, writes or verifies the ICV and sets each op's status.
// Engines: intel-ipsec-mb (ipsec_mb_engine.hpp) and DPDK cryptodev (cryptodev_engine.hpp); a test
// double can implement the same interface.
#include <cstddef>
#include <cstdint>

#include "sa/sa_params.hpp"
#include "util/status.hpp"

struct rte_mbuf;

namespace dpvpn::dataplane {

inline constexpr uint32_t kEspHeaderLen = 8;  // SPI + sequence number (low 32 bits)
inline constexpr uint32_t kEspIcvLen = 16;    // every supported algorithm has a 16-byte ICV
inline constexpr uint32_t kEspMaxIvLen = 16;  // CBC; AEADs carry 8

// One SA's prepared key material (expanded AES keys, GHASH tables, HMAC ipad/opad states, salt,
// the CBC IV key). The layout inside is the engine's business. Never logged; zeroed by the SA's
// destructor with a wipe the compiler cannot drop.
struct alignas(64) EspKeyBlock {
  static constexpr size_t kBytes = 1536;
  uint8_t bytes[kBytes];
};

enum class CryptoDirection : uint8_t { kEncrypt, kDecrypt };
enum class CryptoStatus : uint8_t { kOk, kAuthFailed, kError };

// One packet's crypto work. All pointers point into the packet except the op's own scratch.
struct CryptoOp {
  const EspKeyBlock* keys;
  // The packet (one segment) that esp/iv/cipher/icv point into. Engines that hand the packet to
  // a device (cryptodev) express those pointers as offsets from rte_pktmbuf_mtod(mbuf); the
  // intel-ipsec-mb engine ignores it.
  rte_mbuf* mbuf;
  EspAlgorithm algorithm;
  CryptoDirection direction;
  uint8_t aad_len;          // AEAD: 8 (SPI||seq) or 12 (SPI||seq_hi||seq_lo with ESN); else 0
  CryptoStatus status;      // set by the engine
  uint8_t* esp;             // the ESP header: CBC+HMAC authenticates from here
  uint8_t* iv;              // explicit IV in the packet; on encrypt the engine writes it from seq
  uint8_t* cipher;          // first byte to en/decrypt (in place)
  uint32_t cipher_len;
  uint32_t auth_len;        // CBC+HMAC: bytes from `esp` under the ICV (+4 seq_hi bytes with ESN)
  uint8_t* icv;             // encrypt: where the ICV is written; decrypt: unused
  uint64_t seq;             // full 64-bit sequence number (IV derivation on encrypt)
  uint8_t aad[12];
  uint8_t received_icv[kEspIcvLen];  // decrypt: the packet's ICV, compared in constant time
  // Engine scratch: never read by ESP.
  alignas(16) uint8_t nonce[16];
  alignas(16) uint8_t computed_icv[kEspIcvLen];
};

class CryptoEngine {
 public:
  virtual ~CryptoEngine() = default;

  // Control path: expands params.key / params.auth_key into *out (and any per-SA secret such as
  // the CBC IV key). The Status never contains key bytes. Safe to call from any thread.
  virtual Status prepare_keys(const SaParams& params, EspKeyBlock* out) const = 0;

  // Control path: releases what prepare_keys acquired outside the block (cryptodev sessions),
  // once no lcore can still be using the block. The block's bytes stay to be wiped by the owner.
  // Engines whose blocks are plain data need nothing (the default).
  virtual void release_keys(EspKeyBlock* keys) const { static_cast<void>(keys); }

  // Control path: the lines of the EspKeyBlock every packet of an SA with these params reads
  // (bit i: bytes 64i..64i+63), for the data path to prefetch with the SA. With many SAs each
  // line is a DRAM miss; a line missing from the mask costs a stall per packet, a line too many
  // only bandwidth. Default: the first four lines.
  virtual uint32_t hot_key_lines(const SaParams& params) const {
    static_cast<void>(params);
    return 0xfu;
  }

  // Data path: runs n ops (any n), sets every op's status. No allocation, locks or syscalls.
  // Call only from the lcore that owns this engine object.
  virtual void process_burst(CryptoOp* ops, uint32_t n) = 0;
};

}  // namespace dpvpn::dataplane
