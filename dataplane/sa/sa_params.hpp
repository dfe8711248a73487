#pragma once
// SaParams: everything that defines one IPsec SA (RFC 4301/4303), as the config file's static SAs
// and (later) the gRPC SA push describe it. The one input of the SA-install API.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "net/ip_addr.hpp"

namespace dpvpn::dataplane {

enum class SaDirection : uint8_t { kInbound, kOutbound };

enum class EspAlgorithm : uint8_t {
  kAesGcm128,            // RFC 4106, 16-byte ICV; key = 16 bytes + 4-byte salt
  kAesGcm256,            // key = 32 bytes + 4-byte salt
  kAesCbc128HmacSha256,  // RFC 3602 + RFC 4868 (HMAC-SHA2-256-128); key 16, auth key 32
  kAesCbc256HmacSha256,  // key 32, auth key 32
  kChaCha20Poly1305,     // RFC 7634; key = 32 bytes + 4-byte salt
};

// Config / CLI spelling (strongSwan-like): aes128gcm, aes256gcm, aes128cbc-sha256,
// aes256cbc-sha256, chacha20poly1305.
std::string_view algorithm_name(EspAlgorithm alg);
bool parse_algorithm(std::string_view name, EspAlgorithm* out);
// Bytes of `key` (cipher key, plus salt for AEADs) and of `auth_key` (0 for AEADs).
size_t expected_key_size(EspAlgorithm alg);
size_t expected_auth_key_size(EspAlgorithm alg);
bool is_aead(EspAlgorithm alg);
// AES-CBC + HMAC (the non-AEAD algorithms); inline: the engines test it per packet.
inline bool is_cbc(EspAlgorithm alg) {
  return alg == EspAlgorithm::kAesCbc128HmacSha256 || alg == EspAlgorithm::kAesCbc256HmacSha256;
}

// An address range with optional protocol and port range (RFC 7296 traffic selector).
struct TrafficSelector {
  IpAddr start;            // inclusive
  IpAddr end;              // inclusive; same family as start
  uint8_t protocol = 0;    // 0 = any
  uint16_t port_lo = 0;
  uint16_t port_hi = 65535;
  static TrafficSelector prefix(const IpAddr& base, uint8_t prefix_len, uint8_t protocol = 0);
  bool contains(const IpAddr& addr, uint8_t proto, uint16_t port) const;
};

// 0 = no limit.
struct SaLifetime {
  uint64_t soft_bytes = 0, hard_bytes = 0;
  uint64_t soft_packets = 0, hard_packets = 0;
  uint64_t soft_seconds = 0, hard_seconds = 0;
};

struct SaParams {
  std::string name;  // operator's label; optional
  uint32_t spi = 0;
  SaDirection direction = SaDirection::kOutbound;
  EspAlgorithm algorithm = EspAlgorithm::kAesGcm128;
  std::vector<uint8_t> key;       // cipher key (+ salt for AEADs)
  std::vector<uint8_t> auth_key;  // HMAC key for CBC; empty for AEADs
  IpAddr local;                   // tunnel endpoint on this gateway (outer source when outbound)
  IpAddr remote;                  // peer gateway (outer destination when outbound)
  bool esn = false;               // 64-bit extended sequence numbers (RFC 4303 2.2.1)
  uint32_t replay_window = 1024;  // inbound only: 64..4096, a multiple of 64
  bool natt = false;              // UDP encapsulation (RFC 3948)
  uint16_t natt_local_port = 4500;
  uint16_t natt_remote_port = 4500;
  uint32_t tunnel_id = 0;
  std::vector<TrafficSelector> local_ts;   // inner addresses on our side
  std::vector<TrafficSelector> remote_ts;  // inner addresses on the peer's side
  SaLifetime lifetime;
};

}  // namespace dpvpn::dataplane
