#include "text.hpp"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "net/ip_addr.hpp"

namespace dpvpn::ctl {

namespace {

constexpr std::array<AlgorithmInfo, 5> kAlgorithms{{
    {dpvpn::v1::AES128_GCM, "aes128gcm", 20, 0, "16-byte key + 4-byte salt",
     "AES-GCM with 16 octet ICV [RFC4106]", "NULL"},
    {dpvpn::v1::AES256_GCM, "aes256gcm", 36, 0, "32-byte key + 4-byte salt",
     "AES-GCM with 16 octet ICV [RFC4106]", "NULL"},
    {dpvpn::v1::AES128_CBC_SHA256, "aes128cbc-sha256", 16, 32, "16-byte AES key", "AES-CBC [RFC3602]",
     "HMAC-SHA-256-128 [RFC4868]"},
    {dpvpn::v1::AES256_CBC_SHA256, "aes256cbc-sha256", 32, 32, "32-byte AES key", "AES-CBC [RFC3602]",
     "HMAC-SHA-256-128 [RFC4868]"},
    {dpvpn::v1::CHACHA20_POLY1305, "chacha20poly1305", 36, 0, "32-byte key + 4-byte salt",
     "ChaCha20 with Poly1305 [RFC7634]", "NULL"},
}};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string address_bytes(const IpAddr& a) {
  if (a.is_v4()) return std::string(reinterpret_cast<const char*>(a.bytes.data()) + 12, 4);
  return std::string(reinterpret_cast<const char*>(a.bytes.data()), 16);
}

std::optional<IpAddr> to_ip(const dpvpn::v1::IpAddress& address) {
  const std::string& b = address.addr();
  if (b.size() == 4) {
    return IpAddr::v4((uint32_t{uint8_t(b[0])} << 24) | (uint32_t{uint8_t(b[1])} << 16) |
                      (uint32_t{uint8_t(b[2])} << 8) | uint32_t{uint8_t(b[3])});
  }
  if (b.size() == 16) {
    std::array<uint8_t, 16> v6{};
    std::memcpy(v6.data(), b.data(), 16);
    return IpAddr::v6(v6);
  }
  return std::nullopt;
}

bool bit(const std::string& bytes, size_t i) { return (uint8_t(bytes[i / 8]) >> (7 - i % 8)) & 1; }

// The prefix length when [start, end] is exactly one prefix.
std::optional<uint32_t> range_prefix(const std::string& start, const std::string& end) {
  if (start.size() != end.size() || start.empty()) return std::nullopt;
  const size_t bits = start.size() * 8;
  size_t p = 0;
  while (p < bits && bit(start, p) == bit(end, p)) ++p;
  for (size_t i = p; i < bits; ++i) {
    if (bit(start, i) || !bit(end, i)) return std::nullopt;
  }
  return static_cast<uint32_t>(p);
}

}  // namespace

const AlgorithmInfo* find_algorithm(std::string_view name) {
  for (const AlgorithmInfo& a : kAlgorithms) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

const AlgorithmInfo* find_algorithm(dpvpn::v1::EspAlgorithm alg) {
  for (const AlgorithmInfo& a : kAlgorithms) {
    if (a.proto == alg) return &a;
  }
  return nullptr;
}

std::string algorithm_name(dpvpn::v1::EspAlgorithm alg) {
  const AlgorithmInfo* a = find_algorithm(alg);
  return a ? std::string(a->name) : "unknown(" + std::to_string(static_cast<int>(alg)) + ")";
}

std::optional<uint32_t> parse_spi(std::string_view text) {
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
    base = 16;
  }
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || ptr != text.data() + text.size() || value == 0 || value > 0xffffffffULL) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

std::string spi_hex(uint32_t spi) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", spi);
  return buf;
}

std::optional<dpvpn::v1::SaDirection> parse_direction(std::string_view text) {
  if (text == "in" || text == "inbound") return dpvpn::v1::INBOUND;
  if (text == "out" || text == "outbound") return dpvpn::v1::OUTBOUND;
  return std::nullopt;
}

