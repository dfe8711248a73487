// The `sas:` section: static IPsec SAs (the control plane adds negotiated ones later).
#include <cstdio>
#include <string>

#include "config/config_draft.hpp"
#include "config/value_parsers.hpp"

namespace dpvpn::dataplane::config_internal {

namespace {
std::string spi_text(uint32_t spi) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", spi);
  return buf;
}

// Reads key material; messages give lengths only, never the digits.
std::vector<uint8_t> read_key(const Field& field, EspAlgorithm alg, size_t expected, bool with_salt) {
  std::vector<uint8_t> key;
  if (std::string error = parse_hex_bytes(scalar(field), &key); !error.empty()) fail(field, error);
  if (key.size() != expected) {
    const std::string parts =
        with_salt ? " (" + std::to_string(expected - 4) + "-byte key + 4-byte salt)" : "";
    fail(field, std::string(algorithm_name(alg)) + " needs " + std::to_string(expected) + " bytes" +
                    parts + ", got " + std::to_string(key.size()));
  }
  return key;
}

IpAddr read_address(const Field& field) {
  IpAddr addr;
  if (std::string error = parse_address(scalar(field), &addr); !error.empty()) fail(field, error);
  return addr;
}

void read_natt(const Field& field, SaParams* sa) {
  const MapFields map(field, {"local_port", "remote_port"});  // natt: {} = both 4500
  sa->natt = true;
  if (auto f = map.get("local_port")) sa->natt_local_port = static_cast<uint16_t>(integer(*f, 1, 65535));
  if (auto f = map.get("remote_port")) sa->natt_remote_port = static_cast<uint16_t>(integer(*f, 1, 65535));
}

void read_lifetime(const Field& field, SaLifetime* lt) {
  const MapFields map(field, {"soft_bytes", "hard_bytes", "soft_packets", "hard_packets", "soft_seconds",
                              "hard_seconds"});
  struct Limit {
    std::string_view soft_name, hard_name;
    uint64_t *soft, *hard;
  };
  for (const Limit& l : {Limit{"soft_bytes", "hard_bytes", &lt->soft_bytes, &lt->hard_bytes},
                         Limit{"soft_packets", "hard_packets", &lt->soft_packets, &lt->hard_packets},
                         Limit{"soft_seconds", "hard_seconds", &lt->soft_seconds, &lt->hard_seconds}}) {
    const std::optional<Field> soft = map.get(l.soft_name), hard = map.get(l.hard_name);
    if (soft) *l.soft = integer(*soft, 0, UINT64_MAX);
    if (hard) *l.hard = integer(*hard, 0, UINT64_MAX);
    // 0 means "no limit"; otherwise the soft limit (rekey) must come before the hard one.
    if (soft && *l.hard != 0 && *l.soft > *l.hard) {
      fail(*soft, scalar(*soft) + " exceeds " + std::string(l.hard_name) + " " + scalar(*hard));
    }
  }
}
}  // namespace

void read_sas_section(const Field& section, ConfigDraft* draft) {
  std::vector<SaParams>& sas = draft->cfg.sas;
  const std::vector<Field> items = list_items(section);
  for (size_t s = 0; s < items.size(); ++s) {
    const MapFields map(items[s], {"name", "direction", "spi", "algorithm", "key", "auth_key", "local",
                                   "remote", "esn", "replay_window", "natt", "lifetime", "tunnel_id"});
    SaParams sa;

    const Field name = map.require("name");
    sa.name = scalar(name);
    if (!is_sa_name(sa.name)) fail(name, "'" + sa.name + "' is not an SA name ([A-Za-z0-9_.-]{1,31})");
    if (auto [it, fresh] = draft->sa_by_name.try_emplace(sa.name, s); !fresh) {
      fail(name, "duplicate SA name '" + sa.name + "' (" + section.item_path(it->second) + ")");
    }

    sa.direction = choice<SaDirection>(
        map.require("direction"), {{"outbound", SaDirection::kOutbound}, {"inbound", SaDirection::kInbound}});
    const Field spi = map.require("spi");
    const uint64_t spi_value = integer(spi, 0, UINT64_MAX);
    if (spi_value == 0) fail(spi, "SPI 0 is reserved (use 1..0xffffffff)");
    if (spi_value > UINT32_MAX) fail(spi, scalar(spi) + " is out of range 1..0xffffffff");
    sa.spi = static_cast<uint32_t>(spi_value);

    const Field algorithm = map.require("algorithm");
    const std::string alg_name = scalar(algorithm);
    if (!parse_algorithm(alg_name, &sa.algorithm)) {
      fail(algorithm, "'" + alg_name +
                          "' is not one of aes128gcm, aes256gcm, aes128cbc-sha256, aes256cbc-sha256, "
                          "chacha20poly1305");
    }
    const bool aead = is_aead(sa.algorithm);
    sa.key = read_key(map.require("key"), sa.algorithm, expected_key_size(sa.algorithm), aead);
    if (aead) {
      if (auto f = map.get("auth_key")) fail(*f, alg_name + " is an AEAD: it takes no auth_key");
    } else {
      const size_t size = expected_auth_key_size(sa.algorithm);
      const std::string why = alg_name + " needs a " + std::to_string(size) + "-byte HMAC key";
      sa.auth_key = read_key(map.require("auth_key", why), sa.algorithm, size, false);
    }

    const Field local = map.require("local");
    sa.local = read_address(local);
    const Field remote = map.require("remote");
    sa.remote = read_address(remote);
    if (sa.local.is_v4() != sa.remote.is_v4()) {
      fail(remote, sa.remote.to_string() + " and local " + sa.local.to_string() +
                       " are of different address families");
    }
    if (sa.remote == sa.local) fail(remote, sa.remote.to_string() + " is the same as local");
    const std::string spi_key = std::to_string(static_cast<int>(sa.direction)) + " " + std::to_string(sa.spi) + " " +
                                sa.local.to_string();
    if (auto [it, fresh] = draft->sa_by_spi.try_emplace(spi_key, s); !fresh) {
      fail(spi, "SPI " + spi_text(sa.spi) + " is already used by SA '" + sas[it->second].name +
                    "' (same direction and local address)");
    }

    if (auto f = map.get("esn")) sa.esn = boolean(*f);
    const std::optional<Field> replay = map.get("replay_window");
    if (replay) {
      if (sa.direction != SaDirection::kInbound) fail(*replay, "only inbound SAs have a replay window");
      sa.replay_window = static_cast<uint32_t>(integer(*replay, 64, 4096));
      if (sa.replay_window % 64 != 0) fail(*replay, scalar(*replay) + " is not a multiple of 64");
    }
    if (auto f = map.get("natt")) read_natt(*f, &sa);
    if (auto f = map.get("lifetime")) read_lifetime(*f, &sa.lifetime);
    if (auto f = map.get("tunnel_id")) sa.tunnel_id = static_cast<uint32_t>(integer(*f, 0, UINT32_MAX));

    draft->sa_refs.push_back(ConfigDraft::SaRef{local, replay.has_value()});
    sas.push_back(std::move(sa));
  }
}

}  // namespace dpvpn::dataplane::config_internal
