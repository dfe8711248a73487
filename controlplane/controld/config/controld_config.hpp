#pragma once
// dpvpn-controld's configuration: one YAML file with the daemon's settings (`controld:`) and the
// IKE connections (`connections:`), swanctl.conf's shape in YAML. Parsed and checked here; every
// problem is reported as "FILE:LINE: what is wrong" (README.md next to this file).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "net/ip_addr.hpp"
#include "net/ip_prefix.hpp"
#include "util/status.hpp"

namespace dpvpn::controld {

// An IKE identity (RFC 7296 §3.5) as written: the type is inferred strongSwan's way (an address,
// user@domain = email, anything with '=' = DN, otherwise FQDN), or forced with ip:/fqdn:/email:/dn:.
struct IkeIdentity {
  enum class Type : uint8_t { kIpv4 = 1, kFqdn = 2, kEmail = 3, kIpv6 = 5, kDn = 9 };
  Type type = Type::kIpv4;
  std::string value;  // the text after any prefix: "192.0.2.1", "gw.example.com", "CN=gw,O=dpvpn"
  IpAddr address;     // kIpv4 / kIpv6
  friend bool operator==(const IkeIdentity&, const IkeIdentity&) = default;
};

enum class AuthMethod : uint8_t { kPsk, kPubkey };
// What to do with a child SA when the config is loaded: nothing (the peer initiates), initiate it
// now, or on the first packet that needs it (an acquire from the dataplane's encryption_requests).
enum class StartAction : uint8_t { kNone, kStart, kOnDemand };

struct ChildConfig {
  std::string name;
  std::vector<IpPrefix> local_ts, remote_ts;  // empty: the connection's own addresses (host-to-host)
  std::vector<std::string> esp_proposals;     // strongSwan syntax: "aes128gcm16", "aes256-sha256-x25519"
  uint64_t rekey_time = 3600;                 // seconds; 0 = never rekey
  uint64_t life_time = 0;                     // hard limit; 0 = rekey_time + 10 % (at least + 10 s)
  StartAction start_action = StartAction::kNone;
  int line = 0;                               // where it is written (for reload diffs and messages)
  friend bool operator==(const ChildConfig&, const ChildConfig&) = default;
};

struct ConnectionConfig {
  std::string name;
  IpAddr local, remote;
  IkeIdentity local_id, remote_id;            // default: the local / remote address
  AuthMethod auth = AuthMethod::kPsk;
  std::vector<uint8_t> psk;                   // kPsk; never printed
  std::string cert, key;                      // kPubkey: PEM files (paths resolved)
  std::vector<std::string> cacerts;           // kPubkey: CAs the peer's certificate must chain to
  std::vector<std::string> proposals;         // IKE: "aes128gcm16-prfsha256-x25519", ...
  uint64_t rekey_time = 14400;                // IKE SA rekey, seconds; 0 = never
  uint64_t dpd_delay = 0;                     // liveness check after this much silence; 0 = off
  uint64_t dpd_timeout = 0;                   // declare the peer dead after; 0 = retransmissions give up
  bool fragmentation = true;                  // RFC 7383, when the peer supports it
  std::vector<ChildConfig> children;
  int line = 0;
  friend bool operator==(const ConnectionConfig&, const ConnectionConfig&) = default;
};

struct ControldSettings {
  uint32_t ike_instances = 1;                          // iked worker processes, peers sharded by address
  std::string dataplane = "/run/dpvpn/dataplane.sock";  // the dataplane agent's unix socket
  std::string management_socket = "/run/dpvpn/controld.sock";
  std::vector<IpAddr> listen;                          // --no-dataplane: bind UDP 500/4500 on these
  uint32_t cookie_threshold = 64;                      // half-open IKE SAs before cookies are required
  uint32_t retransmit_tries = 5;                       // then the peer is given up
  uint32_t retransmit_timeout_ms = 1000;               // first timeout; doubles each try
  uint64_t nat_keepalive = 20;                         // seconds between NAT-T keepalives behind a NAT; 0 = off
  std::string log_dir = "/var/log/dpvpn";              // per-instance trace files (ike debug)
};

struct ControldConfig {
  ControldSettings controld;
  std::vector<ConnectionConfig> connections;
};

// Checks a proposal string (true = ESP, false = IKE); "" if valid, else what is wrong. controld
// passes the IKE crypto library's parser; tests may pass their own.
using ProposalCheck = std::function<std::string(std::string_view proposal, bool esp)>;

Status parse_controld_config(std::string_view yaml_text, const std::string& file_name, const ProposalCheck& check,
                             ControldConfig* out);
Status load_controld_config(const std::string& path, const ProposalCheck& check, ControldConfig* out);

// Parses an identity as written in the config (see IkeIdentity); "" or what is wrong.
std::string parse_identity(std::string_view text, IkeIdentity* out);

}  // namespace dpvpn::controld
