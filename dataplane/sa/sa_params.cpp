#include "sa/sa_params.hpp"

#include <array>

namespace dpvpn::dataplane {

namespace {
struct AlgorithmInfo {
  EspAlgorithm alg;
  std::string_view name;
  size_t key_size;
  size_t auth_key_size;
};
constexpr std::array<AlgorithmInfo, 5> kAlgorithms = {{
    {EspAlgorithm::kAesGcm128, "aes128gcm", 16 + 4, 0},
    {EspAlgorithm::kAesGcm256, "aes256gcm", 32 + 4, 0},
    {EspAlgorithm::kAesCbc128HmacSha256, "aes128cbc-sha256", 16, 32},
    {EspAlgorithm::kAesCbc256HmacSha256, "aes256cbc-sha256", 32, 32},
    {EspAlgorithm::kChaCha20Poly1305, "chacha20poly1305", 32 + 4, 0},
}};

const AlgorithmInfo& info(EspAlgorithm alg) {
  for (const AlgorithmInfo& i : kAlgorithms) {
    if (i.alg == alg) return i;
  }
  return kAlgorithms[0];
}

// Compares 16-byte addresses as big-endian numbers.
int compare(const IpAddr& a, const IpAddr& b) {
  for (size_t i = 0; i < a.bytes.size(); ++i) {
    if (a.bytes[i] != b.bytes[i]) return a.bytes[i] < b.bytes[i] ? -1 : 1;
  }
  return 0;
}
}  // namespace

std::string_view algorithm_name(EspAlgorithm alg) { return info(alg).name; }

bool parse_algorithm(std::string_view name, EspAlgorithm* out) {
  for (const AlgorithmInfo& i : kAlgorithms) {
    if (i.name == name) {
      *out = i.alg;
      return true;
    }
  }
  return false;
}

size_t expected_key_size(EspAlgorithm alg) { return info(alg).key_size; }
size_t expected_auth_key_size(EspAlgorithm alg) { return info(alg).auth_key_size; }
bool is_aead(EspAlgorithm alg) { return info(alg).auth_key_size == 0; }

TrafficSelector TrafficSelector::prefix(const IpAddr& base, uint8_t prefix_len, uint8_t protocol) {
  TrafficSelector ts;
  const unsigned first_bit = (base.is_v4() ? 96u : 0u) + prefix_len;
  ts.start = base;
  ts.end = base;
  for (unsigned bit = first_bit; bit < 128; ++bit) {
    const uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
    ts.start.bytes[bit / 8] &= static_cast<uint8_t>(~mask);
    ts.end.bytes[bit / 8] |= mask;
  }
  ts.protocol = protocol;
  return ts;
}

bool TrafficSelector::contains(const IpAddr& addr, uint8_t proto, uint16_t port) const {
  if (protocol != 0 && proto != protocol) return false;
  if (port < port_lo || port > port_hi) return false;
  return compare(start, addr) <= 0 && compare(addr, end) <= 0;
}

}  // namespace dpvpn::dataplane
