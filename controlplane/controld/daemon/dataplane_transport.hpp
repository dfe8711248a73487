#pragma once
// IKE through the dataplane: a reader thread follows the Dataplane Events stream (punted IKE frames,
// acquires, SA soft/hard expiries; reconnecting after a second when it breaks) and a sender thread
// sends each datagram with a routed Inject (the dataplane picks the port and next hop).
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "daemon/transport.hpp"
#include "dpvpn/v1/dataplane.grpc.pb.h"

namespace spdlog {
class logger;
}

namespace dpvpn::controld {

class DataplaneTransport final : public Transport {
 public:
  DataplaneTransport(std::shared_ptr<v1::Dataplane::StubInterface> stub, TransportEvents events,
                     std::shared_ptr<spdlog::logger> log);
  ~DataplaneTransport() override;  // stops both threads

  void send(const ike::Datagram& datagram) override;

  // The Event -> parent dispatch, apart from the thread (tests feed it events).
  void dispatch(const v1::Event& event);

 private:
  void read_events();
  void send_loop();

  std::shared_ptr<v1::Dataplane::StubInterface> stub_;
  TransportEvents events_;
  std::shared_ptr<spdlog::logger> log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  grpc::ClientContext* events_context_ = nullptr;  // the live Events call, to cancel it
  std::deque<ike::Datagram> queue_;
  std::thread reader_, sender_;
};

}  // namespace dpvpn::controld
