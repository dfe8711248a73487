// controld's dataplane transport against a fake Dataplane service in-process: punted IKE frames,
// acquires and SA expiries from the Events stream reach the parent's handlers (keepalives and ESP
// do not); datagrams leave as routed Injects with the non-ESP marker on port 4500; a broken Events
// stream is reopened.
#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/ike_udp.hpp"
#include "daemon/dataplane_transport.hpp"

using namespace dpvpn;
using namespace dpvpn::controld;

namespace {

std::string v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return std::string{char(a), char(b), char(c), char(d)}; }

// Ethernet + IPv4 + UDP 4500 -> 4500 from 192.0.2.2 to 192.0.2.1 around `payload`.
std::string punted(const std::string& payload) {
  std::string f(12, '\x02');
  f += std::string("\x08\x00", 2);
  const size_t total = 28 + payload.size();
  f += std::string{0x45, 0, char(total >> 8), char(total), 0, 0, 0x40, 0, 64, 17, 0, 0};
  f += v4(192, 0, 2, 2) + v4(192, 0, 2, 1);
  const size_t ul = 8 + payload.size();
  f += std::string{char(0x11), char(0x94), char(0x11), char(0x94), char(ul >> 8), char(ul), 0, 0};
  return f + payload;
}

class FakeDataplane final : public v1::Dataplane::Service {
 public:
  grpc::Status Events(grpc::ServerContext* context, const v1::EventsRequest*,
                      grpc::ServerWriter<v1::Event>* writer) override {
    std::unique_lock lock(mu);
    ++streams;
    changed.notify_all();
    if (streams == 1) return {grpc::StatusCode::UNAVAILABLE, "restarting"};  // the first stream breaks at once
    for (const v1::Event& e : events) writer->Write(e);
    changed.wait(lock, [&] { return context->IsCancelled() || done; });
    return grpc::Status::OK;
  }
  grpc::Status Inject(grpc::ServerContext*, const v1::InjectRequest* request, v1::InjectReply*) override {
    std::lock_guard lock(mu);
    injects.push_back(*request);
    changed.notify_all();
    return grpc::Status::OK;
  }
  std::mutex mu;
  std::condition_variable changed;
  int streams = 0;
  bool done = false;
  std::vector<v1::Event> events;
  std::vector<v1::InjectRequest> injects;
};

}  // namespace

TEST_CASE("dataplane transport: events in, routed injects out, the stream reopened") {
  FakeDataplane service;
  const std::string ike(40, '\x21');
  {
    v1::Event e;
    e.set_type(v1::Event::IKE_PACKET);
    e.set_frame(punted(std::string(4, '\0') + ike));
    service.events.push_back(e);
    e.set_frame(punted("\xff"));  // NAT-T keepalive: not for the instances
    service.events.push_back(e);
    e.set_frame(punted(std::string("\x00\x00\x10\x01", 4) + ike));  // ESP: not for the instances
    service.events.push_back(e);
    v1::Event a;
    a.set_type(v1::Event::ACQUIRE);
    a.mutable_src()->set_addr(v4(10, 1, 0, 5));
    a.mutable_dst()->set_addr(v4(10, 2, 0, 9));
    a.mutable_gateway()->set_addr(v4(192, 0, 2, 2));
    service.events.push_back(a);
    v1::Event x;
    x.set_type(v1::Event::SA_HARD_EXPIRE);
    x.set_spi(0xc1000001);
    service.events.push_back(x);
  }
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();

  std::mutex mu;
  std::condition_variable seen;
  std::vector<ike::Datagram> datagrams;
  std::vector<ipc::AcquireBody> acquires;
  std::vector<ipc::ExpireBody> expiries;
  TransportEvents events;
  events.datagram = [&](const ike::Datagram& d) {
    std::lock_guard lock(mu);
    datagrams.push_back(d);
    seen.notify_all();
  };
  events.acquire = [&](const ipc::AcquireBody& a) {
    std::lock_guard lock(mu);
    acquires.push_back(a);
    seen.notify_all();
  };
  events.expire = [&](const ipc::ExpireBody& e) {
    std::lock_guard lock(mu);
    expiries.push_back(e);
    seen.notify_all();
  };
  auto log = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>());
  {
    DataplaneTransport transport(v1::Dataplane::NewStub(server->InProcessChannel(grpc::ChannelArguments())), events,
                                 log);
    {
      std::unique_lock lock(mu);
      REQUIRE(seen.wait_for(lock, std::chrono::seconds(10), [&] { return !expiries.empty(); }));
      REQUIRE(datagrams.size() == 1);
      CHECK(datagrams[0].local == ike::Endpoint{*IpAddr::parse("192.0.2.1"), 4500});
      CHECK(datagrams[0].remote == ike::Endpoint{*IpAddr::parse("192.0.2.2"), 4500});
      CHECK(datagrams[0].bytes == std::vector<uint8_t>(ike.begin(), ike.end()));
      REQUIRE(acquires.size() == 1);
      CHECK(acquires[0].gateway == *IpAddr::parse("192.0.2.2"));
      CHECK(acquires[0].dst == *IpAddr::parse("10.2.0.9"));
      CHECK((expiries[0].spi == 0xc1000001 && expiries[0].hard));
    }
    CHECK(service.streams == 2);  // the first stream broke; the transport came back

    ike::Datagram out{{*IpAddr::parse("192.0.2.1"), 4500}, {*IpAddr::parse("192.0.2.2"), 31000},
                      std::vector<uint8_t>(ike.begin(), ike.end())};
    transport.send(out);
    out.local.port = 500;
    out.remote.port = 500;
    transport.send(out);
    {
      std::unique_lock lock(service.mu);
      REQUIRE(service.changed.wait_for(lock, std::chrono::seconds(10), [&] { return service.injects.size() == 2; }));
      const v1::RoutedUdp& u = service.injects[0].udp();
      CHECK(service.injects[0].port().empty());
      CHECK(u.src().addr() == v4(192, 0, 2, 1));
      CHECK(u.dst().addr() == v4(192, 0, 2, 2));
      CHECK((u.sport() == 4500 && u.dport() == 31000));
      CHECK(u.payload() == std::string(4, '\0') + ike);  // the marker on 4500
      CHECK(service.injects[1].udp().payload() == ike);  // none on 500
      service.done = true;
      service.changed.notify_all();
    }
  }  // the transport stops its threads (cancelling the Events call)
  server->Shutdown();
}
