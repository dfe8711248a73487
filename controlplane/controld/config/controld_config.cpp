// controld's YAML: the `controld:` settings and the `connections:` list, with file:line errors.
#include "controld_config.hpp"

#include <cctype>
#include <filesystem>

#include "config/value_parsers.hpp"
#include "config/yaml_document.hpp"

namespace dpvpn::controld {

using namespace dpvpn::config;

namespace {

constexpr uint64_t kMaxSeconds = 10ull * 365 * 86400;

IpAddr read_address(const Field& field) {
  IpAddr addr;
  if (std::string error = parse_address(scalar(field), &addr); !error.empty()) fail(field, error);
  return addr;
}

bool is_name(std::string_view text) {
  if (text.empty() || text.size() > 63) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::string read_name(const Field& field) {
  const std::string name = scalar(field);
  if (!is_name(name)) fail(field, "'" + name + "' is not a name ([A-Za-z0-9_.-], 1..63 characters)");
  return name;
}

std::vector<std::string> read_proposals(const Field& list, bool esp, const ProposalCheck& check) {
  std::vector<std::string> out;
  for (const Field& item : list_items(list)) {
    std::string text = scalar(item);
    if (check) {
      if (std::string error = check(text, esp); !error.empty()) fail(item, error);
    }
    out.push_back(std::move(text));
  }
  if (out.empty()) fail(list, "no proposals");
  return out;
}

std::vector<IpPrefix> read_selectors(const Field& list) {
  std::vector<IpPrefix> out;
  for (const Field& item : list_items(list)) {
    const std::string text = scalar(item);
    IpPrefix prefix;
    const bool host = text.find('/') == std::string::npos;  // "10.1.0.5" = 10.1.0.5/32
    const std::string error = host ? parse_address(text, &prefix.addr) : parse_prefix(text, &prefix);
    if (!error.empty()) fail(item, error);
    if (host) prefix.len = prefix.max_len();
    if (prefix.has_host_bits()) fail(item, "host bits set (did you mean " + prefix.network().to_string() + "?)");
    out.push_back(prefix);
  }
  return out;
}

void read_settings(const Field& section, ControldSettings* s) {
  const MapFields map(section, {"ike_instances", "dataplane", "management_socket", "listen", "cookie_threshold",
                                "retransmit_tries", "retransmit_timeout_ms", "nat_keepalive", "log_dir"});
  if (auto f = map.get("ike_instances")) s->ike_instances = static_cast<uint32_t>(integer(*f, 1, 64));
  if (auto f = map.get("dataplane")) s->dataplane = f->node.IsNull() ? std::string() : scalar(*f);
  if (auto f = map.get("management_socket")) s->management_socket = scalar(*f);
  if (auto f = map.get("listen")) {
    for (const Field& item : list_items(*f)) s->listen.push_back(read_address(item));
  }
  if (auto f = map.get("cookie_threshold")) s->cookie_threshold = static_cast<uint32_t>(integer(*f, 0, 1u << 20));
  if (auto f = map.get("retransmit_tries")) s->retransmit_tries = static_cast<uint32_t>(integer(*f, 1, 20));
  if (auto f = map.get("retransmit_timeout_ms")) {
    s->retransmit_timeout_ms = static_cast<uint32_t>(integer(*f, 100, 60000));
  }
  if (auto f = map.get("nat_keepalive")) s->nat_keepalive = duration_seconds(*f, 0, 3600);
  if (auto f = map.get("log_dir")) s->log_dir = scalar(*f);
}

ChildConfig read_child(const Field& item, const ProposalCheck& check) {
  const MapFields map(item, {"name", "local_ts", "remote_ts", "esp_proposals", "rekey_time", "life_time",
                             "start_action"});
  ChildConfig c;
  c.line = item.line;
  c.name = read_name(map.require("name"));
  if (auto f = map.get("local_ts")) c.local_ts = read_selectors(*f);
  if (auto f = map.get("remote_ts")) c.remote_ts = read_selectors(*f);
  c.esp_proposals = read_proposals(map.require("esp_proposals"), true, check);
  if (auto f = map.get("rekey_time")) c.rekey_time = duration_seconds(*f, 0, kMaxSeconds);
  if (auto f = map.get("life_time")) {
    c.life_time = duration_seconds(*f, 1, kMaxSeconds);
    if (c.rekey_time != 0 && c.life_time <= c.rekey_time) {
      fail(*f, scalar(*f) + " is not after rekey_time (" + std::to_string(c.rekey_time) + "s)");
    }
  }
  if (auto f = map.get("start_action")) {
    c.start_action = choice<StartAction>(
        *f, {{"none", StartAction::kNone}, {"start", StartAction::kStart}, {"on-demand", StartAction::kOnDemand}});
  }
  return c;
}

ConnectionConfig read_connection(const Field& item, const std::string& base_dir, const ProposalCheck& check) {
  const MapFields map(item, {"name", "local", "remote", "local_id", "remote_id", "auth", "psk", "cert", "key",
                             "cacerts", "proposals", "rekey_time", "dpd_delay", "dpd_timeout", "fragmentation",
                             "children"});
  ConnectionConfig c;
  c.line = item.line;
  c.name = read_name(map.require("name"));
  const Field local_at = map.require("local");
  c.local = read_address(local_at);
  c.remote = read_address(map.require("remote"));
  if (c.local.is_v4() != c.remote.is_v4()) fail(map.require("remote"), "not the same address family as local");
  const auto read_id = [&](std::string_view key, const IpAddr& fallback) {
    IkeIdentity id;
    if (auto f = map.get(key)) {
      if (std::string error = parse_identity(scalar(*f), &id); !error.empty()) fail(*f, error);
    } else {
      id = {fallback.is_v4() ? IkeIdentity::Type::kIpv4 : IkeIdentity::Type::kIpv6, fallback.to_string(), fallback};
    }
    return id;
  };
  c.local_id = read_id("local_id", c.local);
  c.remote_id = read_id("remote_id", c.remote);
  const Field auth_at = map.require("auth");
  c.auth = choice<AuthMethod>(auth_at, {{"psk", AuthMethod::kPsk}, {"pubkey", AuthMethod::kPubkey}});
  if (c.auth == AuthMethod::kPsk) {
    const Field psk = map.require("psk", "auth: psk");
    const std::string text = scalar(psk);
    if (text.rfind("0x", 0) == 0) {
      if (std::string error = parse_hex_bytes(text, &c.psk); !error.empty()) fail(psk, error);
    } else {
      c.psk.assign(text.begin(), text.end());
    }
    // RFC 7296 §2.15: a PSK must be as strong as the keys it protects; refuse the trivially short.
    if (c.psk.size() < 8) fail(psk, "shorter than 8 bytes (got " + std::to_string(c.psk.size()) + ")");
    for (const char* unused : {"cert", "key", "cacerts"}) {
      if (auto f = map.get(unused)) fail(*f, "only used with auth: pubkey");
    }
  } else {
    c.cert = readable_file(map.require("cert", "auth: pubkey"), base_dir);
    c.key = readable_file(map.require("key", "auth: pubkey"), base_dir);
    for (const Field& ca : list_items(map.require("cacerts", "auth: pubkey"))) c.cacerts.push_back(readable_file(ca, base_dir));
    if (c.cacerts.empty()) fail(map.require("cacerts"), "no CA certificates");
    if (auto f = map.get("psk")) fail(*f, "only used with auth: psk");
  }
  c.proposals = read_proposals(map.require("proposals"), false, check);
  if (auto f = map.get("rekey_time")) c.rekey_time = duration_seconds(*f, 0, kMaxSeconds);
  if (auto f = map.get("dpd_delay")) c.dpd_delay = duration_seconds(*f, 0, 86400);
  if (auto f = map.get("dpd_timeout")) c.dpd_timeout = duration_seconds(*f, 0, 86400);
  if (auto f = map.get("fragmentation")) c.fragmentation = boolean(*f);
  const std::vector<Field> children = list_items(map.require("children"));
  if (children.empty()) fail(map.require("children"), "no child SAs (a connection needs at least one)");
  for (const Field& child : children) {
    c.children.push_back(read_child(child, check));
    for (size_t i = 0; i + 1 < c.children.size(); ++i) {
      if (c.children[i].name == c.children.back().name) {
        fail(child, "child name '" + c.children.back().name + "' is used twice in this connection");
      }
    }
  }
  return c;
}

void read_document(const Field& root, const std::string& base_dir, const ProposalCheck& check, ControldConfig* cfg) {
  if (root.node.IsNull()) fail(1, "empty config (expected the sections controld and connections)");
  if (!root.node.IsMap()) fail(root.line, "expected a map of sections (controld, connections)");
  const MapFields sections(root, {"controld", "connections"});
  for (const auto& [key, field] : sections.entries()) {
    if (key == "controld") read_settings(field, &cfg->controld);
    if (key != "connections") continue;
    for (const Field& item : list_items(field)) {
      ConnectionConfig c = read_connection(item, base_dir, check);
      for (const ConnectionConfig& other : cfg->connections) {
        if (other.name == c.name) fail(item, "connection name '" + c.name + "' is used twice");
        if (other.remote == c.remote && other.local == c.local) {
          fail(item, "a second connection between " + c.local.to_string() + " and " + c.remote.to_string() +
                         " (first: '" + other.name + "' on line " + std::to_string(other.line) + ")");
        }
      }
      cfg->connections.push_back(std::move(c));
    }
  }
}

Status parse(const std::string& file_name, const ProposalCheck& check, ControldConfig* out,
             const std::function<Status(const std::function<void(const Field&)>&)>& reader) {
  ControldConfig cfg;
  const std::string base_dir = std::filesystem::path(file_name).parent_path().string();
  Status s = reader([&](const Field& root) { read_document(root, base_dir, check, &cfg); });
  if (s) *out = std::move(cfg);
  return s;
}

}  // namespace

std::string parse_identity(std::string_view text, IkeIdentity* out) {
  IkeIdentity id;
  const auto take_prefix = [&](std::string_view prefix) {
    if (text.substr(0, prefix.size()) != prefix) return false;
    text.remove_prefix(prefix.size());
    return true;
  };
  if (take_prefix("ip:")) {
    if (std::string error = parse_address(text, &id.address); !error.empty()) return error;
    id.type = id.address.is_v4() ? IkeIdentity::Type::kIpv4 : IkeIdentity::Type::kIpv6;
  } else if (take_prefix("fqdn:")) {
    id.type = IkeIdentity::Type::kFqdn;
  } else if (take_prefix("email:")) {
    id.type = IkeIdentity::Type::kEmail;
  } else if (take_prefix("dn:")) {
    id.type = IkeIdentity::Type::kDn;
  } else if (parse_address(text, &id.address).empty()) {
    id.type = id.address.is_v4() ? IkeIdentity::Type::kIpv4 : IkeIdentity::Type::kIpv6;
  } else if (text.find('=') != std::string_view::npos) {
    id.type = IkeIdentity::Type::kDn;
  } else if (text.find('@') != std::string_view::npos && text.front() != '@') {
    id.type = IkeIdentity::Type::kEmail;
  } else {
    id.type = IkeIdentity::Type::kFqdn;
    if (!text.empty() && text.front() == '@') text.remove_prefix(1);  // strongSwan's "@gw.example.com"
  }
  if (text.empty()) return "empty identity";
  id.value = std::string(text);
  *out = id;
  return "";
}

Status parse_controld_config(std::string_view yaml_text, const std::string& file_name, const ProposalCheck& check,
                             ControldConfig* out) {
  return parse(file_name, check, out,
               [&](const auto& read) { return read_yaml_document(yaml_text, file_name, read); });
}

Status load_controld_config(const std::string& path, const ProposalCheck& check, ControldConfig* out) {
  return parse(path, check, out, [&](const auto& read) { return read_yaml_file(path, read); });
}

}  // namespace dpvpn::controld
