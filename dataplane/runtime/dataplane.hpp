#pragma once
// Dataplane: the whole dpvpn-dataplane process as a library — ports, kernel tables, SAs, rings,
// workers and the main thread's housekeeping — so tests can run it in-process.
//
// Threads: worker lcores run Worker::run(); the thread that calls run_main_loop() (the EAL main
// lcore) is the single writer of every table: it learns neighbours, sends held packets, creates
// encryption_requests entries for acquires, ages tables, checks SA lifetimes, and hands punted
// IKE packets and events to the ControlChannel.
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/dataplane_config.hpp"
#include "control/control_channel.hpp"
#include "esp/crypto_engine.hpp"
#include "net/next_hops.hpp"
#include "port/port_info.hpp"
#include "sa/sa_manager.hpp"
#include "tables/kernel_table_set.hpp"
#include "worker/worker.hpp"

struct rte_mempool;
struct rte_ring;

namespace dpvpn::dataplane {

// EAL arguments the config implies (a --vdev per virtual port, -a per PCI port).
std::vector<std::string> eal_args_for(const DataplaneConfig& config);

struct RunLimits {
  uint64_t exit_idle_ms = 0;  // stop after this long without a received packet (0 = never)
  uint64_t duration_ms = 0;   // stop after this long (0 = never)
};

// The neighbours table's state for a static neighbour from the config (`neighbors:`): no expiry,
// and learned ARP / ND never replace it. Workers send to any state but tables::kNeighborIncomplete
// (0); tables::kNeighborReachable (1) is a learned entry.
inline constexpr uint16_t kNeighborPermanent = 2;

class Dataplane {
 public:
  // EAL must be initialized (with eal_args_for(config) among its arguments).
  static Status create(const DataplaneConfig& config, std::unique_ptr<Dataplane>* out);
  ~Dataplane();

  Status start();                         // launches the workers
  void run_main_loop(const RunLimits& limits, const std::atomic<bool>& interrupted);
  void stop();                            // stops and joins the workers
  bool housekeeping_once();               // one pass of the main thread's work; true if it had any
  // SA time lifetimes, and soft/hard expiry events to the control channel (once a second).
  void check_sa_lifetimes();
  // Tests without worker lcores: one poll of every worker, on the calling thread.
  uint32_t poll_workers_once();

  // Writer thread: sends a UDP datagram from one of our addresses, out of the port the routes pick
  // for dst, through the neighbour table (held while ARP / ND resolves it, like forwarded packets).
  // kInvalidArgument: src is not ours, families differ, or the packet exceeds the port's MTU;
  // kNotFound: no route to dst; kResourceExhausted: no mbuf.
  Status send_udp(const IpAddr& src, const IpAddr& dst, uint16_t sport, uint16_t dport,
                  const std::vector<uint8_t>& payload);

  // Runs `task` on the tables' writer thread (the main loop) and returns its result; inline when
  // the caller is that thread or no main loop runs (in-process tests drive housekeeping).
  Status run_on_writer(std::function<Status()> task);

  std::string stats_text() const;
  const DataplaneConfig& config() const { return config_; }
  std::vector<const WorkerCounters*> worker_counters() const;
  uint64_t connections_created() const { return connections_created_; }
  std::string stats_json() const;
  ControlChannel& control() { return control_; }
  tables::KernelTableSet& tables() { return *tables_; }
  SaManager& sas() { return *sa_manager_; }
  const std::vector<PortInfo>& ports() const { return ports_; }
  uint64_t rx_total() const;

 private:
  Dataplane() = default;
  Status init_ports();
  Status init_tables_and_sas();
  Status init_static_neighbors();
  Status init_workers();
  void handle_control_event(ControlEvent& ev);
  void handle_hold(HoldItem& item);
  void learn_neighbor(uint16_t port_index, const IpAddr& addr, const std::array<uint8_t, 6>& mac);
  void solicit(uint16_t port_index, const IpAddr& addr);
  void inject_frame(uint16_t port_index, rte_mbuf* frame);
  void tick_second();

  DataplaneConfig config_;
  rte_mempool* mbufs_ = nullptr;
  std::vector<PortInfo> ports_;
  NextHops next_hops_;
  MonotonicClock clock_;
  std::unique_ptr<tables::RcuDomain> rcu_;
  std::unique_ptr<tables::KernelTableSet> tables_;
  std::unique_ptr<CryptoEngine> key_engine_;  // prepares key schedules on the writer thread
  std::unique_ptr<SaManager> sa_manager_;
  rte_ring* control_ring_ = nullptr;
  rte_ring* hold_ring_ = nullptr;
  std::vector<rte_ring*> inject_rings_;
  std::vector<std::unique_ptr<EspStage>> esp_stages_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<uint64_t> now_seconds_{0};
  std::atomic<bool> stop_{false};
  bool started_ = false;
  ControlChannel control_;
  std::mutex writer_tasks_mutex_;  // control path only: gRPC threads hand work to the writer
  std::deque<std::packaged_task<Status()>> writer_tasks_;
  std::atomic<bool> main_loop_running_{false};
  std::thread::id writer_thread_;

  // Neighbour resolution runs on a steady clock, not the tables' whole seconds: "ask again after
  // 1 s" measured in whole seconds can be 1 ms, and would ask twice in a row.
  using SteadyTime = std::chrono::steady_clock::time_point;
  struct Pending {  // packets waiting for one next hop's MAC (main thread only)
    std::deque<rte_mbuf*> packets;
    SteadyTime last_solicit{};
    SteadyTime first_held{};
  };
  void retry_pending_neighbors();
  std::map<std::pair<uint16_t, IpAddr>, Pending> pending_;
  uint64_t hold_drops_ = 0, neighbors_learned_ = 0, acquires_recorded_ = 0, connections_created_ = 0;
};

}  // namespace dpvpn::dataplane
