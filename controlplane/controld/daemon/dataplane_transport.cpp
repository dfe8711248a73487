#include "daemon/dataplane_transport.hpp"

#include <spdlog/spdlog.h>

#include "core/ike_udp.hpp"
#include "core/proto_util.hpp"

namespace dpvpn::controld {

namespace {

constexpr size_t kMaxQueued = 4096;  // beyond this a datagram is dropped (IKE retransmits)
constexpr std::chrono::seconds kReconnect{1};
constexpr std::chrono::seconds kInjectTimeout{2};

}  // namespace

DataplaneTransport::DataplaneTransport(std::shared_ptr<v1::Dataplane::StubInterface> stub, TransportEvents events,
                                       std::shared_ptr<spdlog::logger> log)
    : stub_(std::move(stub)), events_(std::move(events)), log_(std::move(log)) {
  reader_ = std::thread([this] { read_events(); });
  sender_ = std::thread([this] { send_loop(); });
}

DataplaneTransport::~DataplaneTransport() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    if (events_context_ != nullptr) events_context_->TryCancel();
  }
  wake_.notify_all();
  reader_.join();
  sender_.join();
}

void DataplaneTransport::dispatch(const v1::Event& event) {
  switch (event.type()) {
    case v1::Event::IKE_PACKET: {
      const std::string& f = event.frame();
      auto d = datagram_from_frame(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(f.data()), f.size()));
      if (d) events_.datagram(*d);
      return;
    }
    case v1::Event::ACQUIRE: {
      ipc::AcquireBody body;
      auto src = from_proto(event.src()), dst = from_proto(event.dst()), gateway = from_proto(event.gateway());
      if (!src || !dst || !gateway) return;
      body.src = *src;
      body.dst = *dst;
      body.gateway = *gateway;
      events_.acquire(body);
      return;
    }
    case v1::Event::SA_SOFT_EXPIRE:
    case v1::Event::SA_HARD_EXPIRE:
      events_.expire({event.spi(), event.type() == v1::Event::SA_HARD_EXPIRE});
      return;
    default:
      return;
  }
}

void DataplaneTransport::read_events() {
  for (;;) {
    grpc::ClientContext context;
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
      events_context_ = &context;
    }
    auto reader = stub_->Events(&context, v1::EventsRequest());
    v1::Event event;
    while (reader->Read(&event)) dispatch(event);
    const grpc::Status status = reader->Finish();
    std::unique_lock lock(mutex_);
    events_context_ = nullptr;
    if (stop_) return;
    log_->warn("dataplane events: {} ({}); reconnecting", status.error_message(), static_cast<int>(status.error_code()));
    wake_.wait_for(lock, kReconnect, [this] { return stop_; });
  }
}

void DataplaneTransport::send(const ike::Datagram& datagram) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kMaxQueued) {
      log_->warn("inject queue full: datagram to {} dropped", datagram.remote.address.to_string());
      return;
    }
    queue_.push_back(datagram);
  }
  wake_.notify_all();
}

void DataplaneTransport::send_loop() {
  for (;;) {
    ike::Datagram d;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      d = std::move(queue_.front());
      queue_.pop_front();
    }
    v1::InjectRequest request;
    v1::RoutedUdp& udp = *request.mutable_udp();
    to_proto(d.local.address, udp.mutable_src());
    to_proto(d.remote.address, udp.mutable_dst());
    udp.set_sport(d.local.port);
    udp.set_dport(d.remote.port);
    const std::vector<uint8_t> payload = udp_for_ike(d.local.port, d.bytes);
    udp.set_payload(reinterpret_cast<const char*>(payload.data()), payload.size());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kInjectTimeout);
    v1::InjectReply reply;
    const grpc::Status status = stub_->Inject(&context, request, &reply);
    if (!status.ok()) {
      log_->warn("inject to {}:{}: {}", d.remote.address.to_string(), d.remote.port, status.error_message());
    }
  }
}

}  // namespace dpvpn::controld
