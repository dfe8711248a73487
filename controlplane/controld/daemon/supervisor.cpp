#include "daemon/supervisor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "core/ipc_channel.hpp"
#include "instance/instance.hpp"

namespace dpvpn::controld {

namespace {

constexpr uint64_t kFirstBackoffMs = 100, kMaxBackoffMs = 30000;
constexpr uint64_t kStableMs = 10000;  // an instance that lived this long restarts at once next time
constexpr int kConfigSendMs = 2000;
constexpr int kChildFd = 3;

std::string exit_text(int status) {
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "stopped";
}

}  // namespace

Supervisor::Supervisor(SupervisorOptions options, Handler handler, std::shared_ptr<spdlog::logger> log)
    : options_(std::move(options)), handler_(std::move(handler)), log_(std::move(log)), slots_(options_.instances) {}

Supervisor::~Supervisor() { stop(); }

Supervisor::Channel::~Channel() { close(fd); }

void Supervisor::set_config(ipc::ConfigBody config) {
  std::lock_guard lock(mutex_);
  config_ = std::move(config);
}

Status Supervisor::start() {
  for (uint32_t i = 0; i < options_.instances; ++i) {
    if (Status s = spawn(i); !s) return s;
  }
  return Status::ok();
}

Status Supervisor::spawn(uint32_t index) {
  int fds[2];
  if (!ipc::make_socket_pair(fds)) return {StatusCode::kInternal, std::string("socketpair: ") + strerror(errno)};
  // Everything the child needs is built before fork: between fork and exec only async-signal-safe calls.
  const std::string index_text = std::to_string(index), fd_text = std::to_string(kChildFd);
  std::vector<std::string> args = {options_.exe, "--instance", index_text, "--ipc-fd", fd_text,
                                   "--log-level", options_.log_level};
  if (options_.no_dataplane) args.push_back("--no-dataplane");
  const std::vector<int> udp_fds = index < options_.udp_fds.size() ? options_.udp_fds[index] : std::vector<int>{};
  for (int fd : udp_fds) {
    args.push_back("--udp-fd");
    args.push_back(std::to_string(fd));
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  sigset_t none;
  sigemptyset(&none);

  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return {StatusCode::kInternal, std::string("fork: ") + strerror(errno)};
  }
  if (pid == 0) {
    // The parent blocks signals for its signalfd; the mask survives exec, so clear it.
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (fds[1] == kChildFd) {
      fcntl(kChildFd, F_SETFD, 0);
    } else if (dup2(fds[1], kChildFd) < 0) {  // dup2's copy is not close-on-exec
      _exit(127);
    }
    for (int fd : udp_fds) fcntl(fd, F_SETFD, 0);  // this instance's sockets survive the exec
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  ipc::set_nonblocking(fds[0]);
  std::unique_lock lock(mutex_);
  Slot& slot = slots_[index];
  slot.pid = pid;
  slot.channel = std::make_shared<Channel>(fds[0]);
  slot.started_ms = monotonic_ms();
  slot.restart_at_ms = 0;
  const ipc::Frame config{ipc::Type::kConfig, 0, ipc::encode_config(config_)};
  lock.unlock();
  if (Status s = ipc::send_frame(fds[0], config, kConfigSendMs); !s) {
    log_->error("iked {}: cannot send the config: {}", index, s.message());
  }
  log_->info("iked {} started (pid {})", index, pid);
  return Status::ok();
}

std::vector<Supervisor::PollItem> Supervisor::poll_items() const {
  std::lock_guard lock(mutex_);
  std::vector<PollItem> out;
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].channel) out.push_back({slots_[i].channel->fd, i});
  }
  return out;
}

void Supervisor::on_readable(uint32_t instance) {
  std::shared_ptr<Channel> channel;
  {
    std::lock_guard lock(mutex_);
    channel = slots_[instance].channel;
  }
  if (!channel) return;
  for (;;) {
    ipc::Frame frame;
    const ipc::ReadResult r = ipc::read_frame(channel->fd, &frame);
    if (r == ipc::ReadResult::kNone || r == ipc::ReadResult::kClosed) return;  // death comes through SIGCHLD
    if (r == ipc::ReadResult::kBad) {
      log_->warn("iked {}: unreadable message", instance);
      continue;
    }
    if (frame.type == ipc::Type::kStatusReply || frame.type == ipc::Type::kResult) {
      std::lock_guard lock(mutex_);
      auto it = pending_.find(frame.id);
      if (it != pending_.end() && it->second->instance == instance) {
        it->second->reply = std::move(frame);
        it->second->done = true;
        pending_.erase(it);
        replied_.notify_all();
      }
      continue;
    }
    handler_(instance, frame);
  }
}

