// dpvpnctl sa keys: an SA's keys as a line of Wireshark's "ESP SAs" table (the esp_sa UAT file),
// read from the dataplane's config file. Keys never travel over the gRPC API (QuerySa returns an
// SA without them, by design), so this command never asks the dataplane.
//
// Wireshark's esp_sa columns (epan/dissectors/packet-ipsec.c, ten since the ESN columns; older
// files with eight still load, the last two taking their defaults):
//   Protocol ("IPv4" | "IPv6"), Src IP, Dest IP, SPI ("0x%08x"), Encryption, Encryption Key ("0x" hex),
//   Authentication, Authentication Key ("0x" hex or ""), SN ("32-bit" | "64-bit"), ESN High Bits (hex)
// every field quoted, separated by commas, no trailing comma (the loader refuses one). Checked with
// tshark 4.0 (Debian 12): AES-GCM and AES-CBC + HMAC-SHA-256-128 SAs decrypt; 4.0 does not know
// "ChaCha20 with Poly1305 [RFC7634]" yet (newer releases do).
#include <cstdio>

#include "config/dataplane_config.hpp"
#include "dpvpnctl.hpp"
#include "text.hpp"

namespace dpvpn::ctl {

namespace v1 = dpvpn::v1;

namespace {

// Appended piecewise: GCC 12 warns falsely (-Wrestrict) about "\"" + std::string(...).
std::string quoted(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

std::string key_hex(const std::vector<uint8_t>& key) {
  std::string out = "0x";
  out += to_hex(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  return out;
}

grpc::StatusCode to_grpc(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return grpc::StatusCode::OK;
    case StatusCode::kInvalidArgument: return grpc::StatusCode::INVALID_ARGUMENT;
    case StatusCode::kNotFound: return grpc::StatusCode::NOT_FOUND;
    case StatusCode::kAlreadyExists: return grpc::StatusCode::ALREADY_EXISTS;
    case StatusCode::kResourceExhausted: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case StatusCode::kUnavailable: return grpc::StatusCode::UNAVAILABLE;
    case StatusCode::kInternal: return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::UNKNOWN;
}

}  // namespace

grpc::Status cmd_sa_keys(const SaKeysArgs& args, std::ostream& out) {
  if (!args.wireshark) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "sa keys: say --wireshark (the only output it has)");
  }
  std::optional<uint32_t> spi = parse_spi(args.id.spi);
  if (!spi) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "SPI: not an SPI (1..0xffffffff, decimal or 0x hex)");
  std::optional<v1::SaDirection> dir = parse_direction(args.id.direction);
  if (!dir) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "--direction: in or out");
  std::optional<IpAddr> address = IpAddr::parse(args.id.address);
  if (!address) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "--address: not an IP address");
  if (args.config.empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "--config: the dataplane's config file is needed (keys never travel over the API)");
  }

  dataplane::DataplaneConfig config;
  Status loaded = dataplane::load_dataplane_config(args.config, &config);
  if (!loaded) return grpc::Status(to_grpc(loaded.code()), loaded.message());

  const bool inbound = *dir == v1::INBOUND;
  const dataplane::SaDirection want = inbound ? dataplane::SaDirection::kInbound : dataplane::SaDirection::kOutbound;
  for (const dataplane::SaParams& sa : config.sas) {
    if (sa.spi != *spi || sa.direction != want || (inbound ? sa.local : sa.remote) != *address) continue;
    const AlgorithmInfo* alg = find_algorithm(dataplane::algorithm_name(sa.algorithm));
    if (!alg) return grpc::Status(grpc::StatusCode::INTERNAL, "sa keys: unknown algorithm in the config");
    // On the wire: outbound SAs go local -> remote, inbound ones remote -> local.
    const IpAddr& src = inbound ? sa.remote : sa.local;
    const IpAddr& dst = inbound ? sa.local : sa.remote;
    char spi_text[16];
    std::snprintf(spi_text, sizeof spi_text, "0x%08x", sa.spi);
    out << quoted(src.is_v4() ? "IPv4" : "IPv6") << "," << quoted(src.to_string()) << "," << quoted(dst.to_string())
        << "," << quoted(spi_text) << "," << quoted(alg->wireshark_encryption) << "," << quoted(key_hex(sa.key))
        << "," << quoted(alg->wireshark_authentication) << ","
        << quoted(sa.auth_key.empty() ? "" : key_hex(sa.auth_key)) << "," << quoted(sa.esn ? "64-bit" : "32-bit")
        << "," << quoted("0") << "\n";
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::NOT_FOUND, "no " + direction_name(*dir) + " SA " + spi_hex(*spi) + " for " +
                                                       address->to_string() + " in " + args.config);
}

}  // namespace dpvpn::ctl
