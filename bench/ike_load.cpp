// dpvpn-ike-load: an IKEv2 load generator for scripts/bench-ike.sh. dpvpn's own IKE engine as the
// initiator of N tunnels (IKE SA + one child SA each, PSK), each from its own address, with at
// most --in-flight setups outstanding, over one kernel UDP socket per port that sends from any
// address of an AnyIP range (`ip route add local 10.100.0.0/16 dev lo`, IP_FREEBIND + IP_PKTINFO).
// Child SAs are only counted (nothing is installed). Prints one line:
//   ike-load: tunnels=N established=E seconds=S setups_per_s=R send_errors=X
// and with --hold-s, after that many seconds of answering the responder (its DPD checks):
//   ike-load-hold: seconds=S held=H            (H: tunnels still ESTABLISHED)
//
//   dpvpn-ike-load --responder 192.0.2.2 --first 10.100.0.1 --tunnels 1000 [--in-flight 128]
//                  [--psk TEXT] [--proposal P] [--esp P] [--child-net 172.16.0.0] [--remote-ts 10.2.0.0/24]
//                  [--timeout-s 120] [--hold-s 0]
//   dpvpn-ike-load --x25519-speed SECONDS: times what a responder's X25519 costs per setup through
//   dpvpn's own DhGroup (key generation + shared secret) and prints
//   x25519-speed: setups=N us_per_setup=U
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "core/ike_udp.hpp"
#include "ike/crypto/dh_group.hpp"
#include "ike/crypto/transforms.hpp"
#include "ike/engine/ike_engine.hpp"

using namespace dpvpn;

namespace {

uint64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1'000'000;
}

// CPU time of this process, as `openssl speed` counts by default: time slices other processes take do not count.
uint64_t cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

IpAddr nth(const IpAddr& first, uint32_t i) { return IpAddr::v4(first.v4_host_order() + i); }

// One IPv4 socket per IKE port, bound to the wildcard address: the source address of each
// datagram is chosen with IP_PKTINFO, the destination of each received one read from it.
class AnyIpSockets final : public ike::PacketSender {
 public:
  bool open() {
    for (uint16_t port : {controld::kIkePort, controld::kNatTPort}) {
      const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
      const int one = 1;
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_port = htons(port);
      if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0 ||
          setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one) != 0 ||
          bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
        std::fprintf(stderr, "ike-load: UDP %u: %s\n", port, std::strerror(errno));
        return false;
      }
      fds_.push_back(fd);
    }
    return true;
  }
  void send(const ike::Datagram& d) override {
    const std::vector<uint8_t> payload = controld::udp_for_ike(d.local.port, d.bytes);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(d.remote.port);
    to.sin_addr.s_addr = htonl(d.remote.address.v4_host_order());
    iovec iov{const_cast<uint8_t*>(payload.data()), payload.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))] = {};
    msghdr msg{};
    msg.msg_name = &to;
    msg.msg_namelen = sizeof to;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo info{};
    info.ipi_spec_dst.s_addr = htonl(d.local.address.v4_host_order());
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
    const int fd = fds_[d.local.port == controld::kIkePort ? 0 : 1];
    if (sendmsg(fd, &msg, 0) < 0) ++send_errors;
  }
  // Every datagram waiting on both sockets, to `engine`.
  void receive_all(ike::IkeEngine& engine) {
    for (size_t i = 0; i < fds_.size(); ++i) {
      const uint16_t port = i == 0 ? controld::kIkePort : controld::kNatTPort;
      for (;;) {
        uint8_t buf[65536];
        sockaddr_in from{};
        iovec iov{buf, sizeof buf};
        alignas(cmsghdr) char control[256];
        msghdr msg{};
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        const ssize_t n = recvmsg(fds_[i], &msg, 0);
        if (n < 0) break;
        IpAddr to;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
          if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo info;
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            to = IpAddr::v4(ntohl(info.ipi_addr.s_addr));
          }
        }
        auto ike = controld::ike_from_udp(port, std::span<const uint8_t>(buf, static_cast<size_t>(n)));
        if (!ike) continue;
        engine.receive({{to, port}, {IpAddr::v4(ntohl(from.sin_addr.s_addr)), ntohs(from.sin_port)}, std::move(*ike)},
                       now_ms());
      }
    }
  }
  const std::vector<int>& fds() const { return fds_; }
  uint64_t send_errors = 0;

 private:
  std::vector<int> fds_;
};

