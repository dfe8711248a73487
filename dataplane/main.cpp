// dpvpn-dataplane [EAL args] -- --config FILE [--exit-idle-ms N] [--duration-ms N] [--stats-json FILE]
//                 [--grpc-socket PATH] [--grpc-tcp HOST:PORT --tls-cert F --tls-key F --tls-ca F]
// The DPDK primary process: ports, kernel tables, static SAs and policies from the config file,
// worker lcores, the main lcore's housekeeping, and the gRPC agent (Dataplane service) for the
// control plane and dpvpnctl. SIGINT/SIGTERM stop it cleanly with final stats.
#include <rte_eal.h>
#include <rte_errno.h>

#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>

#include "config/dataplane_config.hpp"
#include "runtime/dataplane.hpp"
#ifdef DPVPN_WITH_AGENT
#include "agent/agent_server.hpp"
#include "agent/dataplane_backend_impl.hpp"
#endif

namespace {
std::atomic<bool> g_interrupted{false};
void on_signal(int) { g_interrupted.store(true); }
}  // namespace

int main(int argc, char** argv) {
  // EAL arguments come first; the config names the ports, so read it before rte_eal_init.
  int app_start = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      app_start = i;
      break;
    }
  }
  CLI::App app{"dpvpn-dataplane: the DPDK fast path"};
  std::string config_path, stats_json;
  uint64_t exit_idle_ms = 0, duration_ms = 0;
  app.add_option("--config", config_path, "YAML configuration (dataplane/config/README.md)")->required();
  app.add_option("--exit-idle-ms", exit_idle_ms, "exit after this many ms without a received packet (tests)");
  app.add_option("--duration-ms", duration_ms, "exit after this many ms");
  app.add_option("--stats-json", stats_json, "write final counters as JSON to this file");
  // The agent's endpoints come from the config's `agent:` section; these flags override it.
  std::string grpc_socket, grpc_tcp, tls_cert, tls_key, tls_ca;
  app.add_option("--grpc-socket", grpc_socket, "unix socket of the gRPC agent (\"\" = none; default: agent.socket)");
  app.add_option("--grpc-tcp", grpc_tcp, "also listen on HOST:PORT with mutual TLS (default: agent.tcp)");
  app.add_option("--tls-cert", tls_cert, "server certificate (PEM) for --grpc-tcp (default: agent.tls.cert)");
  app.add_option("--tls-key", tls_key, "server key (PEM) for --grpc-tcp (default: agent.tls.key)");
  app.add_option("--tls-ca", tls_ca, "CA (PEM) that client certificates must chain to (default: agent.tls.ca)");
  std::vector<std::string> app_args;
  for (int i = argc - 1; i > app_start; --i) app_args.emplace_back(argv[i]);
  try {
    app.parse(app_args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  dpvpn::dataplane::DataplaneConfig config;
  if (dpvpn::Status s = dpvpn::dataplane::load_dataplane_config(config_path, &config); !s) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 2;
  }
  std::vector<std::string> eal_args(argv, argv + app_start);
  for (const std::string& a : dpvpn::dataplane::eal_args_for(config)) eal_args.push_back(a);
  std::vector<char*> eal_argv;
  for (std::string& a : eal_args) eal_argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "dpvpn-dataplane: rte_eal_init: %s\n", rte_strerror(rte_errno));
    return 1;
  }
  int rc = 0;
  {
    std::unique_ptr<dpvpn::dataplane::Dataplane> dp;
    dpvpn::Status s = dpvpn::dataplane::Dataplane::create(config, &dp);
    if (s) s = dp->start();
#ifdef DPVPN_WITH_AGENT
    std::unique_ptr<dpvpn::dataplane::DataplaneBackendImpl> backend;
    std::unique_ptr<dpvpn::dataplane::AgentServer> agent;
    const auto flag_or = [&](const char* flag, const std::string& value, const std::string& from_config) {
      return app.count(flag) != 0 ? value : from_config;
    };
    dpvpn::dataplane::AgentOptions agent_options = dpvpn::dataplane::agent_options_from(config.agent);
    agent_options.unix_socket = flag_or("--grpc-socket", grpc_socket, agent_options.unix_socket);
    agent_options.tcp_address = flag_or("--grpc-tcp", grpc_tcp, agent_options.tcp_address);
    agent_options.tls_cert = flag_or("--tls-cert", tls_cert, agent_options.tls_cert);
    agent_options.tls_key = flag_or("--tls-key", tls_key, agent_options.tls_key);
    agent_options.tls_ca = flag_or("--tls-ca", tls_ca, agent_options.tls_ca);
    if (s && (!agent_options.unix_socket.empty() || !agent_options.tcp_address.empty())) {
      backend = std::make_unique<dpvpn::dataplane::DataplaneBackendImpl>(*dp);
      s = dpvpn::dataplane::AgentServer::start(agent_options, *backend, &agent);
      if (!s) dp->stop();
    }
#endif
    if (!s) {
      std::fprintf(stderr, "dpvpn-dataplane: %s\n", s.message().c_str());
      rc = 1;
    } else {
      std::signal(SIGINT, on_signal);
      std::signal(SIGTERM, on_signal);
      std::printf("dpvpn-dataplane: %zu ports, %u SAs, %zu worker%s running\n", dp->ports().size(),
                  dp->sas().installed(), config.workers.size(), config.workers.size() == 1 ? "" : "s");
      std::fflush(stdout);
      dp->run_main_loop({exit_idle_ms, duration_ms}, g_interrupted);
#ifdef DPVPN_WITH_AGENT
      if (agent) agent->shutdown();
#endif
      std::printf("%s", dp->stats_text().c_str());
      if (!stats_json.empty()) std::ofstream(stats_json) << dp->stats_json();
    }
  }
  rte_eal_cleanup();
  return rc;
}
