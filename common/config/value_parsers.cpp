#include "config/value_parsers.hpp"

#include <charconv>

namespace dpvpn::config {

namespace {
bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
uint8_t hex_value(char c) {
  if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
  return static_cast<uint8_t>(c - 'A' + 10);
}
bool has_hex_prefix(std::string_view text) {
  return text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
}
// 'text' — built by appending: GCC 12 warns falsely (-Wrestrict) on "'" + std::string(...).
std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.append(1, '\'').append(text).append(1, '\'');
  return out;
}

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Every character is [a-z0-9] or one of `extra`; 1..max_len characters.
bool is_name(std::string_view text, size_t max_len, std::string_view extra, bool upper) {
  if (text.empty() || text.size() > max_len) return false;
  for (char c : text) {
    const bool ok = is_lower_alnum(c) || (upper && c >= 'A' && c <= 'Z') ||
                    extra.find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}
}  // namespace

std::optional<uint64_t> parse_uint(std::string_view text) {
  int base = 10;
  if (has_hex_prefix(text)) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value, base);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::string parse_address(std::string_view text, IpAddr* out) {
  const std::optional<IpAddr> addr = IpAddr::parse(text);
  if (!addr) return quoted(text) + " is not an IP address";
  if (addr->is_v4() && text.find(':') != std::string_view::npos) {
    return quoted(text) + " is IPv4-mapped; write it as IPv4 (" + addr->to_string() + ")";
  }
  *out = *addr;
  return "";
}

std::string parse_prefix(std::string_view text, IpPrefix* out) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return quoted(text) + " needs a prefix length (address/length)";
  }
  IpPrefix prefix;
  std::string error = parse_address(text.substr(0, slash), &prefix.addr);
  if (!error.empty()) return error;
  const std::string_view len_text = text.substr(slash + 1);
  const uint8_t max_len = prefix.max_len();
  // Decimal only, at most 3 digits: "0x10" or "0024" as a length is a typo, not a number.
  const uint64_t len = len_text.size() <= 3 && !has_hex_prefix(len_text)
                           ? parse_uint(len_text).value_or(UINT64_MAX)
                           : UINT64_MAX;
  if (len > max_len) return quoted(text) + ": prefix length must be 0.." + std::to_string(max_len);
  prefix.len = static_cast<uint8_t>(len);
  *out = prefix;
  return "";
}

std::string parse_hex_bytes(std::string_view text, std::vector<uint8_t>* out) {
  if (has_hex_prefix(text)) text.remove_prefix(2);
  for (char c : text) {
    if (!is_hex_digit(c)) return "not hex (expected 0x and hex digits)";
  }
  if (text.empty()) return "empty (expected 0x and hex digits)";
  if (text.size() % 2 != 0) return "odd number of hex digits (expected whole bytes)";
  out->clear();
  for (size_t i = 0; i < text.size(); i += 2) {
    out->push_back(static_cast<uint8_t>(hex_value(text[i]) << 4 | hex_value(text[i + 1])));
  }
  return "";
}

bool parse_mac(std::string_view text, std::array<uint8_t, 6>* out) {
  if (text.size() != 17) return false;
  std::array<uint8_t, 6> mac{};
  for (size_t i = 0; i < 6; ++i) {
    const size_t at = i * 3;
    if (!is_hex_digit(text[at]) || !is_hex_digit(text[at + 1])) return false;
    if (i < 5 && text[at + 2] != ':' && text[at + 2] != '-') return false;
    mac[i] = static_cast<uint8_t>(hex_value(text[at]) << 4 | hex_value(text[at + 1]));
  }
  *out = mac;
  return true;
}

bool is_pci_address(std::string_view text) {
  // DDDD:BB:DD.F, hex except the function (0..7).
  if (text.size() != 12 || text[4] != ':' || text[7] != ':' || text[10] != '.') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!is_hex_digit(text[i])) return false;
  }
  return text[11] >= '0' && text[11] <= '7';
}

bool is_vdev_spec(std::string_view text, std::string_view driver_prefix) {
  const size_t comma = text.find(',');
  const std::string_view driver = text.substr(0, comma);
  if (!driver.starts_with(driver_prefix) || driver.size() == driver_prefix.size()) return false;
  if (!is_name(driver, 64, "_", false)) return false;
  if (comma == std::string_view::npos) return true;
  for (char c : text.substr(comma + 1)) {
    if (c <= ' ' || c > '~') return false;  // no spaces or control characters
  }
  return comma + 1 < text.size();
}

bool is_port_name(std::string_view text) { return is_name(text, 15, "_-", false); }
bool is_sa_name(std::string_view text) { return is_name(text, 31, "_.-", true); }

}  // namespace dpvpn::config
