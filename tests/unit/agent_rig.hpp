#pragma once
// For tests of the gRPC agent on a real in-process dataplane: ring ethdevs, the agent on a unix
// socket, the main loop (the tables' writer) on its own thread, the worker polled by the test.
#include <catch2/catch.hpp>
#include <rte_mbuf.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "agent/agent_server.hpp"
#include "agent/dataplane_backend_impl.hpp"
#include "config/dataplane_config.hpp"
#include "ring_dataplane_support.hpp"
#include "runtime/dataplane.hpp"

namespace dpvpn::test {

struct AgentRig {
  RingPort inside, outside;
  std::unique_ptr<dataplane::Dataplane> dp;
  std::unique_ptr<dataplane::DataplaneBackendImpl> backend;
  std::unique_ptr<dataplane::AgentServer> agent;
  std::atomic<bool> stop{false};
  std::thread main_loop;
  rte_mempool* pool = nullptr;
  std::string socket;

  // Ethdev names cannot be reused within a process: each rig gets its own `in` / `out`.
  AgentRig(const std::string& in, const std::string& out, const std::string& config_yaml)
      : inside(in), outside(out),
        socket((std::filesystem::temp_directory_path() / ("dpvpn-agent-" + in + "-" + std::to_string(getpid()) + ".sock")).string()) {
    dataplane::DataplaneConfig config;
    const Status parsed = dataplane::parse_dataplane_config(config_yaml, in + ".yaml", &config);
    INFO(parsed.to_string());
    REQUIRE(parsed.is_ok());
    REQUIRE(dataplane::Dataplane::create(config, &dp).is_ok());
    backend = std::make_unique<dataplane::DataplaneBackendImpl>(*dp);
    dataplane::AgentOptions options;
    options.unix_socket = socket;
    const Status started = dataplane::AgentServer::start(options, *backend, &agent);
    INFO(started.to_string());
    REQUIRE(started.is_ok());
    main_loop = std::thread([this] { dp->run_main_loop({}, stop); });
    pool = rte_pktmbuf_pool_create((in + "_pool").c_str(), 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    REQUIRE(pool != nullptr);
  }
  ~AgentRig() {
    agent->shutdown();
    stop = true;
    main_loop.join();
    dp.reset();
    rte_mempool_free(pool);
  }
  void receive(rte_ring* rx, const std::vector<uint8_t>& frame) { dpvpn::test::receive(pool, rx, frame); }
  // Polls the worker until the main loop has done its part (injects, acquires) too.
  void settle() {
    for (int i = 0; i < 20; ++i) {
      dp->poll_workers_once();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
};

}  // namespace dpvpn::test