// Counts child SAs as they come up (one per tunnel): the engine "installs" them here.
class CountingInstaller final : public ike::SaInstaller {
 public:
  Status allocate_spi(const IpAddr&, uint32_t* spi) override {
    *spi = next_++;
    return Status::ok();
  }
  Status install(const ike::ChildSaPair& pair) override {
    up.insert(pair.connection);
    return Status::ok();
  }
  Status remove(const ike::ChildSaPair&) override { return Status::ok(); }
  Status install_trap(const std::string&, const std::string&, const ike::ChildSaHalf&) override { return Status::ok(); }
  void ike_sa_changed(const ike::IkeSaRecord&) override {}
  std::set<std::string> up;

 private:
  uint32_t next_ = 0x10000000;
};

// One responder's X25519 per setup, as the engine does it: a fresh key pair, then g^ir with the peer's.
int x25519_speed(double seconds) {
  std::unique_ptr<ike::DhGroup> peer;
  if (!ike::DhGroup::create(ike::dh::kCurve25519, &peer) || !peer->generate()) return 1;
  const uint64_t start = cpu_ns();
  uint64_t setups = 0;
  while (cpu_ns() - start < seconds * 1e9) {
    for (int i = 0; i < 100; ++i, ++setups) {
      std::unique_ptr<ike::DhGroup> ours;
      if (!ike::DhGroup::create(ike::dh::kCurve25519, &ours) || !ours->generate() ||
          !ours->compute_shared(peer->public_value())) {
        return 1;
      }
    }
  }
  std::printf("x25519-speed: setups=%llu us_per_setup=%.2f\n", static_cast<unsigned long long>(setups),
              (cpu_ns() - start) / 1e3 / setups);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dpvpn-ike-load: brings up N IKEv2 tunnels against a responder"};
  std::string responder_text, first_text = "10.100.0.1", psk = "bench-ike-secret", proposal = "aes128gcm16-prfsha256-x25519",
              esp = "aes128gcm16", child_net = "172.16.0.0", remote_ts = "10.2.0.0/24";
  uint32_t tunnels = 1000, in_flight = 128, timeout_s = 120, hold_s = 0;
  double x25519_seconds = 0;
  app.add_option("--responder", responder_text, "the responder's IPv4 address (required for a load run)");
  app.add_option("--x25519-speed", x25519_seconds, "only time X25519 per setup (keygen + derive) for this long");
  app.add_option("--first", first_text, "the first initiator address (an AnyIP range)");
  app.add_option("--tunnels", tunnels, "how many tunnels");
  app.add_option("--in-flight", in_flight, "setups outstanding at most");
  app.add_option("--psk", psk, "the pre-shared key");
  app.add_option("--proposal", proposal, "IKE proposal");
  app.add_option("--esp", esp, "ESP proposal");
  app.add_option("--child-net", child_net, "tunnel i's inner address is this + i (/32)");
  app.add_option("--remote-ts", remote_ts, "the responder's inner network");
  app.add_option("--timeout-s", timeout_s, "give up after");
  app.add_option("--hold-s", hold_s, "then keep the tunnels this long, answering the responder (DPD)");
  CLI11_PARSE(app, argc, argv);
  if (x25519_seconds > 0) return x25519_speed(x25519_seconds);

  const std::optional<IpAddr> responder = IpAddr::parse(responder_text), first = IpAddr::parse(first_text),
                              inner = IpAddr::parse(child_net);
  const size_t slash = remote_ts.find('/');
  const std::optional<IpAddr> remote_net = IpAddr::parse(remote_ts.substr(0, slash));
  if (!responder || !first || !inner || !remote_net || slash == std::string::npos || !responder->is_v4()) {
    std::fprintf(stderr, "ike-load: bad address arguments\n");
    return 2;
  }
  std::vector<controld::ConnectionConfig> connections;
  for (uint32_t i = 0; i < tunnels; ++i) {
    controld::ConnectionConfig c;
    c.name = "t" + std::to_string(i);
    c.local = nth(*first, i);
    c.remote = *responder;
    c.local_id = {controld::IkeIdentity::Type::kIpv4, c.local.to_string(), c.local};
    c.remote_id = {controld::IkeIdentity::Type::kIpv4, c.remote.to_string(), c.remote};
    c.psk.assign(psk.begin(), psk.end());
    c.proposals = {proposal};
    c.rekey_time = 0;
    controld::ChildConfig child;
    child.name = "net";
    child.esp_proposals = {esp};
    child.rekey_time = 0;
    child.local_ts = {IpPrefix{nth(*inner, i), 32}};
    child.remote_ts = {IpPrefix{*remote_net, static_cast<uint8_t>(std::stoi(remote_ts.substr(slash + 1)))}};
    c.children = {child};
    connections.push_back(std::move(c));
  }
  AnyIpSockets sockets;
  if (!sockets.open()) return 1;
  CountingInstaller installer;
  auto log = std::make_shared<spdlog::logger>("load", std::make_shared<spdlog::sinks::null_sink_mt>());
  ike::IkeEngine engine(ike::EngineOptions{0, 1u << 30, 6, 1000}, connections, sockets, installer, log);

  // One pass of the engine: wait (at most 50 ms, the next timer or `until`) for datagrams, hand
  // them over, run the timers.
  std::vector<pollfd> fds;
  for (int fd : sockets.fds()) fds.push_back({fd, POLLIN, 0});
  const auto run_once = [&](uint64_t until) {
    const uint64_t t = now_ms(), due = std::min(engine.next_timer_ms(), until);
    poll(fds.data(), fds.size(), static_cast<int>(due > t ? std::min<uint64_t>(due - t, 50) : 0));
    sockets.receive_all(engine);
    engine.tick(now_ms());
  };
  const uint64_t start = now_ms();
  uint32_t next = 0;
  while (installer.up.size() < tunnels && now_ms() < start + timeout_s * 1000ull) {
    // Keep `in_flight` setups outstanding.
    while (next < tunnels && next - installer.up.size() < in_flight) {
      (void)engine.initiate(connections[next].name, "", now_ms());
      ++next;
    }
    run_once(UINT64_MAX);
  }
  const double seconds = static_cast<double>(now_ms() - start) / 1000.0;
  std::printf("ike-load: tunnels=%u established=%zu seconds=%.2f setups_per_s=%.0f send_errors=%lu\n", tunnels,
              installer.up.size(), seconds, static_cast<double>(installer.up.size()) / seconds,
              static_cast<unsigned long>(sockets.send_errors));
  std::fflush(stdout);  // the bench measures the responder now, before the hold
  if (hold_s > 0) {
    // Holding: the engine keeps answering the responder (its DPD checks) and ticking.
    const uint64_t hold_end = now_ms() + hold_s * 1000ull;
    while (now_ms() < hold_end) run_once(hold_end);
    size_t held = 0;
    for (const ike::TunnelStatus& t : engine.tunnels()) held += t.state == "ESTABLISHED" ? 1 : 0;
    std::printf("ike-load-hold: seconds=%u held=%zu\n", hold_s, held);
  }
  return installer.up.size() == tunnels ? 0 : 1;
}
