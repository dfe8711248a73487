#pragma once
// Supervisor: controld's iked instance processes. Each instance is this same binary, fork+exec'ed
// with `--instance N --ipc-fd 3` (exec, because the parent runs gRPC threads and a forked copy of
// them is unusable), talking to the parent over its own SOCK_SEQPACKET socketpair. An instance
// that dies is logged and restarted after a back-off (100 ms, doubling up to 30 s while it keeps
// dying within 10 s of its start); the others keep running and keep their state.
//
// Threads: start(), on_readable(), reap() and run_timers() belong to the parent's main loop;
// send(), request() and info() may be called from any thread (gRPC, the dataplane reader).
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/ipc_message.hpp"

namespace spdlog {
class logger;
}

namespace dpvpn::controld {

struct SupervisorOptions {
  std::string exe;                 // our own binary (/proc/self/exe at startup)
  uint32_t instances = 1;
  std::string log_level = "info";  // the instances' starting level
  bool no_dataplane = false;
  // --no-dataplane: each instance's UDP sockets (ShardSockets::of), passed on at every (re)start.
  std::vector<std::vector<int>> udp_fds;
};

class Supervisor {
 public:
  // Frames an instance sends on its own (datagrams to send to peers).
  using Handler = std::function<void(uint32_t instance, const ipc::Frame& frame)>;

  Supervisor(SupervisorOptions options, Handler handler, std::shared_ptr<spdlog::logger> log);
  ~Supervisor();  // stops the instances

  // The config every (re)started instance receives first.
  void set_config(ipc::ConfigBody config);
  Status start();
  void stop();  // SIGTERM, then SIGKILL after 2 s

  // ---- main loop ----
  struct PollItem {
    int fd;
    uint32_t instance;
  };
  std::vector<PollItem> poll_items() const;
  void on_readable(uint32_t instance);
  void reap();                               // SIGCHLD: waitpid every dead instance
  int next_timeout_ms(uint64_t now_ms) const;  // until the next restart is due; -1 = none
  void run_timers(uint64_t now_ms);

  // ---- any thread ----
  uint32_t count() const { return options_.instances; }
  // One-way (datagrams, acquires, expiries): kUnavailable if the instance is down or not reading.
  Status send(uint32_t instance, const ipc::Frame& frame, int timeout_ms = 0);
  // A request and its reply (kStatusReply or kResult with the same id).
  Status request(uint32_t instance, ipc::Type type, std::vector<uint8_t> body, std::chrono::milliseconds timeout,
                 ipc::Frame* reply);
  struct Info {
    pid_t pid = 0;       // 0 while down
    uint32_t restarts = 0;
  };
  Info info(uint32_t instance) const;

 private:
  // The parent's end of one instance's socketpair, closed when the last user lets go (a gRPC
  // thread may still be sending while the main loop replaces a dead instance's channel).
  struct Channel {
    int fd;
    explicit Channel(int f) : fd(f) {}
    ~Channel();
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;
  };
  struct Slot {
    pid_t pid = 0;
    std::shared_ptr<Channel> channel;
    uint32_t restarts = 0;
    uint64_t started_ms = 0;
    uint64_t restart_at_ms = 0;  // 0 = not scheduled
    uint64_t backoff_ms = 0;
  };
  struct Pending {
    uint32_t instance = 0;
    bool done = false;
    ipc::Frame reply;
  };
  Status spawn(uint32_t index);  // main loop only; takes mutex_
  void fail_pending(uint32_t instance);  // mutex_ held

  SupervisorOptions options_;
  Handler handler_;
  std::shared_ptr<spdlog::logger> log_;
  mutable std::mutex mutex_;
  std::condition_variable replied_;
  std::vector<Slot> slots_;
  ipc::ConfigBody config_;
  uint32_t next_id_ = 1;
  std::map<uint32_t, Pending*> pending_;
  bool stopping_ = false;
};

}  // namespace dpvpn::controld
