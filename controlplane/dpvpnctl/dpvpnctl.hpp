#pragma once
// dpvpnctl: the operator's CLI over the dataplane's gRPC API (proto/dpvpn/v1/dataplane.proto)
// and dpvpn-controld's Management API (proto/dpvpn/v1/management.proto: tu, ike, config).
//
// Two layers, both usable from tests:
//  - command functions: each takes a Dataplane stub and an output stream, returns a grpc::Status
//    (OK, a server status, or INVALID_ARGUMENT for a bad argument found before any call);
//  - run(): the command line (CLI11), the connection, and the exit code / one-line error
//    ("dpvpnctl: NOT_FOUND: no inbound SA 0x00001001 for 192.0.2.1").
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "dpvpn/v1/dataplane.grpc.pb.h"
#include "dpvpn/v1/management.grpc.pb.h"

namespace dpvpn::ctl {

using Stub = dpvpn::v1::Dataplane::StubInterface;
using ManagementStub = dpvpn::v1::Management::StubInterface;

inline constexpr const char* kDefaultSocket = "/run/dpvpn/dataplane.sock";
inline constexpr const char* kDefaultControldSocket = "/run/dpvpn/controld.sock";

// Per-call settings shared by every command.
struct CallOptions {
  std::chrono::milliseconds timeout{10000};
  bool json = false;  // machine-readable output (protobuf JSON of the reply)
};

// ---- tab ----------------------------------------------------------------------------------------
struct TabArgs {
  std::string table;  // name or numeric ID; empty = every table (summary)
  bool summary = false, formatted = false, unlimited = false, resolve = false;
  uint32_t max_values = 0;
};
grpc::Status cmd_tab(Stub& stub, const TabArgs& args, const CallOptions& call, std::ostream& out);

// ---- sa -----------------------------------------------------------------------------------------
grpc::Status cmd_sa_list(Stub& stub, const CallOptions& call, std::ostream& out);

struct SaShowArgs {
  std::string spi;     // decimal or 0x hex
  std::string local;   // inbound SA: our address
  std::string remote;  // outbound SA: the peer
};
grpc::Status cmd_sa_show(Stub& stub, const SaShowArgs& args, const CallOptions& call, std::ostream& out);

struct SaAddArgs {
  std::string name;
  std::string spi;
  std::string direction;  // in | out (inbound | outbound)
  std::string algorithm;  // aes128gcm | aes256gcm | aes128cbc-sha256 | aes256cbc-sha256 | chacha20poly1305
  std::string key;        // hex; never echoed in messages
  std::string auth_key;   // hex; never echoed in messages
  std::string local, remote;
  bool esn = false, natt = false;
  uint32_t replay_window = 0;
  uint32_t tunnel_id = 0;
  std::vector<std::string> local_ts, remote_ts;  // prefixes
};
// Checks every argument locally (the key is named, never shown) and fills *request.
grpc::Status build_add_sa_request(const SaAddArgs& args, dpvpn::v1::AddSaRequest* request);
grpc::Status cmd_sa_add(Stub& stub, const SaAddArgs& args, const CallOptions& call, std::ostream& out);

struct SaIdArgs {
  std::string spi;
  std::string direction;  // in | out
  std::string address;    // inbound: our local address; outbound: the peer
};
grpc::Status cmd_sa_del(Stub& stub, const SaIdArgs& args, const CallOptions& call, std::ostream& out);

// The esp_sa line of Wireshark's "ESP SAs" table for one SA of a dataplane config file. Keys never
// travel over the API, so they come from the file (`config`), not from the dataplane.
struct SaKeysArgs {
  SaIdArgs id;
  std::string config;
  bool wireshark = false;
};
grpc::Status cmd_sa_keys(const SaKeysArgs& args, std::ostream& out);

// ---- stats --------------------------------------------------------------------------------------
struct StatsArgs {
  bool lcore = false;
  std::vector<std::string> spis;
};
grpc::Status cmd_stats(Stub& stub, const StatsArgs& args, const CallOptions& call, std::ostream& out);

// ---- health -------------------------------------------------------------------------------------
// grpc.health.v1.Health/Check through a generic stub (Debian's libgrpc++-dev ships no generated
// health stubs); a server without the health service is checked with a Stats call instead.
struct HealthArgs {
  std::string service;  // "" = the server as a whole
};
grpc::Status cmd_health(const std::shared_ptr<grpc::ChannelInterface>& channel, const HealthArgs& args,
                        const CallOptions& call, std::ostream& out);

// ---- controld: tu, ike, config (Management API) -------------------------------------------------
struct TlistArgs {
  std::string peer;  // only this peer; empty = every tunnel
};
// One block per IKE SA: peer, connection, instance, state and age; the IKE SPIs, suite and
// endpoints; a table of its child SAs (SPIs in/out, suite, selectors, packets and bytes, age).
grpc::Status cmd_tu_tlist(ManagementStub& stub, const TlistArgs& args, const CallOptions& call, std::ostream& out);
grpc::Status cmd_tu_delete(ManagementStub& stub, const std::string& peer, const CallOptions& call, std::ostream& out);
grpc::Status cmd_tu_up(ManagementStub& stub, const std::string& connection, const std::string& child,
                       const CallOptions& call, std::ostream& out);
grpc::Status cmd_ike_instances(ManagementStub& stub, const CallOptions& call, std::ostream& out);
struct IkeDebugArgs {
  uint32_t instance = 0;
  std::string level;  // trace, debug, info, warn, error, critical, off
  bool truncate = false;
};
grpc::Status cmd_ike_debug(ManagementStub& stub, const IkeDebugArgs& args, const CallOptions& call, std::ostream& out);
grpc::Status cmd_config_reload(ManagementStub& stub, const CallOptions& call, std::ostream& out);

// "42s", "5m02s", "1h02m", "2d03h"
std::string age_text(uint64_t seconds);

// ---- the command line ---------------------------------------------------------------------------
// The dataplane's (tab, sa, stats, health) or controld's (tu, ike, config: socket only).
struct Connection {
  bool controld = false;  // this connection is to dpvpn-controld's management socket
  std::string socket = kDefaultSocket;
  std::string target;  // HOST:PORT: mutual TLS with cert / key / ca
  std::string cert, key, ca;
  // "unix:/run/dpvpn/dataplane.sock" or the TCP target.
  std::string address() const { return target.empty() ? "unix:" + socket : target; }
};

// Makes the channel for a connection; on failure returns null and sets *error (one line).
using ChannelFactory =
    std::function<std::shared_ptr<grpc::Channel>(const Connection& connection, std::string* error)>;
std::shared_ptr<grpc::Channel> make_channel(const Connection& connection, std::string* error);

// Parses argv, runs the command, prints to out / err. Returns the exit code: 0 success, 1 error
// (one line on err: "dpvpnctl: CODE: message").
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        const ChannelFactory& factory = make_channel);

// "NOT_FOUND", "UNAVAILABLE", ...
std::string status_code_name(grpc::StatusCode code);

}  // namespace dpvpn::ctl