void Supervisor::fail_pending(uint32_t instance) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second->instance != instance) {
      ++it;
      continue;
    }
    it->second->reply = {ipc::Type::kResult, it->first,
                         ipc::encode_result({StatusCode::kUnavailable, "iked " + std::to_string(instance) + " died"})};
    it->second->done = true;
    it = pending_.erase(it);
  }
  replied_.notify_all();
}

void Supervisor::reap() {
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    std::lock_guard lock(mutex_);
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      Slot& slot = slots_[i];
      if (slot.pid != pid) continue;
      slot.channel.reset();
      slot.pid = 0;
      fail_pending(i);
      if (stopping_) break;
      const uint64_t now = monotonic_ms();
      const bool stable = now - slot.started_ms >= kStableMs;
      slot.backoff_ms = stable || slot.backoff_ms == 0 ? kFirstBackoffMs : std::min(slot.backoff_ms * 2, kMaxBackoffMs);
      slot.restart_at_ms = now + slot.backoff_ms;
      log_->error("iked {} (pid {}) {}; restarting in {} ms", i, pid, exit_text(status), slot.backoff_ms);
      break;
    }
  }
}

int Supervisor::next_timeout_ms(uint64_t now_ms) const {
  std::lock_guard lock(mutex_);
  int best = -1;
  for (const Slot& slot : slots_) {
    if (slot.restart_at_ms == 0) continue;
    const int left = slot.restart_at_ms <= now_ms ? 0 : static_cast<int>(slot.restart_at_ms - now_ms);
    if (best < 0 || left < best) best = left;
  }
  return best;
}

void Supervisor::run_timers(uint64_t now_ms) {
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || slots_[i].restart_at_ms == 0 || slots_[i].restart_at_ms > now_ms) continue;
      ++slots_[i].restarts;
    }
    if (Status s = spawn(i); !s) {
      log_->error("iked {}: restart failed: {}", i, s.message());
      std::lock_guard lock(mutex_);
      slots_[i].restart_at_ms = now_ms + kMaxBackoffMs;
    }
  }
}

Status Supervisor::send(uint32_t instance, const ipc::Frame& frame, int timeout_ms) {
  std::shared_ptr<Channel> channel;
  {
    std::lock_guard lock(mutex_);
    if (instance >= slots_.size()) return {StatusCode::kNotFound, "no iked " + std::to_string(instance)};
    channel = slots_[instance].channel;
  }
  if (!channel) return {StatusCode::kUnavailable, "iked " + std::to_string(instance) + " is restarting"};
  // A record is sent whole or not at all, so concurrent senders cannot interleave.
  return ipc::send_frame(channel->fd, frame, timeout_ms);
}

Status Supervisor::request(uint32_t instance, ipc::Type type, std::vector<uint8_t> body,
                           std::chrono::milliseconds timeout, ipc::Frame* reply) {
  Pending pending;
  pending.instance = instance;
  uint32_t id;
  {
    std::lock_guard lock(mutex_);
    if (instance >= slots_.size()) return {StatusCode::kNotFound, "no iked " + std::to_string(instance)};
    id = next_id_++;
    if (next_id_ == 0) next_id_ = 1;
    pending_[id] = &pending;
  }
  if (Status s = send(instance, {type, id, std::move(body)}, static_cast<int>(timeout.count())); !s) {
    std::lock_guard lock(mutex_);
    pending_.erase(id);
    return s;
  }
  std::unique_lock lock(mutex_);
  if (!replied_.wait_for(lock, timeout, [&] { return pending.done; })) {
    pending_.erase(id);
    return {StatusCode::kUnavailable, "iked " + std::to_string(instance) + " did not answer in time"};
  }
  *reply = std::move(pending.reply);
  return Status::ok();
}

Supervisor::Info Supervisor::info(uint32_t instance) const {
  std::lock_guard lock(mutex_);
  if (instance >= slots_.size()) return {};
  return {slots_[instance].pid, slots_[instance].restarts};
}

void Supervisor::stop() {
  std::vector<pid_t> pids;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (Slot& slot : slots_) {
      if (slot.pid > 0) pids.push_back(slot.pid);
      slot.channel.reset();  // EOF: the instance exits on its own
      slot.restart_at_ms = 0;
    }
    for (uint32_t i = 0; i < slots_.size(); ++i) fail_pending(i);
  }
  for (pid_t pid : pids) kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (pid_t pid : pids) {
    for (;;) {
      if (waitpid(pid, nullptr, WNOHANG) != 0) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::lock_guard lock(mutex_);
  for (Slot& slot : slots_) slot.pid = 0;
}

}  // namespace dpvpn::controld
