#pragma once
// One iked instance process: an ike::IkeEngine holding the connections whose peer hashes to this
// instance, driven by a poll() loop on its socketpair to the parent (datagrams in and out, acquires,
// expiries, management requests) with the engine's next timer as the timeout. Time is
// CLOCK_MONOTONIC in milliseconds. The first message from the parent is the config file (kConfig).
#include <spdlog/spdlog.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "controld_config.hpp"
#include "core/ipc_message.hpp"
#include "daemon/transport.hpp"
#include "engine/ike_engine.hpp"

namespace dpvpn::controld {

struct InstanceOptions {
  uint32_t index = 0;
  int fd = -1;                  // our end of the socketpair
  bool no_dataplane = false;    // SAs are only recorded and logged
  std::vector<int> udp_fds;     // --no-dataplane: our own sockets (the parent's ShardSockets)
  spdlog::level::level_enum level = spdlog::level::info;
};

uint64_t monotonic_ms();

// Runs until the parent closes the socketpair; the process's exit code.
int run_instance(const InstanceOptions& options);

// The instance's state and its handling of one message, apart from the loop (tests drive it).
class Instance {
 public:
  Instance(const InstanceOptions& options, std::shared_ptr<spdlog::logger> log);
  ~Instance();

  // kConfig / kReload: parses the file's text and (re)builds or reloads the engine.
  Status configure(const ipc::ConfigBody& config, std::string* summary);
  // Handles one frame from the parent; replies (if the frame is a request) go to `reply`.
  void handle(const ipc::Frame& frame, uint64_t now_ms, ipc::Frame* reply, bool* has_reply);
  void tick(uint64_t now_ms);
  uint64_t next_timer_ms() const;
  bool configured() const { return engine_ != nullptr; }
  // The UDP sockets the loop polls, and what to do when one is readable (datagrams to the engine).
  std::vector<int> udp_fds() const;
  void on_udp_readable(int fd, uint64_t now_ms);

 private:
  class Sender;
  ipc::Frame status_reply(uint32_t id, uint64_t now_ms) const;

  InstanceOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<Transport> udp_;  // null: datagrams go through the parent
  uint64_t now_ms_ = 0;              // the time datagrams from udp_ are handed over with
  std::unique_ptr<Sender> sender_;
  std::unique_ptr<ike::SaInstaller> installer_;
  std::unique_ptr<ike::IkeEngine> engine_;
  std::vector<ConnectionConfig> mine_;  // our shard of the config (only: 10 000s of connections add up)
  std::string log_file_;
};

}  // namespace dpvpn::controld
