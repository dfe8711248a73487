#pragma once
// dpvpnctl's small text helpers: argument parsing (SPI, direction, algorithm, hex, addresses,
// prefixes) and output formatting (addresses, aligned tables, JSON of a reply).
#include <google/protobuf/message.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dpvpn/v1/common.pb.h"

namespace dpvpn::ctl {

// What dpvpnctl knows about an ESP algorithm.
struct AlgorithmInfo {
  dpvpn::v1::EspAlgorithm proto;
  std::string_view name;            // CLI / config spelling
  size_t key_size;                  // bytes of `key` (cipher key + salt for AEADs)
  size_t auth_key_size;             // bytes of `auth_key` (0 for AEADs)
  std::string_view key_help;        // what the key is made of
  std::string_view wireshark_encryption;      // Wireshark esp_sa "Encryption" value
  std::string_view wireshark_authentication;  // Wireshark esp_sa "Authentication" value
};
const AlgorithmInfo* find_algorithm(std::string_view name);
const AlgorithmInfo* find_algorithm(dpvpn::v1::EspAlgorithm alg);
std::string algorithm_name(dpvpn::v1::EspAlgorithm alg);  // "aes128gcm", or "unknown(N)"

// "1001", "4097", "0x1001" -> 0x1001; 0 and out-of-range values are refused.
std::optional<uint32_t> parse_spi(std::string_view text);
std::string spi_hex(uint32_t spi);  // 0x00001001

// in | inbound -> INBOUND, out | outbound -> OUTBOUND.
std::optional<dpvpn::v1::SaDirection> parse_direction(std::string_view text);
std::string direction_name(dpvpn::v1::SaDirection direction);  // inbound | outbound

// Hex (optional 0x), an even number of digits; nullopt otherwise. Never echo the input in errors.
std::optional<std::string> parse_hex(std::string_view text);
std::string to_hex(std::string_view bytes);

// "192.0.2.1" / "2001:db8::1" -> 4 / 16 bytes in network order.
std::optional<dpvpn::v1::IpAddress> parse_address(std::string_view text);
std::string address_text(const dpvpn::v1::IpAddress& address);  // "-" when empty
// "10.1.0.0/16" -> a selector covering the prefix (host bits must be zero).
std::optional<dpvpn::v1::TrafficSelector> parse_prefix_selector(std::string_view text, std::string* why);
std::string selector_text(const dpvpn::v1::TrafficSelector& ts);  // "10.1.0.0/16", "a-b proto 6 ports 1-2"

// The reply as protobuf JSON (field names as in the .proto, zero values included), one line.
std::string to_json(const google::protobuf::Message& message);

// A table with a header row: text columns left-aligned, numeric columns right-aligned, two
// spaces between columns, every column as wide as its widest cell.
class TextTable {
 public:
  TextTable(std::vector<std::string> header, std::vector<bool> right_aligned);
  void add(std::vector<std::string> row);
  std::string render(std::string_view indent = "") const;

 private:
  std::vector<std::vector<std::string>> rows_;
  std::vector<bool> right_;
};

}  // namespace dpvpn::ctl
