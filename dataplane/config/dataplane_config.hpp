#pragma once
// DataplaneConfig: what dpvpn-dataplane's YAML file says, checked and with every name resolved to
// an index (the format is described in dataplane/config/README.md).
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/ip_prefix.hpp"
#include "net/ip_addr.hpp"
#include "sa/sa_params.hpp"
#include "util/status.hpp"

namespace dpvpn::dataplane {

// What a worker does after a poll that found no packets.
enum class IdleMode : uint8_t { kPoll, kPause, kSleep };
enum class CryptoKind : uint8_t { kIpsecMb, kCryptodev };
enum class PortRole : uint8_t { kInside, kOutside };
enum class PolicyAction : uint8_t { kProtect, kBypass };

struct RxQueueRef {
  uint16_t port = 0;  // index into DataplaneConfig::ports
  uint16_t queue = 0;
  friend bool operator==(const RxQueueRef&, const RxQueueRef&) = default;
};

struct WorkerConfig {
  uint32_t lcore = 0;
  std::vector<RxQueueRef> rx;  // in the order written
};

struct PortConfig {
  std::string name;
  std::string device;  // as written: a vdev spec (given to EAL as --vdev) or a PCI address
  bool is_pci = false;
  PortRole role = PortRole::kInside;
  std::vector<IpPrefix> addresses;  // our address on each connected subnet (host bits set)
  std::optional<std::array<uint8_t, 6>> mac;  // nullopt: the device's own MAC
  uint16_t mtu = 1500;
  uint16_t vlan = 0;  // 0 = untagged
  uint16_t rx_queues = 1;
};

struct RouteConfig {
  IpPrefix prefix;  // host bits clear
  IpAddr via;       // on a connected subnet of `port`
  uint16_t port = 0;  // index into ports
};

// A static neighbour: the MAC of a next hop on a port, known without ARP / ND. Installed as a
// permanent entry of the neighbours table (never aged, never solicited, not overwritten by what
// the dataplane learns).
struct NeighborConfig {
  uint16_t port = 0;  // index into ports
  IpAddr address;     // on a connected subnet of `port`, not the port's own address
  std::array<uint8_t, 6> mac{};
};

struct PolicyConfig {
  IpPrefix local;   // inner addresses on our side (host bits clear)
  IpPrefix remote;  // inner addresses on the peer's side
  PolicyAction action = PolicyAction::kProtect;
  int32_t outbound_sa = -1;  // index into sas, -1 = none (bypass)
  int32_t inbound_sa = -1;   // index into sas, -1 = none (bypass, or a one-way tunnel)
};

// The gRPC agent (dataplane/agent/): a unix socket, and optionally TCP with mutual TLS.
struct AgentConfig {
  std::string socket = "/run/dpvpn/dataplane.sock";  // "" = no unix socket
  std::string tcp;                                   // HOST:PORT; "" = no TCP
  std::string tls_cert, tls_key, tls_ca;             // PEM files (paths resolved), set with tcp
};

struct DataplaneConfig {
  std::vector<WorkerConfig> workers;
  IdleMode idle = IdleMode::kPoll;
  uint32_t idle_sleep_us = 100;   // used with IdleMode::kSleep
  uint32_t mbufs = 8191;
  uint32_t replay_window = 1024;  // default for inbound SAs
  CryptoKind crypto = CryptoKind::kIpsecMb;
  std::string crypto_device;      // required with kCryptodev; "" when not given
  std::map<std::string, uint32_t> tables;  // kernel-table capacity overrides by table name
  uint32_t punt_ring = 1024;
  uint32_t hold_queue = 64;

  std::vector<PortConfig> ports;
  std::vector<RouteConfig> routes;
  std::vector<NeighborConfig> neighbors;
  // Complete SAs: replay_window defaulted from dataplane.replay_window, and local_ts/remote_ts
  // filled from every protect policy that names the SA, in policy order.
  std::vector<SaParams> sas;
  std::vector<PolicyConfig> policies;
  AgentConfig agent;
};

// Both answer OK, or kInvalidArgument with "FILE:LINE: what is wrong" for the first problem
// (kNotFound when the file cannot be read). *out is written only on success. Key material never
// appears in a message.
Status load_dataplane_config(const std::string& path, DataplaneConfig* out);
Status parse_dataplane_config(std::string_view yaml_text, const std::string& file_name_for_errors,
                              DataplaneConfig* out);

}  // namespace dpvpn::dataplane
