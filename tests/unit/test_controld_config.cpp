// controld's config: the example parses into the expected struct; identities are typed the way
// strongSwan types them; each mistake is reported as file:line with what is wrong; PSKs never
// appear in a message.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "controld_config.hpp"

using namespace dpvpn;
using namespace dpvpn::controld;

namespace {

// Accepts what the crypto library would, roughly: tests of the parser need a checker that can say no.
std::string toy_check(std::string_view proposal, bool esp) {
  if (proposal.find("des") != std::string_view::npos) return "'des' is not a supported algorithm";
  if (!esp && proposal.find("prf") == std::string_view::npos && proposal.find("sha") == std::string_view::npos) {
    return "an IKE proposal needs a PRF";
  }
  return "";
}

const std::string kMinimal = R"(connections:
  - name: b
    local: 192.0.2.1
    remote: 192.0.2.2
    auth: psk
    psk: 0x000102030405060708090a0b0c0d0e0f
    proposals: [aes128gcm16-prfsha256-x25519]
    children:
      - name: net
        esp_proposals: [aes128gcm16]
)";

std::string error_of(const std::string& text) {
  ControldConfig cfg;
  const Status s = parse_controld_config(text, "c.yaml", toy_check, &cfg);
  REQUIRE_FALSE(s.is_ok());
  CHECK(s.code() == StatusCode::kInvalidArgument);
  return s.message();
}

