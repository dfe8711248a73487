#pragma once
// Text -> value for the config's scalars (no YAML here). The string-returning parsers return ""
// on success, else what is wrong, phrased to follow "<field>: ".
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/ip_prefix.hpp"
#include "net/ip_addr.hpp"

namespace dpvpn::config {

// Decimal, or hex with a 0x prefix. No sign, no spaces; nullopt on junk or overflow.
std::optional<uint64_t> parse_uint(std::string_view text);

// An IPv4 or IPv6 address. IPv4-mapped IPv6 text (::ffff:a.b.c.d) is refused: it would silently
// become IPv4, since that is how IpAddr stores IPv4.
std::string parse_address(std::string_view text, IpAddr* out);

// "address/length"; the length is required and must fit the family. Host bits are allowed here
// (a port address has them); callers that want a network check has_host_bits().
std::string parse_prefix(std::string_view text, IpPrefix* out);

// Key material: optional 0x, then an even number of hex digits. The message never repeats any of
// the text, so secrets cannot leak into logs through a config error.
std::string parse_hex_bytes(std::string_view text, std::vector<uint8_t>* out);

// "02:00:00:00:00:01" (':' or '-' between six 2-digit hex bytes).
bool parse_mac(std::string_view text, std::array<uint8_t, 6>* out);

// A PCI address with its domain: 0000:03:00.0.
bool is_pci_address(std::string_view text);
// A DPDK vdev spec: a driver name [a-z0-9_]+ starting with `driver_prefix` ("net_", "crypto_"),
// then optional ",key=value" arguments, no spaces. The prefix catches "eth0" (a kernel interface).
bool is_vdev_spec(std::string_view text, std::string_view driver_prefix);

bool is_port_name(std::string_view text);  // [a-z0-9_-]{1,15}: fits an interface-like name
bool is_sa_name(std::string_view text);    // [A-Za-z0-9_.-]{1,31}

}  // namespace dpvpn::config
