// dpvpnctl's command line: CLI11 subcommands, the connection (unix socket or mutual TLS), and the
// exit code with a one-line error.
#include <CLI/CLI.hpp>

#include <fstream>
#include <sstream>

#include "dpvpnctl.hpp"

namespace dpvpn::ctl {

namespace {

bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return static_cast<bool>(in) || in.eof();
}

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// gRPC's "failed to connect to all addresses; last error: UNKNOWN: unix:/x.sock: Permission denied"
// -> "Permission denied" ("" when the message has another shape).
std::string connect_failure_cause(const std::string& message) {
  const std::string marker = "last error: ";
  size_t at = message.find(marker);
  if (at == std::string::npos) return "";
  at = message.find(": ", at + marker.size());  // after the code name
  if (at == std::string::npos) return "";
  at = message.find(": ", at + 2);  // after the address (addresses hold ':' but never ": ")
  if (at == std::string::npos) return "";
  return message.substr(at + 2);
}

constexpr const char* kKeysHelp =
    "Print an SA's keys as a line of Wireshark's ESP SAs table (the esp_sa file: Edit > Preferences > "
    "Protocols > ESP), so a capture can be decrypted. Keys never travel over the API: QuerySa returns SAs "
    "without them, by design, so this command reads them from the dataplane's config file (--config) and "
    "does not ask the dataplane.";

}  // namespace

std::string status_code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "CODE_" + std::to_string(static_cast<int>(code));
  }
}