std::string direction_name(dpvpn::v1::SaDirection direction) {
  switch (direction) {
    case dpvpn::v1::INBOUND: return "inbound";
    case dpvpn::v1::OUTBOUND: return "outbound";
    default: return "unspecified";
  }
}

std::optional<std::string> parse_hex(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  if (text.empty() || text.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    const int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    out.push_back(kDigits[uint8_t(c) >> 4]);
    out.push_back(kDigits[uint8_t(c) & 15]);
  }
  return out;
}

std::optional<dpvpn::v1::IpAddress> parse_address(std::string_view text) {
  std::optional<IpAddr> a = IpAddr::parse(text);
  if (!a) return std::nullopt;
  dpvpn::v1::IpAddress out;
  out.set_addr(address_bytes(*a));
  return out;
}

std::string address_text(const dpvpn::v1::IpAddress& address) {
  if (address.addr().empty()) return "-";
  std::optional<IpAddr> a = to_ip(address);
  return a ? a->to_string() : "0x" + to_hex(address.addr());
}

std::optional<dpvpn::v1::TrafficSelector> parse_prefix_selector(std::string_view text, std::string* why) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    *why = "not ADDRESS/LENGTH";
    return std::nullopt;
  }
  std::optional<dpvpn::v1::IpAddress> base = parse_address(text.substr(0, slash));
  const std::string_view len_text = text.substr(slash + 1);
  uint32_t len = 0;
  auto [ptr, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (!base || len_text.empty() || ec != std::errc() || ptr != len_text.data() + len_text.size()) {
    *why = "not ADDRESS/LENGTH";
    return std::nullopt;
  }
  const std::string& b = base->addr();
  const size_t bits = b.size() * 8;
  if (len > bits) {
    *why = "prefix length over " + std::to_string(bits);
    return std::nullopt;
  }
  std::string start = b, end = b;
  for (size_t i = len; i < bits; ++i) {
    const uint8_t mask = static_cast<uint8_t>(0x80u >> (i % 8));
    if (uint8_t(start[i / 8]) & mask) {
      *why = "host bits set";
      return std::nullopt;
    }
    end[i / 8] = static_cast<char>(uint8_t(end[i / 8]) | mask);
  }
  dpvpn::v1::TrafficSelector ts;
  ts.mutable_start()->set_addr(start);
  ts.mutable_end()->set_addr(end);
  ts.set_port_lo(0);
  ts.set_port_hi(65535);
  return ts;
}

std::string selector_text(const dpvpn::v1::TrafficSelector& ts) {
  std::string out;
  if (std::optional<uint32_t> p = range_prefix(ts.start().addr(), ts.end().addr())) {
    out = address_text(ts.start()) + "/" + std::to_string(*p);
  } else {
    out = address_text(ts.start()) + "-" + address_text(ts.end());
  }
  if (ts.protocol() != 0) out += " proto " + std::to_string(ts.protocol());
  const uint32_t hi = ts.port_hi() == 0 ? 65535 : ts.port_hi();
  if (ts.port_lo() != 0 || hi != 65535) {
    out += " ports " + std::to_string(ts.port_lo()) + "-" + std::to_string(hi);
  }
  return out;
}

std::string to_json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

TextTable::TextTable(std::vector<std::string> header, std::vector<bool> right_aligned)
    : right_(std::move(right_aligned)) {
  right_.resize(header.size(), false);
  rows_.push_back(std::move(header));
}

void TextTable::add(std::vector<std::string> row) {
  row.resize(rows_.front().size());
  rows_.push_back(std::move(row));
}

std::string TextTable::render(std::string_view indent) const {
  std::vector<size_t> width(rows_.front().size(), 0);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line(indent);
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) line += "  ";
      const std::string pad(width[c] - row[c].size(), ' ');
      line += right_[c] ? pad + row[c] : row[c] + (c + 1 < row.size() ? pad : "");
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace dpvpn::ctl
