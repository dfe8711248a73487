// dpvpn-bench-sa-push: installs N inbound SAs into a running dpvpn-dataplane over the batched
// SaBatches stream while its worker forwards (encrypts) traffic, and reports installs per second
// and the forwarding rate during the push relative to the rate before it (from the Stats RPC).
//
//   dpvpn-bench-sa-push --socket PATH [--sas 100000] [--batch 1000] [--baseline-ms 2000]
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "dpvpn/v1/dataplane.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

uint64_t encrypted(dpvpn::v1::Dataplane::Stub& stub) {
  grpc::ClientContext ctx;
  dpvpn::v1::StatsRequest req;
  req.add_spi(0xffffffff);  // no SA list: the totals are all we need
  dpvpn::v1::StatsReply reply;
  const grpc::Status s = stub.Stats(&ctx, req, &reply);
  if (!s.ok()) {
    std::fprintf(stderr, "bench-sa-push: Stats: %s\n", s.error_message().c_str());
    std::exit(1);
  }
  return reply.encrypted();
}

double rate(uint64_t packets, Clock::duration d) {
  return static_cast<double>(packets) / std::chrono::duration<double>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket = "/run/dpvpn/dataplane.sock";
  uint32_t total = 100000, batch_size = 1000, baseline_ms = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--socket") socket = argv[i + 1];
    else if (a == "--sas") total = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    else if (a == "--batch") batch_size = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    else if (a == "--baseline-ms") baseline_ms = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: %s --socket PATH [--sas N] [--batch N] [--baseline-ms N]\n", argv[0]);
      return 2;
    }
  }
  auto stub = dpvpn::v1::Dataplane::NewStub(grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));

  // Forwarding before the push.
  const uint64_t e0 = encrypted(*stub);
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(baseline_ms));
  const uint64_t e1 = encrypted(*stub);
  const auto t1 = Clock::now();
  const double before = rate(e1 - e0, t1 - t0);

  // The push: inbound AES-GCM SAs 192.0.2.2 -> 192.0.2.1 with SPIs 0x00100000 + i.
  const char local[4] = {static_cast<char>(192), 0, 2, 1};
  const char remote[4] = {static_cast<char>(192), 0, 2, 2};
  grpc::ClientContext ctx;
  auto stream = stub->SaBatches(&ctx);
  const auto p0 = Clock::now();
  uint32_t installed = 0;
  for (uint32_t first = 0; first < total; first += batch_size) {
    dpvpn::v1::SaBatch batch;
    for (uint32_t i = first; i < std::min(total, first + batch_size); ++i) {
      dpvpn::v1::Sa* sa = batch.add_add()->mutable_sa();
      sa->set_spi(0x00100000u + i);
      sa->set_direction(dpvpn::v1::INBOUND);
      sa->set_algorithm(dpvpn::v1::AES128_GCM);
      std::string key(20, '\0');
      std::memcpy(key.data(), &i, sizeof i);
      sa->set_key(key);
      sa->mutable_local()->set_addr(std::string(local, 4));
      sa->mutable_remote()->set_addr(std::string(remote, 4));
    }
    dpvpn::v1::BatchReply reply;
    if (!stream->Write(batch) || !stream->Read(&reply)) {
      std::fprintf(stderr, "bench-sa-push: stream broke after %u SAs\n", installed);
      return 1;
    }
    if (reply.code() != 0) {
      std::fprintf(stderr, "bench-sa-push: batch at %u refused: %s\n", first, reply.message().c_str());
      return 1;
    }
    installed += static_cast<uint32_t>(reply.sa_index_size());
  }
  stream->WritesDone();
  const grpc::Status finished = stream->Finish();
  const auto p1 = Clock::now();
  const uint64_t e2 = encrypted(*stub);
  if (!finished.ok()) {
    std::fprintf(stderr, "bench-sa-push: %s\n", finished.error_message().c_str());
    return 1;
  }
  const double push_s = std::chrono::duration<double>(p1 - p0).count();
  const double during = rate(e2 - e1, Clock::now() - t1);
  std::printf("%-28s %12s\n", "", "value");
  std::printf("%-28s %12u\n", "SAs installed", installed);
  std::printf("%-28s %12.2f\n", "push seconds", push_s);
  std::printf("%-28s %12.0f\n", "installs per second", installed / push_s);
  std::printf("%-28s %12.3f\n", "forwarding before (Mpps)", before / 1e6);
  std::printf("%-28s %12.3f\n", "forwarding during (Mpps)", during / 1e6);
  std::printf("bench-sa-push: sas=%u installs_per_s=%.0f forwarding_ratio=%.3f\n", installed, installed / push_s,
              before > 0 ? during / before : 0.0);
  return 0;
}