std::shared_ptr<grpc::Channel> make_channel(const Connection& connection, std::string* error) {
  if (connection.target.empty()) {
    return grpc::CreateChannel(connection.address(), grpc::InsecureChannelCredentials());
  }
  if (connection.cert.empty() || connection.key.empty() || connection.ca.empty()) {
    *error = "--target needs --cert, --key and --ca (mutual TLS)";
    return nullptr;
  }
  grpc::SslCredentialsOptions tls;
  for (const auto& [option, path, into] : {std::tuple{"--cert", &connection.cert, &tls.pem_cert_chain},
                                            std::tuple{"--key", &connection.key, &tls.pem_private_key},
                                            std::tuple{"--ca", &connection.ca, &tls.pem_root_certs}}) {
    if (!read_file(*path, into)) {
      *error = std::string(option) + ": cannot read " + *path;
      return nullptr;
    }
  }
  return grpc::CreateChannel(connection.target, grpc::SslCredentials(tls));
}

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err, const ChannelFactory& factory) {
  CLI::App app{"dpvpnctl: the dpvpn dataplane and dpvpn-controld from the command line (gRPC). Exit 0 on "
               "success, 1 with a one-line error on stderr otherwise."};
  app.name("dpvpnctl");
  app.require_subcommand(1);
  app.fallthrough();

  Connection conn;
  CallOptions call;
  double timeout_s = 10;
  auto* socket = app.add_option("--socket", conn.socket, "the dataplane's unix socket")->capture_default_str();
  auto* target = app.add_option("--target", conn.target, "HOST:PORT of the dataplane over TCP (mutual TLS)");
  socket->excludes(target);
  std::string controld_socket = kDefaultControldSocket;
  app.add_option("--controld-socket", controld_socket, "dpvpn-controld's management socket (tu, ike, config)")
      ->capture_default_str();
  app.add_option("--cert", conn.cert, "with --target: our client certificate (PEM)");
  app.add_option("--key", conn.key, "with --target: its private key (PEM)");
  app.add_option("--ca", conn.ca, "with --target: the CA that signed the dataplane's certificate (PEM)");
  app.add_option("--timeout", timeout_s, "seconds to wait for an answer")->capture_default_str();
  app.add_flag("--json", call.json, "machine-readable output: the reply as protobuf JSON");

  // tab
  TabArgs tab_args;
  auto* tab = app.add_subcommand("tab", "kernel tables, as `fw tab` shows them (without -t: every table's summary)");
  tab->fallthrough();
  tab->add_option("-t,--table", tab_args.table, "table name or ID");
  tab->add_flag("-s", tab_args.summary, "summary: HOST NAME ID #VALS #PEAK #SLINKS");
  tab->add_flag("-f", tab_args.formatted, "formatted: field names");
  auto* unlimited = tab->add_flag("-u", tab_args.unlimited, "unlimited: every entry");
  auto* max = tab->add_option("-m", tab_args.max_values, "at most N entries");
  unlimited->excludes(max);
  tab->add_flag("-r", tab_args.resolve, "resolve addresses to dotted / colon form");

  // sa
  auto* sa = app.add_subcommand("sa", "IPsec SAs");
  sa->fallthrough();
  sa->require_subcommand(1);
  auto* sa_list = sa->add_subcommand("list", "every SA with its counters (from Stats)");
  sa_list->fallthrough();

  SaShowArgs show_args;
  auto* sa_show = sa->add_subcommand("show", "one SA: parameters (no keys), counters, replay state");
  sa_show->fallthrough();
  sa_show->add_option("spi", show_args.spi, "SPI, decimal or 0x hex")->required();
  auto* show_local = sa_show->add_option("--local", show_args.local, "an inbound SA: our address");
  auto* show_remote = sa_show->add_option("--remote", show_args.remote, "an outbound SA: the peer");
  show_local->excludes(show_remote);

  SaAddArgs add_args;
  auto* sa_add = sa->add_subcommand("add", "install an SA (key material is checked locally and never printed)");
  sa_add->fallthrough();
  sa_add->add_option("--name", add_args.name, "operator's label");
  sa_add->add_option("--spi", add_args.spi, "SPI, decimal or 0x hex")->required();
  sa_add->add_option("--direction", add_args.direction, "in | out")->required();
  sa_add->add_option("--alg", add_args.algorithm,
                     "aes128gcm | aes256gcm | aes128cbc-sha256 | aes256cbc-sha256 | chacha20poly1305")
      ->required();
  sa_add->add_option("--key", add_args.key, "cipher key in hex (AEADs: key + 4-byte salt)")->required();
  sa_add->add_option("--auth-key", add_args.auth_key, "HMAC-SHA-256 key in hex (CBC algorithms)");
  sa_add->add_option("--local", add_args.local, "tunnel endpoint on this gateway")->required();
  sa_add->add_option("--remote", add_args.remote, "the peer gateway")->required();
  sa_add->add_flag("--esn", add_args.esn, "64-bit extended sequence numbers");
  sa_add->add_flag("--natt", add_args.natt, "UDP encapsulation (RFC 3948, port 4500)");
  sa_add->add_option("--replay-window", add_args.replay_window, "inbound: 64..4096, a multiple of 64");
  sa_add->add_option("--tunnel-id", add_args.tunnel_id, "the tunnel the SA belongs to");
  sa_add->add_option("--local-ts", add_args.local_ts, "inner prefix on our side (repeatable; none = any)");
  sa_add->add_option("--remote-ts", add_args.remote_ts, "inner prefix on the peer's side (repeatable; none = any)");

  SaIdArgs del_args;
  auto* sa_del = sa->add_subcommand("del", "delete an SA");
  sa_del->fallthrough();
  sa_del->add_option("spi", del_args.spi, "SPI, decimal or 0x hex")->required();
  sa_del->add_option("--direction", del_args.direction, "in | out")->required();
  sa_del->add_option("--address", del_args.address, "inbound: our local address; outbound: the peer")->required();

  SaKeysArgs keys_args;
  auto* sa_keys = sa->add_subcommand("keys", kKeysHelp);
  sa_keys->fallthrough();
  sa_keys->add_option("spi", keys_args.id.spi, "SPI, decimal or 0x hex")->required();
  sa_keys->add_option("--direction", keys_args.id.direction, "in | out")->required();
  sa_keys->add_option("--address", keys_args.id.address, "inbound: our local address; outbound: the peer")
      ->required();
  sa_keys->add_option("--config", keys_args.config, "the dataplane's config file (YAML) holding the SA's keys")
      ->required();
  sa_keys->add_flag("--wireshark", keys_args.wireshark, "print the Wireshark esp_sa line")->required();

  // stats
  StatsArgs stats_args;
  auto* stats = app.add_subcommand("stats", "ports, totals, drops by reason, SA counters");
  stats->fallthrough();
  stats->add_flag("--lcore", stats_args.lcore, "per worker lcore too");
  stats->add_option("--sa", stats_args.spis, "only this SA (SPI; repeatable)");

  // health
  HealthArgs health_args;
  auto* health = app.add_subcommand(
      "health", "gRPC health check (grpc.health.v1 through a generic stub; a Stats call when the server has none)");
  health->fallthrough();
  health->add_option("--service", health_args.service, "a service name (default: the server as a whole)");

  // tu, ike, config: dpvpn-controld's Management API
  auto* tu = app.add_subcommand("tu", "IKE tunnels (dpvpn-controld)");
  tu->fallthrough();
  tu->require_subcommand(1);
  TlistArgs tlist_args;
  auto* tu_tlist = tu->add_subcommand("tlist", "every IKE SA with its child SAs, SPIs, selectors and counters");
  tu_tlist->fallthrough();
  tu_tlist->add_option("--peer", tlist_args.peer, "only the tunnels with this peer");
  std::string delete_peer;
  auto* tu_delete = tu->add_subcommand("delete", "delete every IKE SA (and its child SAs) with a peer");
  tu_delete->fallthrough();
  tu_delete->add_option("peer", delete_peer, "the peer's address")->required();
  std::string up_connection, up_child;
  auto* tu_up = tu->add_subcommand("up", "bring up a connection's child (an IKE SA first if there is none)");
  tu_up->fallthrough();
  tu_up->add_option("connection", up_connection, "the connection's name in controld's config")->required();
  tu_up->add_option("child", up_child, "the child's name (default: every child)");

  auto* ike = app.add_subcommand("ike", "the iked instances of dpvpn-controld");
  ike->fallthrough();
  ike->require_subcommand(1);
  auto* ike_instances = ike->add_subcommand("instances", "each instance: pid, restarts, peers, IKE SAs, log level");
  ike_instances->fallthrough();
  IkeDebugArgs debug_args;
  auto* ike_debug = ike->add_subcommand("debug", "set one instance's log level (its file: <log_dir>/iked<N>.log)");
  ike_debug->fallthrough();
  ike_debug->add_option("-i,--instance", debug_args.instance, "the instance")->required();
  ike_debug->add_option("--level", debug_args.level, "trace, debug, info, warn, error, critical, off")->required();
  ike_debug->add_flag("--truncate", debug_args.truncate, "start the log file afresh");

  auto* config = app.add_subcommand("config", "dpvpn-controld's configuration");
  config->fallthrough();
  config->require_subcommand(1);
  auto* config_reload = config->add_subcommand("reload", "re-read the config file and apply its connections");
  config_reload->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help
      app.exit(e, out, err);
      return 0;
    }
    err << "dpvpnctl: " << one_line(e.what()) << "\n";
    return 1;
  }
  call.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));

  auto fail = [&err](const grpc::Status& status) {
    err << "dpvpnctl: " << status_code_name(status.error_code()) << ": " << one_line(status.error_message()) << "\n";
    return 1;
  };

  if (sa_keys->parsed()) {  // local: reads the config file, never the dataplane
    grpc::Status status = cmd_sa_keys(keys_args, out);
    return status.ok() ? 0 : fail(status);
  }

  const bool to_controld = tu->parsed() || ike->parsed() || config->parsed();
  if (to_controld) {
    conn = Connection{};
    conn.controld = true;
    conn.socket = controld_socket;
  }
  std::string error;
  std::shared_ptr<grpc::Channel> channel = factory(conn, &error);
  if (!channel) return fail(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, error));
  std::unique_ptr<dpvpn::v1::Dataplane::Stub> stub = dpvpn::v1::Dataplane::NewStub(channel);
  std::unique_ptr<dpvpn::v1::Management::Stub> management = dpvpn::v1::Management::NewStub(channel);

  grpc::Status status;
  if (tu_tlist->parsed()) {
    status = cmd_tu_tlist(*management, tlist_args, call, out);
  } else if (tu_delete->parsed()) {
    status = cmd_tu_delete(*management, delete_peer, call, out);
  } else if (tu_up->parsed()) {
    status = cmd_tu_up(*management, up_connection, up_child, call, out);
  } else if (ike_instances->parsed()) {
    status = cmd_ike_instances(*management, call, out);
  } else if (ike_debug->parsed()) {
    status = cmd_ike_debug(*management, debug_args, call, out);
  } else if (config_reload->parsed()) {
    status = cmd_config_reload(*management, call, out);
  } else if (tab->parsed()) {
    status = cmd_tab(*stub, tab_args, call, out);
  } else if (sa_list->parsed()) {
    status = cmd_sa_list(*stub, call, out);
  } else if (sa_show->parsed()) {
    status = cmd_sa_show(*stub, show_args, call, out);
  } else if (sa_add->parsed()) {
    status = cmd_sa_add(*stub, add_args, call, out);
  } else if (sa_del->parsed()) {
    status = cmd_sa_del(*stub, del_args, call, out);
  } else if (stats->parsed()) {
    status = cmd_stats(*stub, stats_args, call, out);
  } else if (health->parsed()) {
    status = cmd_health(channel, health_args, call, out);
  }
  if (status.ok()) return 0;
  // A channel that never connected: say so plainly instead of gRPC's resolver / connect details.
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE && channel->GetState(false) != GRPC_CHANNEL_READY) {
    std::string message = std::string("cannot reach ") + (conn.controld ? "dpvpn-controld" : "the dataplane") +
                          " at " + conn.address();
    const std::string cause = connect_failure_cause(status.error_message());
    // Nobody listening is the plain message; anything else (permissions, TLS) says why.
    if (!cause.empty() && cause != "No such file or directory" && cause != "Connection refused" &&
        cause.find("Failed to connect to remote host: Connection refused") == std::string::npos) {
      message += ": " + cause;
      if (!conn.target.empty() && cause == "Socket closed") message += " (was our --cert refused by the dataplane?)";
    }
    return fail(grpc::Status(grpc::StatusCode::UNAVAILABLE, message));
  }
  return fail(status);
}

}  // namespace dpvpn::ctl
