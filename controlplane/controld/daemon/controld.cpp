#include "daemon/controld.hpp"

#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <thread>

#include "core/release_free_memory.hpp"
#include "core/shard.hpp"
#include "daemon/controld_management.hpp"
#include "daemon/dataplane_transport.hpp"
#include "daemon/management_service.hpp"
#include "daemon/supervisor.hpp"
#include "daemon/shard_sockets.hpp"
#include "instance/instance.hpp"
#include "instance/instance_log.hpp"

namespace dpvpn::controld {

namespace {

std::string self_exe() {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).string();
}

// The management socket: only root (our user) may talk to it, from the moment it exists.
std::unique_ptr<grpc::Server> serve_management(const std::string& path, grpc::Service& service, spdlog::logger& log) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  unlink(path.c_str());  // a stale socket from a previous run
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + path, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  const mode_t old = umask(0177);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  umask(old);
  if (server) {
    chmod(path.c_str(), 0600);
    log.info("management API on {}", path);
  }
  return server;
}

}  // namespace

int run_daemon(const DaemonOptions& options) {
  auto log = std::make_shared<spdlog::logger>("controld", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  log->set_level(parse_log_level(options.log_level).value_or(spdlog::level::info));
  log->flush_on(spdlog::level::info);

  LoadedConfig loaded;
  if (Status s = load_config_file(options.config_file, &loaded); !s) {
    log->error("{}", s.message());
    return 1;
  }
  const ControldSettings settings = loaded.config.controld;

  // Signals arrive through a signalfd; blocked before any thread exists, so every thread inherits it.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, sig);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  const int sigfd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);

  std::unique_ptr<Supervisor> supervisor;
  std::unique_ptr<Transport> transport;
  const uint32_t n = settings.ike_instances;

  TransportEvents events;
  events.datagram = [&](const ike::Datagram& d) {
    const uint32_t i = shard_of(d.remote.address, n);
    if (Status s = supervisor->send(i, {ipc::Type::kDatagram, 0, ipc::encode_datagram(d)}); !s) {
      log->debug("datagram from {} for iked {} dropped: {}", d.remote.address.to_string(), i, s.message());
    }
  };
  events.acquire = [&](const ipc::AcquireBody& a) {
    const uint32_t i = shard_of(a.gateway, n);
    if (Status s = supervisor->send(i, {ipc::Type::kAcquire, 0, ipc::encode_acquire(a)}); !s) {
      log->warn("acquire for {} to iked {} dropped: {}", a.gateway.to_string(), i, s.message());
    }
  };
  events.expire = [&](const ipc::ExpireBody& e) {
    // Only the owner knows the SPI; the others ignore it.
    for (uint32_t i = 0; i < n; ++i) (void)supervisor->send(i, {ipc::Type::kExpire, 0, ipc::encode_expire(e)}, 100);
  };

  std::shared_ptr<v1::Dataplane::StubInterface> dataplane;
  ShardSockets udp_sockets;  // --no-dataplane: the instances' own sockets, held open here
  if (options.no_dataplane) {
    if (Status s = ShardSockets::open(settings.listen, n, &udp_sockets); !s) {
      log->error("{}", s.message());
      return 1;
    }
    for (const IpAddr& addr : settings.listen) log->info("listening on {} UDP 500 and 4500", addr.to_string());
  } else {
    auto channel = grpc::CreateChannel("unix:" + settings.dataplane, grpc::InsecureChannelCredentials());
    dataplane = v1::Dataplane::NewStub(channel);
    log->info("dataplane at {}", settings.dataplane);
  }

  SupervisorOptions sup_options;
  sup_options.exe = self_exe();
  sup_options.instances = n;
  sup_options.log_level = options.log_level;
  sup_options.no_dataplane = options.no_dataplane;
  for (uint32_t i = 0; i < n && options.no_dataplane; ++i) sup_options.udp_fds.push_back(udp_sockets.of(i));
  supervisor = std::make_unique<Supervisor>(
      sup_options,
      [&](uint32_t instance, const ipc::Frame& frame) {
        ike::Datagram d;
        if (frame.type != ipc::Type::kDatagram || !ipc::decode_datagram(frame.body, &d)) {
          log->warn("iked {}: unexpected message type {}", instance, static_cast<int>(frame.type));
          return;
        }
        if (transport) transport->send(d);  // (with --no-dataplane, instances send on their own sockets)
      },
      log);
  supervisor->set_config({loaded.file, loaded.text, n});
  if (Status s = supervisor->start(); !s) {
    log->error("{}", s.message());
    return 1;
  }
  release_free_memory();  // the parsed YAML of a large config is garbage now: keep RSS to what we hold
  if (dataplane) transport = std::make_unique<DataplaneTransport>(dataplane, events, log);

  ControldManagement management(*supervisor, loaded, dataplane, log);
  ManagementService service(management);
  std::unique_ptr<grpc::Server> server = serve_management(settings.management_socket, service, *log);
  if (!server) {
    log->error("cannot serve the management API on {}", settings.management_socket);
    return 1;
  }

  std::vector<std::thread> reloads;
  bool running = true;
  while (running) {
    std::vector<pollfd> fds{{sigfd, POLLIN, 0}};
    const std::vector<Supervisor::PollItem> instances = supervisor->poll_items();
    for (const auto& item : instances) fds.push_back({item.fd, POLLIN, 0});
    const std::vector<int> transport_fds = transport ? transport->fds() : std::vector<int>{};
    for (int fd : transport_fds) fds.push_back({fd, POLLIN, 0});
    const int timeout = supervisor->next_timeout_ms(monotonic_ms());
    if (poll(fds.data(), fds.size(), timeout < 0 ? 1000 : timeout) < 0 && errno != EINTR) {
      log->error("poll: {}", strerror(errno));
      break;
    }
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info;
      while (read(sigfd, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGCHLD) {
          supervisor->reap();
        } else if (info.ssi_signo == SIGHUP) {
          // Off the main loop: a reload waits for the instances' answers, which this loop reads.
          reloads.emplace_back([&management, &log] {
            std::string summary;
            const Status s = management.reload(&summary);
            log->info("SIGHUP: {}", s.is_ok() ? summary : s.message());
          });
        } else {
          log->info("signal {}: stopping", info.ssi_signo);
          running = false;
        }
      }
    }
    for (size_t i = 0; i < instances.size(); ++i) {
      if (fds[1 + i].revents != 0) supervisor->on_readable(instances[i].instance);
    }
    for (size_t i = 0; i < transport_fds.size(); ++i) {
      if (fds[1 + instances.size() + i].revents != 0) transport->on_readable(transport_fds[i]);
    }
    supervisor->run_timers(monotonic_ms());
  }

  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  supervisor->stop();  // fails what reloads still wait for
  for (std::thread& t : reloads) t.join();
  transport.reset();
  unlink(settings.management_socket.c_str());
  close(sigfd);
  return 0;
}

}  // namespace dpvpn::controld