std::string edit(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("the example config parses into what it says") {
  ControldConfig cfg;
  const Status s = load_controld_config(DPVPN_CONTROLD_EXAMPLE, toy_check, &cfg);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  CHECK(cfg.controld.ike_instances == 2);
  CHECK(cfg.controld.listen == std::vector<IpAddr>{*IpAddr::parse("192.0.2.1")});
  CHECK(cfg.controld.cookie_threshold == 64);
  CHECK(cfg.controld.nat_keepalive == 20);
  REQUIRE(cfg.connections.size() == 1);
  const ConnectionConfig& c = cfg.connections[0];
  CHECK(c.name == "site-b");
  CHECK(c.remote == *IpAddr::parse("192.0.2.2"));
  CHECK(c.local_id.type == IkeIdentity::Type::kIpv4);
  CHECK(c.auth == AuthMethod::kPsk);
  CHECK(std::string(c.psk.begin(), c.psk.end()) == "correct horse battery staple");
  CHECK(c.proposals == std::vector<std::string>{"aes128gcm16-prfsha256-x25519", "aes256-sha256-modp2048"});
  CHECK(c.rekey_time == 4 * 3600);
  CHECK(c.dpd_delay == 30);
  REQUIRE(c.children.size() == 1);
  const ChildConfig& child = c.children[0];
  CHECK(child.local_ts[0].to_string() == "10.1.0.0/16");
  CHECK(child.remote_ts[0].to_string() == "10.2.0.0/16");
  CHECK(child.rekey_time == 3600);
  CHECK(child.life_time == 66 * 60);
  CHECK(child.start_action == StartAction::kStart);
}

TEST_CASE("defaults: identities are the addresses; one instance; 4 h IKE and 1 h child rekeys") {
  ControldConfig cfg;
  REQUIRE(parse_controld_config(kMinimal, "c.yaml", toy_check, &cfg).is_ok());
  CHECK(cfg.controld.ike_instances == 1);
  CHECK(cfg.controld.dataplane == "/run/dpvpn/dataplane.sock");
  CHECK(cfg.controld.nat_keepalive == 20);  // strongSwan's keep_alive
  const ConnectionConfig& c = cfg.connections.at(0);
  CHECK(c.local_id.value == "192.0.2.1");
  CHECK(c.remote_id.address == *IpAddr::parse("192.0.2.2"));
  CHECK(c.psk.size() == 16);
  CHECK(c.rekey_time == 14400);
  CHECK(c.children.at(0).rekey_time == 3600);
  CHECK(c.children.at(0).start_action == StartAction::kNone);
  CHECK(c.children.at(0).local_ts.empty());
}

TEST_CASE("identities are typed as strongSwan types them") {
  struct Case {
    const char* text;
    IkeIdentity::Type type;
    const char* value;
  } cases[] = {
      {"192.0.2.1", IkeIdentity::Type::kIpv4, "192.0.2.1"},
      {"fd00::1", IkeIdentity::Type::kIpv6, "fd00::1"},
      {"gw.example.com", IkeIdentity::Type::kFqdn, "gw.example.com"},
      {"@gw.example.com", IkeIdentity::Type::kFqdn, "gw.example.com"},
      {"vpn@example.com", IkeIdentity::Type::kEmail, "vpn@example.com"},
      {"CN=gw, O=dpvpn", IkeIdentity::Type::kDn, "CN=gw, O=dpvpn"},
      {"fqdn:192.0.2.1", IkeIdentity::Type::kFqdn, "192.0.2.1"},
      {"dn:gw", IkeIdentity::Type::kDn, "gw"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    IkeIdentity id;
    REQUIRE(parse_identity(c.text, &id).empty());
    CHECK(id.type == c.type);
    CHECK(id.value == c.value);
  }
  IkeIdentity id;
  CHECK(parse_identity("ip:gw", &id) != "");
  CHECK(parse_identity("fqdn:", &id) == "empty identity");
}

TEST_CASE("each mistake is reported as file:line: what is wrong") {
  struct Bad {
    std::string_view from, to, expected;
  } cases[] = {
      {"    auth: psk\n", "    auth: pks\n", "c.yaml:5: connections[0].auth: 'pks' is not one of psk, pubkey"},
      {"    local: 192.0.2.1\n", "    locl: 192.0.2.1\n",
       "c.yaml:3: unknown key 'locl' in connections[0] (known: name, local, remote, local_id, remote_id, auth, psk, "
       "cert, key, cacerts, proposals, rekey_time, dpd_delay, dpd_timeout, fragmentation, children)"},
      {"    remote: 192.0.2.2\n", "    remote: fd00::2\n", "c.yaml:4: connections[0].remote: not the same address family as local"},
      {"[aes128gcm16-prfsha256-x25519]", "[3des-md5-modp1024]", "c.yaml:7: connections[0].proposals[0]: 'des' is not a supported algorithm"},
      {"[aes128gcm16]", "[]", "c.yaml:10: connections[0].children[0].esp_proposals: no proposals"},
      {"    children:\n      - name: net\n        esp_proposals: [aes128gcm16]\n", "    children: []\n",
       "c.yaml:8: connections[0].children: no child SAs (a connection needs at least one)"},
      {"        esp_proposals: [aes128gcm16]\n", "        esp_proposals: [aes128gcm16]\n        remote_ts: [10.2.0.1/16]\n",
       "c.yaml:11: connections[0].children[0].remote_ts[0]: host bits set (did you mean 10.2.0.0/16?)"},
      {"        esp_proposals: [aes128gcm16]\n", "        esp_proposals: [aes128gcm16]\n        rekey_time: 1h\n        life_time: 30m\n",
       "c.yaml:12: connections[0].children[0].life_time: 30m is not after rekey_time (3600s)"},
      {"        esp_proposals: [aes128gcm16]\n", "        esp_proposals: [aes128gcm16]\n        start_action: trap\n",
       "c.yaml:11: connections[0].children[0].start_action: 'trap' is not one of none, start, on-demand"},
      {"    proposals:", "    dpd_delay: 30x\n    proposals:",
       "c.yaml:7: connections[0].dpd_delay: '30x' is not a duration (e.g. 30, 30s, 5m, 4h, 1d)"},
      {"    auth: psk\n", "    auth: pubkey\n", "c.yaml:2: connections[0]: missing required key 'cert' (auth: pubkey)"},
      {"connections:\n", "controld:\n  ike_instances: 0\nconnections:\n",
       "c.yaml:2: controld.ike_instances: 0 is out of range 1..64"},
      {"connections:\n", "controld:\n  nat_keepalive: 2h\nconnections:\n",
       "c.yaml:2: controld.nat_keepalive: 2h is out of range 0s..3600s"},
  };
  for (const Bad& b : cases) {
    INFO(b.expected);
    CHECK(error_of(edit(kMinimal, b.from, b.to)) == b.expected);
  }
  // Two connections with one name.
  const std::string two = kMinimal + std::string(kMinimal).substr(std::string("connections:\n").size());
  CHECK(error_of(two) == "c.yaml:11: connections[1]: connection name 'b' is used twice");
  CHECK(error_of("") == "c.yaml:1: empty config (expected the sections controld and connections)");
}

TEST_CASE("a PSK never appears in an error message") {
  const std::string secret = "0x000102030405060708090a0b0c0d0e0f";
  CHECK(error_of(edit(kMinimal, secret, "0x00010203040506070809zz")).find("0809") == std::string::npos);
  const std::string short_psk = error_of(edit(kMinimal, secret, "hunter2"));
  CHECK(short_psk == "c.yaml:6: connections[0].psk: shorter than 8 bytes (got 7)");
}

TEST_CASE("pubkey: certificate, key and CA files are resolved against the config's directory") {
  const auto dir = std::filesystem::temp_directory_path() / ("dpvpn-controld-cfg-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  for (const char* f : {"gw.pem", "gw.key", "ca.pem"}) std::ofstream(dir / f) << "PEM\n";
  std::string text = edit(kMinimal, "    auth: psk\n    psk: 0x000102030405060708090a0b0c0d0e0f\n",
                          "    auth: pubkey\n    cert: gw.pem\n    key: gw.key\n    cacerts: [ca.pem]\n");
  std::ofstream(dir / "c.yaml") << text;
  ControldConfig cfg;
  const Status s = load_controld_config((dir / "c.yaml").string(), toy_check, &cfg);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  CHECK(cfg.connections[0].cert == (dir / "gw.pem").string());
  CHECK(cfg.connections[0].cacerts == std::vector<std::string>{(dir / "ca.pem").string()});
  std::ofstream(dir / "c.yaml") << edit(text, "[ca.pem]", "[nope.pem]");
  CHECK(load_controld_config((dir / "c.yaml").string(), toy_check, &cfg).message() ==
        (dir / "c.yaml").string() + ":8: connections[0].cacerts[0]: cannot read " + (dir / "nope.pem").string());
  std::filesystem::remove_all(dir);
}
